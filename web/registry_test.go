package web

import (
	"testing"
	"time"
)

func TestRegistry_SessionsExpireAndAreBounded(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r := newRegistry(8*time.Hour, 3)
	r.now = func() time.Time { return now }

	a := r.start()
	now = now.Add(time.Hour)
	b := r.start()
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
		ids = append(ids, r.start())
		now = now.Add(time.Minute)
	}
	d := r.start()
	if len(r.live) != 3 || r.valid(ids[0]) || !r.valid(ids[1]) || !r.valid(d) {
		t.Fatalf("at the bound: %d sessions; want the oldest ended, the others valid", len(r.live))
	}
	now = now.Add(9 * time.Hour)
	r.start()
	if len(r.live) != 1 {
		t.Fatalf("expired sessions not swept: %d held", len(r.live))
	}
}
