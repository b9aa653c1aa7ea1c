package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestTokenEndpoint_CodeGrantRefusalsSayWhatToDo: the code and refresh
// grants' refusals that zitadel's op words ("invalid code", "code_verifier
// required", "invalid code_verifier", "redirect_uri does not correspond",
// "code missing", "refresh_token missing") name the parameter, what was
// expected and, since each but a missing parameter uses the code up, that
// the user must log in again; the audit's reason says the same. Codes and
// statuses are op's. Before, a replayed or expired code said "invalid
// code" alone, while an unknown refresh token said why and what next.
func TestTokenEndpoint_CodeGrantRefusalsSayWhatToDo(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	redeem := func(mods ...func(url.Values)) url.Values {
		code, verifier := f.code(t)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1/callback"}, "code_verifier": {verifier}}
		for _, m := range mods {
			m(form)
		}
		return form
	}
	replayed := redeem()
	if resp, body := f.exchange(t, replayed, basicS1); resp.StatusCode != http.StatusOK {
		t.Fatalf("first redemption: %d %v", resp.StatusCode, body)
	}
	cases := []struct {
		name       string
		form       url.Values
		status     int
		code       string
		want, gone []string
	}{
		{"code missing", url.Values{"grant_type": {"authorization_code"}}, 400, "invalid_request",
			[]string{"code is missing", "authorization response"}, nil},
		{"refresh_token missing", url.Values{"grant_type": {"refresh_token"}}, 400, "invalid_request",
			[]string{"refresh_token is missing"}, nil},
		{"replayed code", replayed, 400, "invalid_grant",
			[]string{"already used", "log in again"}, []string{"invalid code"}},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "code": {"nonsense"}, "code_verifier": {strings.Repeat("a", 43)}}, 400, "invalid_grant",
			[]string{"unknown, expired", "log in again"}, []string{"invalid code"}},
		{"code_verifier missing", redeem(del("code_verifier")), 400, "invalid_request",
			[]string{"code_verifier is missing", "code_challenge", "RFC 7636", "log in again"}, []string{"required"}},
		{"code_verifier wrong", redeem(set("code_verifier", strings.Repeat("b", 43))), 400, "invalid_grant",
			[]string{"code_verifier does not match", "code_challenge", "log in again"}, []string{"invalid code_verifier"}},
		{"redirect_uri missing", redeem(del("redirect_uri")), 400, "invalid_grant",
			[]string{"redirect_uri is missing", "authorization request", "log in again"}, []string{"correspond"}},
		{"redirect_uri other", redeem(set("redirect_uri", "http://localhost/callback")), 400, "invalid_grant",
			[]string{"redirect_uri is not the one", "authorization request", "log in again"}, []string{"correspond"}},
	}
	for _, c := range cases {
		resp, body := f.exchange(t, c.form, basicS1)
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != c.status || body["error"] != c.code {
			t.Errorf("%s: %d %v; want %d %s", c.name, resp.StatusCode, body, c.status, c.code)
		}
		for _, w := range c.want {
			if !strings.Contains(desc, w) {
				t.Errorf("%s: error_description %q does not say %q", c.name, desc, w)
			}
		}
		for _, g := range c.gone {
			if strings.Contains(desc, g) {
				t.Errorf("%s: error_description %q still says %q", c.name, desc, g)
			}
		}
	}
	for _, ev := range f.Audit.Query(audit.Filter{Type: audit.TypeToken, Limit: 100}) {
		for _, old := range []string{"invalid code_verifier", "code_verifier required", "does not correspond"} {
			if strings.Contains(ev.Reason, old) {
				t.Errorf("audit reason %q still says %q", ev.Reason, old)
			}
		}
	}
}
