package push_test

import (
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/push"
)

// TestPush_EveryFailedAttemptNamesItsError: an event_push with outcome error carries an error
// code, as every refusal's event does (docs/audit.md: outcome error, with error holding
// the code), so that a SIEM can count and alert by it without reading the reason's words: a
// failed attempt that is retried is delivery_failed, the last one given_up, and a SET a stop
// without --state-dir loses not_delivered. Until 2026-12-06 these had no error at all (only a SET
// the full queue refused had one, not_queued).
func TestPush_EveryFailedAttemptNamesItsError(t *testing.T) {
	t.Run("retried, then delivered", func(t *testing.T) {
		r := newReceiver(t, 500)
		e := newEnv(t, r.URL)
		p := e.pusher(t, nil)
		_ = p.SessionEnded("00u-bob")
		r.wait(t, 2)
		waitIdle(p)
		checkPushErrors(t, e, "error delivery_failed 500, allowed  202")
	})
	t.Run("given up", func(t *testing.T) {
		r := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500)
		e := newEnv(t, r.URL)
		p := e.pusher(t, func(o *push.Options) { o.GiveUpAfter = time.Nanosecond })
		_ = p.SessionEnded("00u-bob")
		r.wait(t, 1)
		waitIdle(p)
		checkPushErrors(t, e, "error given_up 500")
	})
	t.Run("lost at a stop", func(t *testing.T) {
		r := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500)
		e := newEnv(t, r.URL)
		p := e.pusher(t, func(o *push.Options) { o.FirstRetry = time.Hour })
		_ = p.SessionEnded("00u-bob")
		r.wait(t, 1)
		for deadline := time.Now().Add(60 * time.Second); len(pushEvents(e)) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		}
		p.Close()
		checkPushErrors(t, e, "error delivery_failed 500, error not_delivered ")
	})
}

// checkPushErrors compares the outcome, error and result of every event_push, oldest first.
func checkPushErrors(t *testing.T, e *env, want string) {
	t.Helper()
	var got []string
	for _, ev := range pushEvents(e) {
		res, _ := ev.Details["result"].(string)
		got = append(got, ev.Outcome+" "+ev.Error+" "+res)
	}
	if strings.Join(got, ", ") != want {
		t.Errorf("event_push events (outcome error result): %q, want %q", strings.Join(got, ", "), want)
	}
}
