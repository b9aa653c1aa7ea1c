package web

import (
	"testing"
	"time"
)

func TestRegistry_SessionsExpireAndAreBounded(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r := newRegistry(8*time.Hour, 3)
	r.now = func() time.Time { return now }

	a := r.start("")
	now = now.Add(time.Hour)
	b := r.start("")
	if !r.valid(a) || !r.valid(b) || r.valid("") || r.valid("forged") {
		t.Fatal("valid: wrong answer for a live, an empty or an unknown id")
	}
	r.end(b)
	if r.valid(b) {
		t.Fatal("an ended session is still valid")
	}

	now = now.Add(7 * time.Hour) // a is 8 h old
	if r.valid(a) {
		t.Fatal("a session past its Max-Age is valid")
	}

	// Full: expired sessions are swept, then the one expiring soonest goes.
	var ids []string
	for range 3 {
		ids = append(ids, r.start(""))
		now = now.Add(time.Minute)
	}
	d := r.start("")
	if len(r.live) != 3 || r.valid(ids[0]) || !r.valid(ids[1]) || !r.valid(d) {
		t.Fatalf("at the bound: %d sessions; want the oldest ended, the others valid", len(r.live))
	}
	now = now.Add(9 * time.Hour)
	r.start("")
	if len(r.live) != 1 {
		t.Fatalf("expired sessions not swept: %d held", len(r.live))
	}
}

// TestRegistry_FullEndsTheSoonestToExpire: at the bound, the live session
// that expires soonest is ended, whatever order the sessions started in
// (a clock set back) and however many ended or expired before it; never
// an ended one in its place, nor a second one.
func TestRegistry_FullEndsTheSoonestToExpire(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	r := newRegistry(8*time.Hour, 3)
	r.now = func() time.Time { return now }

	gone := r.start("") // expires first, but ended below
	now = now.Add(time.Hour)
	a := r.start("")
	now = now.Add(-30 * time.Minute) // the clock is set back
	b := r.start("")                 // expires before a
	r.end(gone)
	now = now.Add(2 * time.Hour)
	c := r.start("")
	d := r.start("") // full: b goes
	want := map[string]bool{gone: false, a: true, b: false, c: true, d: true}
	for id, ok := range want {
		if r.valid(id) != ok {
			t.Errorf("session %s valid %v, want %v (gone, a, b, c, d = %s %s %s %s %s)", id, !ok, ok, gone, a, b, c, d)
		}
	}
	e := r.start("") // full: a goes
	for id, ok := range map[string]bool{a: false, c: true, d: true, e: true} {
		if r.valid(id) != ok {
			t.Errorf("second eviction: session %s valid %v, want %v", id, !ok, ok)
		}
	}
}

// TestRegistry_SignInsAndOutsStayBounded: sessions started and ended
// without end, as an admin who signs in and out all day, leave the
// registry's order of expiry no larger than its bound allows.
func TestRegistry_SignInsAndOutsStayBounded(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	r := newRegistry(8*time.Hour, 10)
	r.now = func() time.Time { return now }
	keep := r.start("")
	for range 10_000 {
		r.end(r.start(""))
		now = now.Add(time.Millisecond)
	}
	if !r.valid(keep) || len(r.live) != 1 {
		t.Fatalf("%d sessions held, valid(keep) %v; want the one kept", len(r.live), r.valid(keep))
	}
	if n := len(r.byExp); n > 2*r.max+minRebuild {
		t.Errorf("the order of expiry holds %d items for %d sessions", n, len(r.live))
	}
}

// BenchmarkRegistry_StartFull is a console sign-in while the registry
// holds its bound of live sessions: one must end to make room.
func BenchmarkRegistry_StartFull(b *testing.B) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	r := newRegistry(8*time.Hour, maxSessions)
	r.now = func() time.Time { return now }
	for range maxSessions {
		r.start("")
		now = now.Add(time.Millisecond)
	}
	for b.Loop() {
		r.start("")
		now = now.Add(time.Millisecond)
	}
	if len(r.live) != maxSessions {
		b.Fatalf("%d sessions, want %d", len(r.live), maxSessions)
	}
}
