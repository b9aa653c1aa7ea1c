package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestGrantOfAnotherClientNamesNoUser: a refresh token or code presented
// by a client it was not issued to is refused as another client's (op's
// bare invalid_grant, the generic description), also when its user is
// disabled: the storage's check of the user came before op's of the
// client, and told a client holding another's token that the account is
// disabled, with "user disabled" as the audit's reason.
func TestGrantOfAnotherClientNamesNoUser(t *testing.T) {
	const bob = "  - username: bob\n    password: bob-pw\n    sub: u-bob\n    email: bob@example.com\n    groups: [mkt]\n"
	f := newFixture(t, conformanceConfig(t))
	const callback = "http://127.0.0.1/callback"
	verifier, challenge := pkce()
	res := newBrowser(f.testIdP).authorize(t, authParams(callback, challenge), "bob", "bob-pw")
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no code: %+v", res)
	}
	f.SetConfig(conformanceConfigWith(t, bob, bob+"    disabled: true\n"))
	for grant, form := range map[string]url.Values{
		"refresh": {"grant_type": {"refresh_token"}, "refresh_token": {f.bob.RefreshToken()}},
		"code": {"grant_type": {"authorization_code"}, "code": {res.location.Query().Get("code")},
			"redirect_uri": {callback}, "code_verifier": {verifier}},
	} {
		resp, body := f.exchange(t, form, basic("other-client", "s2"))
		checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		if desc, _ := body["error_description"].(string); strings.Contains(desc, "account") {
			t.Errorf("%s grant of another client's token: error_description %q names the user's account", grant, desc)
		}
		evs := f.Audit.Query(audit.Filter{Type: audit.TypeToken, Limit: 1})
		if len(evs) != 1 || !strings.Contains(evs[0].Reason, "another client") || evs[0].ClientID != "other-client" {
			t.Errorf("%s grant of another client's token: audit %+v, want a reason naming another client, of other-client", grant, evs)
		}
	}
}
