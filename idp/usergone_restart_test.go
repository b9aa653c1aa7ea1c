package idp_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// A user disabled in the configuration file while the IdP was stopped is
// gone from the start on, as one disabled while it ran
// (docs/configuration.md, users[].disabled): enabling them again later
// does not bring back an ID token issued before the stop. Before, the
// start saw the user disabled but recorded nothing, and the
// re-enabling gave the old ID token ID-JAGs again.
func TestUserDisabledWhileStoppedStaysGoneWhenEnabledAgain(t *testing.T) {
	const bob = "  - username: bob\n    password: bob-pw\n    sub: u-bob\n    email: bob@example.com\n    groups: [mkt]\n"
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	clock := &fakeClock{}
	var stop func()
	start := func(cfg *policy.Config) *testIdP {
		t.Helper()
		ts := httptest.NewUnstartedServer(nil)
		ts.Listener.Close()
		l, err := net.Listen("tcp", addr) // the same issuer as before the stop
		if err != nil {
			t.Fatal(err)
		}
		ts.Listener = l
		log, err := audit.Open(audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := idp.New(idp.Options{Config: cfg, Issuer: "http://" + addr, Audit: log, Now: clock.now, StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		ts.Config.Handler = srv
		ts.Start()
		stop = func() { ts.Close(); srv.Close() }
		t.Cleanup(stop)
		return &testIdP{Server: srv, URL: ts.URL, Audit: log, clock: clock}
	}
	// exchange answers 200, or 400 and its error code.
	exchange := func(p *testIdP, idToken string) string {
		t.Helper()
		resp, body := p.postToken(t, b(idToken), basicS1)
		if resp.StatusCode == http.StatusOK {
			return "200"
		}
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("exchange: %d %v, want 200 or 400", resp.StatusCode, body)
		}
		code, _ := body["error"].(string)
		return code
	}

	p := start(conformanceConfig(t))
	old := p.login(t, "mcp-client", "s1", "bob", "bob-pw")
	if code := exchange(p, old.IDToken()); code != "200" {
		t.Fatalf("exchange before the stop: %s", code)
	}
	stop()

	clock.offset += 2 * time.Second // a later second than the login
	p = start(conformanceConfigWith(t, bob, bob+"    disabled: true\n"))
	if code := exchange(p, old.IDToken()); code != "access_denied" {
		t.Errorf("exchange while bob is disabled: %s, want access_denied", code)
	}
	p.SetConfig(conformanceConfig(t))
	if code := exchange(p, old.IDToken()); code != "invalid_grant" {
		t.Errorf("exchange of the ID token from before the stop, once bob is enabled again: %s, want invalid_grant", code)
	}
	fresh := p.login(t, "mcp-client", "s1", "bob", "bob-pw")
	if code := exchange(p, fresh.IDToken()); code != "200" {
		t.Errorf("exchange of a new login's ID token: %s, want 200", code)
	}

	// The record outlives another start with bob enabled.
	stop()
	p = start(conformanceConfig(t))
	if code := exchange(p, old.IDToken()); code != "invalid_grant" {
		t.Errorf("exchange of the old ID token after another start: %s, want invalid_grant", code)
	}
}
