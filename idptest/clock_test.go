package idptest_test

import (
	"testing"
	"time"
)

// TestStartDemoServers_FollowTheIdPClock: the demo servers judge the
// ID-JAGs by the IdP's clock, so that a test that advances it (to expire
// a session, an access entry) still connects: the official Go SDK client
// gets an ID-JAG issued three hours ahead of the wall clock and its
// authorization server takes it.
func TestStartDemoServers_FollowTheIdPClock(t *testing.T) {
	srv, tracker := startDemo(t)
	srv.Clock().Advance(3 * time.Hour)
	if err := connect(t, srv, tracker, "alice", nil); err != nil {
		t.Fatalf("alice, on a clock 3h ahead: %v", err)
	}
}
