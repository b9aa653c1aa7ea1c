package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/admin"
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

// TestConsole_CSRFRefusalIsAudited: a signed-in admin's form posted with a
// stale or wrong CSRF token (a page of an earlier session, a cross-site
// post that carries the cookie), the sign-out among them, and a change at
// the admin API by the console's session without X-CSRF-Token are
// refused 403 and audited as the admin API's cross-site refusal is: a
// login event, outcome denied, error access_denied, the admin's user and
// sub, details method and path, never the token. Until 2026-12-06 none
// of them left an event.
func TestConsole_CSRFRefusalIsAudited(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	api := func() (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/admin/api/access-requests/none/approve", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		return b.do(req)
	}
	rows := []struct {
		name, path, client string
		send               func() (*http.Response, string)
	}{
		{"stale form", "/admin/servers/tracker/access", web.ClientID, func() (*http.Response, string) {
			return b.post("/admin/servers/tracker/access", assignSales("stale-"+token, etag))
		}},
		{"form without token", "/admin/servers/tracker/access", web.ClientID, func() (*http.Response, string) {
			return b.post("/admin/servers/tracker/access", assignSales("", etag))
		}},
		{"sign-out", "/admin/signout", web.ClientID, func() (*http.Response, string) {
			return b.post("/admin/signout", url.Values{"csrf": {"wrong"}})
		}},
		{"admin API by session", "/admin/api/access-requests/none/approve", admin.AuditClientID, api},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			f := audit.Filter{Type: audit.TypeLogin, User: "alice", Outcome: audit.Denied}
			before := len(p.IdP.Audit().Query(f))
			if resp, body := r.send(); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%d, want 403\n%s", resp.StatusCode, body)
			}
			evs := p.IdP.Audit().Query(f)
			if len(evs) != before+1 {
				t.Fatalf("alice's denied logins: %d, want %d (one for the refusal)", len(evs), before+1)
			}
			ev := evs[0]
			if ev.ClientID != r.client || ev.Error != "access_denied" || ev.Sub == "" || !strings.Contains(ev.Reason, "CSRF") ||
				ev.Details["method"] != http.MethodPost || ev.Details["path"] != r.path {
				t.Errorf("event %+v, want client %s, access_denied, alice's sub, a reason naming the CSRF token, POST %s", ev, r.client, r.path)
			}
			if line, _ := json.Marshal(ev); strings.Contains(string(line), token) {
				t.Errorf("the event holds the session's CSRF token: %s", line)
			}
		})
	}
}
