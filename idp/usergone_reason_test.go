package idp_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// A code or refresh token refused because its user was disabled or
// removed, now or since the login, says so: to the client a short
// error_description of what the token's holder may know (the user's
// account is disabled, as Okta says it), in the audit event the exact
// reason; both were the long invalid_grant of every cause (unknown,
// expired, revoked, reused, another client's, a restart...).
func TestGrantRefusedForItsUserSaysWhy(t *testing.T) {
	const bob = "  - username: bob\n    password: bob-pw\n    sub: u-bob\n    email: bob@example.com\n    groups: [mkt]\n"
	cases := []struct {
		name         string
		edits        [][2]string
		desc, reason string
	}{
		{"disabled", [][2]string{{bob, bob + "    disabled: true\n"}}, "the user's account is disabled", "user disabled"},
		{"removed", [][2]string{{bob, ""}}, "the user's account no longer exists", "user removed"},
		{"disabled and enabled again", [][2]string{{bob, bob + "    disabled: true\n"}, {"", ""}},
			"the user's account was disabled or removed after this sign-in; sign in again", "user disabled or removed after this login"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, conformanceConfig(t))
			const callback = "http://127.0.0.1/callback"
			verifier, challenge := pkce()
			res := newBrowser(f.testIdP).authorize(t, authParams(callback, challenge), "bob", "bob-pw")
			if res.location == nil || res.location.Query().Get("code") == "" {
				t.Fatalf("no code: %+v", res)
			}
			for _, e := range c.edits {
				if e[0] == "" {
					f.SetConfig(conformanceConfig(t))
				} else {
					f.SetConfig(conformanceConfigWith(t, e[0], e[1]))
				}
			}
			for grant, form := range map[string]url.Values{
				"refresh": {"grant_type": {"refresh_token"}, "refresh_token": {f.bob.RefreshToken()}},
				"code": {"grant_type": {"authorization_code"}, "code": {res.location.Query().Get("code")},
					"redirect_uri": {callback}, "code_verifier": {verifier}},
			} {
				resp, body := f.exchange(t, form, basicS1)
				checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
				if body["error_description"] != c.desc {
					t.Errorf("%s grant: error_description %q, want %q", grant, body["error_description"], c.desc)
				}
				evs := f.Audit.Query(audit.Filter{Type: audit.TypeToken, Limit: 1})
				if len(evs) != 1 || evs[0].Reason != c.reason || evs[0].Sub != "u-bob" {
					t.Errorf("%s grant: audit %+v, want reason %q for u-bob", grant, evs, c.reason)
				}
			}
		})
	}
}
