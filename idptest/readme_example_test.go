// This file is the README's example ("Testing your client in CI") from its
// import block on, byte for byte (TestREADMEExample checks), so that the
// example a reader copies compiles and passes.

package idptest_test

import (
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

func TestMyClient(t *testing.T) {
	srv := idptest.New(t)                               // or idptest.New(t, idptest.WithConfigYAML(`...`)), or WithConfig(cfg)
	tracker := srv.StartDemoServers()["tracker"]        // optional: the demo MCP servers and their authorization servers
	tok := srv.Login("alice")                           // a real code + PKCE login; password from the configuration
	jag := srv.IDJAG("alice", "tracker", "issues.read") // log in and exchange, through a client the server lists
	// point your client at srv.Issuer() and tracker.URL
	t.Logf("IdP %s, MCP server %s, ID-JAG %.20s…", srv.Issuer(), tracker.URL, jag)

	srv.InjectFault(policy.Fault{ // the next token exchange for the tracker fails
		Match: policy.FaultMatch{Server: "tracker"},
		Error: policy.FaultError{Code: "temporarily_unavailable"},
		Times: 1,
	})
	if _, err := srv.Exchange(tok, "tracker"); err == nil { // Exchange returns the refusal
		t.Error("the fault did not fire")
	}
	srv.Clock().Advance(2 * time.Hour) // expiry without sleeping (Set, Freeze too)
	if _, err := srv.Exchange(tok, "tracker"); err == nil {
		t.Error("an ID token of two hours ago was exchanged")
	}
	if events := srv.Audit(audit.Filter{Type: audit.TypeTokenExchange}); len(events) != 3 {
		t.Errorf("%d token exchanges in the audit log, want 3", len(events))
	}
}
