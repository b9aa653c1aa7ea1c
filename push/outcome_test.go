package push_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/secevent"
	"github.com/xaa-idp/xaa-idp/push"
)

// attempts lists the push events of e, oldest first, as "outcome result"
// or, with a reason ending in what, the retry or the give-up it says.
func attempts(e *env) []string {
	var got []string
	for _, ev := range pushEvents(e) {
		s := ev.Outcome + " " + ev.Details["result"].(string)
		if ev.Error != "" {
			s += " " + ev.Error
		}
		if i := strings.LastIndex(ev.Reason, ": "); i >= 0 && ev.Outcome != "allowed" {
			s += " (" + ev.Reason[i+2:] + ")"
		}
		got = append(got, s)
	}
	return got
}

// TestPush_RefusedWith400IsNotRetried: a receiver's 400 is its refusal of
// the SET (RFC 8935 section 2.3; docs/audit.md, "event_push"): audited as denied and not
// sent again, though the receiver would take it the second time.
func TestPush_RefusedWith400IsNotRetried(t *testing.T) {
	r := newReceiver(t, 400)
	e := newEnv(t, r.URL)
	p := e.pusher(t, nil)
	_ = p.SessionEnded("00u-bob")
	r.wait(t, 1)
	waitIdle(p)
	if got := strings.Join(attempts(e), ", "); !strings.HasPrefix(got, "denied 400") || strings.Contains(got, ",") || p.Pending() != 0 {
		t.Errorf("attempts %s, pending %d; want the one refusal, not retried", got, p.Pending())
	}
	if n := len(r.wait(t, 0)); n != 1 {
		t.Errorf("the receiver got %d SETs, want 1", n)
	}
}

// TestPush_OnlyA202IsADelivery: RFC 8935 acknowledges a SET with 202
// Accepted; a 200 is not that answer, so the SET is sent again.
func TestPush_OnlyA202IsADelivery(t *testing.T) {
	r := newReceiver(t, 200)
	e := newEnv(t, r.URL)
	p := e.pusher(t, nil)
	_ = p.SessionEnded("00u-bob")
	r.wait(t, 2)
	waitIdle(p)
	if got := strings.Join(attempts(e), ", "); !strings.HasPrefix(got, "error 200 delivery_failed") || !strings.HasSuffix(got, "allowed 202") {
		t.Errorf("attempts %s; want the 200 retried until a 202", got)
	}
}

// TestPush_RetriesBackOffUpToTheMaximum: each failed attempt doubles the
// wait before the next, from FirstRetry up to MaxBackoff and no further.
func TestPush_RetriesBackOffUpToTheMaximum(t *testing.T) {
	r := newReceiver(t, 500, 500, 500, 500)
	e := newEnv(t, r.URL)
	p := e.pusher(t, func(o *push.Options) { o.FirstRetry, o.MaxBackoff = 10*time.Millisecond, 40*time.Millisecond })
	_ = p.SessionEnded("00u-bob")
	r.wait(t, 5)
	waitIdle(p)
	want := "error 500 delivery_failed (failed; retry in 10ms), error 500 delivery_failed (failed; retry in 20ms), " +
		"error 500 delivery_failed (failed; retry in 40ms), error 500 delivery_failed (failed; retry in 40ms), allowed 202"
	if got := strings.Join(attempts(e), ", "); got != want {
		t.Errorf("attempts\n got %s\nwant %s", got, want)
	}
}

// TestPush_GivesUpAfterGiveUpAfter: a SET still undelivered GiveUpAfter
// after it was queued is audited as given up and not sent again.
func TestPush_GivesUpAfterGiveUpAfter(t *testing.T) {
	r := newReceiver(t, 500)
	e := newEnv(t, r.URL)
	p := e.pusher(t, func(o *push.Options) { o.GiveUpAfter = time.Nanosecond })
	_ = p.SessionEnded("00u-bob")
	r.wait(t, 1)
	waitIdle(p)
	if got := strings.Join(attempts(e), ", "); !strings.HasPrefix(got, "error 500 given_up") || strings.Contains(got, ",") || p.Pending() != 0 {
		t.Errorf("attempts %s, pending %d; want the SET given up after its first attempt", got, p.Pending())
	}
	if n := len(r.wait(t, 0)); n != 1 {
		t.Errorf("the receiver got %d SETs, want 1", n)
	}
}

// TestPush_ARetryIsIssuedNowAboutWhatHappenedThen: a SET sent again an
// hour later has that hour's iat, and still the event_timestamp of the
// revocation itself, which the receiver orders events by.
func TestPush_ARetryIsIssuedNowAboutWhatHappenedThen(t *testing.T) {
	var e *env
	later := start.Add(time.Hour)
	bodies := make(chan string, 2)
	var posts atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if posts.Add(1) == 1 {
			e.clock.Set(later) // an hour passes before the retry
			w.WriteHeader(http.StatusServiceUnavailable)
		} else {
			w.WriteHeader(http.StatusAccepted)
		}
		bodies <- string(body)
	}))
	defer rcv.Close()
	e = newEnv(t, rcv.URL)
	p := e.pusher(t, nil)
	_ = p.SessionEnded("00u-bob")
	var claims []secevent.Claims
	for range 2 {
		var set string
		select {
		case set = <-bodies:
		case <-time.After(60 * time.Second):
			t.Fatal("fewer than 2 SETs arrived")
		}
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(set, ".")[1])
		var c secevent.Claims
		if err := json.Unmarshal(payload, &c); err != nil {
			t.Fatal(err)
		}
		claims = append(claims, c)
	}
	for i, want := range []int64{start.Unix(), later.Unix()} {
		c := claims[i]
		if c.IssuedAt != want || c.Events[secevent.SessionRevoked].EventTimestamp != start.Unix() {
			t.Errorf("attempt %d: iat %d, event_timestamp %d; want iat %d, event_timestamp %d (the revocation's)",
				i+1, c.IssuedAt, c.Events[secevent.SessionRevoked].EventTimestamp, want, start.Unix())
		}
	}
	if claims[0].ID != claims[1].ID {
		t.Errorf("the retry has jti %s, the first attempt %s; want the same SET", claims[1].ID, claims[0].ID)
	}
}
