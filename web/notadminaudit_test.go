package web_test

import (
	"net/http"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/web"
)

// TestConsole_NonAdminIsAudited: a user who signs in to the console but
// is not an admin is refused 403, and the refusal is audited as the admin
// API's is: a login event, outcome denied, error access_denied, the user,
// the console's client_id, the reason. Until 2026-12-06 only the IdP's
// allowed login was recorded, which read as a console sign-in.
func TestConsole_NonAdminIsAudited(t *testing.T) {
	p := start(t)
	b := p.browser(t)
	if resp, body := b.signIn("bob", "bob"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("bob: %d, want 403\n%s", resp.StatusCode, body)
	}
	evs := p.IdP.Audit().Query(audit.Filter{Type: audit.TypeLogin, User: "bob", Outcome: audit.Denied})
	if len(evs) != 1 {
		t.Fatalf("bob's denied logins: %+v, want the console's refusal", evs)
	}
	if ev := evs[0]; ev.ClientID != web.ClientID || ev.Error != "access_denied" || ev.Reason != "user is not an admin (admin: true in the configuration)" {
		t.Errorf("event %+v, want client %s, access_denied, the reason", ev, web.ClientID)
	}
}
