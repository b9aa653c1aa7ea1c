package idp_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
)

// TestToken_AuditCommitPanicIsServerError: a panic while the audit log
// commits a token request's event (here in its clock) went up through the
// handler, and the client saw its connection closed; with a file, the
// batch's other appends and every later one hung. The token endpoint now
// answers RFC 6749's server_error, 500, with no token, since the event
// was not made durable, and the next request is served as usual.
func TestToken_AuditCommitPanicIsServerError(t *testing.T) {
	var broken atomic.Bool
	log, err := audit.Open(audit.Options{Now: func() time.Time {
		if broken.Load() {
			panic("injected: the audit log's clock panicked")
		}
		return time.Now()
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, loadConfig(t, "testdata/conformance.yaml"), func(o *idp.Options) { o.Audit = log })
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	form := exchangeForm(idToken)
	form.Set("client_id", "mcp-client")
	form.Set("client_secret", "s1")

	broken.Store(true)
	resp, body := p.postToken(t, form, nil)
	broken.Store(false)
	if resp.StatusCode != http.StatusInternalServerError || body["error"] != "server_error" || body["access_token"] != nil {
		t.Fatalf("an exchange whose audit commit panicked: %d %v, want 500 server_error without a token", resp.StatusCode, body)
	}
	if resp, body := p.postToken(t, form, nil); resp.StatusCode != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("the exchange after: %d %v, want an ID-JAG", resp.StatusCode, body)
	}
}
