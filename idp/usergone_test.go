package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// conformanceConfigWith is the conformance configuration with one edit of
// its YAML, parsed afresh so that its indexes are right.
func conformanceConfigWith(t *testing.T, old, new string) *policy.Config {
	t.Helper()
	data, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("testdata/conformance.yaml has no %q", old)
	}
	cfg, err := policy.Parse([]byte(strings.Replace(string(data), old, new, 1)), "conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A user disabled or removed after the login gets no new tokens from the
// code or refresh grant: an invalid_grant, never fresh tokens for a
// disabled user nor a 500 for a removed one.
func TestGrantsRefusedForDisabledOrRemovedUser(t *testing.T) {
	const bob = "  - username: bob\n    password: bob-pw\n    sub: u-bob\n    email: bob@example.com\n    groups: [mkt]\n"
	edits := map[string][2]string{
		"disabled": {bob, bob + "    disabled: true\n"},
		"removed":  {bob, ""},
	}
	for name, edit := range edits {
		t.Run("refresh grant, user "+name, func(t *testing.T) {
			f := newFixture(t, conformanceConfig(t))
			f.SetConfig(conformanceConfigWith(t, edit[0], edit[1]))
			resp, body := f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.bob.RefreshToken()}}, basicS1)
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
			checkRefusedGrantNamesBob(t, f, name)
		})
		t.Run("code grant, user "+name, func(t *testing.T) {
			f := &fixture{testIdP: startIdP(t, conformanceConfig(t))}
			const callback = "http://127.0.0.1/callback"
			verifier, challenge := pkce()
			res := newBrowser(f.testIdP).authorize(t, authParams(callback, challenge), "bob", "bob-pw")
			if res.location == nil || res.location.Query().Get("code") == "" {
				t.Fatalf("no code: %+v", res)
			}
			f.SetConfig(conformanceConfigWith(t, edit[0], edit[1]))
			resp, body := f.exchange(t, url.Values{"grant_type": {"authorization_code"}, "code": {res.location.Query().Get("code")},
				"redirect_uri": {callback}, "code_verifier": {verifier}}, basicS1)
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
			checkRefusedGrantNamesBob(t, f, name)
		})
	}
}

// checkRefusedGrantNamesBob checks the token event of a grant refused
// because bob was disabled or removed: it names him (his username while
// he exists, his sub always), so that ?user= finds it; before, it named
// no one.
func checkRefusedGrantNamesBob(t *testing.T, f *fixture, name string) {
	t.Helper()
	evs := f.Audit.Query(audit.Filter{Type: audit.TypeToken, Limit: 1})
	if len(evs) != 1 || evs[0].Outcome != audit.Error || evs[0].Error != "invalid_grant" {
		t.Fatalf("audit: %+v, want one token event with outcome error, invalid_grant", evs)
	}
	wantUser := "bob"
	if name == "removed" {
		wantUser = ""
	}
	if evs[0].Sub != "u-bob" || evs[0].User != wantUser {
		t.Errorf("the refusal's event names user %q sub %q, want %q and u-bob", evs[0].User, evs[0].Sub, wantUser)
	}
}

// A disabled user's access token no longer answers at userinfo, at the
// user's own endpoints (assigned MCP servers, access requests) and is
// reported inactive by introspection.
func TestAccessTokenOfDisabledUserIsInactive(t *testing.T) {
	const bob = "  - username: bob\n    password: bob-pw\n    sub: u-bob\n    email: bob@example.com\n    groups: [mkt]\n"
	f := newFixture(t, conformanceConfig(t))
	at, _ := f.bob["access_token"].(string)
	f.SetConfig(conformanceConfigWith(t, bob, bob+"    disabled: true\n"))

	req, _ := http.NewRequest(http.MethodGet, f.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("userinfo for a disabled user: %d, want a 4xx refusal", resp.StatusCode)
	}
	for _, path := range []string{"/me/mcp-servers", "/me/access-requests"} {
		req, _ := http.NewRequest(http.MethodGet, f.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_token" ||
			!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s for a disabled user: %d %v, want 401 invalid_token", path, resp.StatusCode, body)
		}
	}

	req, _ = http.NewRequest(http.MethodPost, f.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {at}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("mcp-client", "s1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if body["active"] != false {
		t.Errorf("introspection for a disabled user: %v, want active false", body)
	}
}

// A subject token of a user removed since the login is refused with
// access_denied, and the answer and the audit event say whom they mean:
// the token's sub, since no username is left.
func TestExchange_RemovedUserIsNamedBySub(t *testing.T) {
	const bob = "  - username: bob\n    password: bob-pw\n    sub: u-bob\n    email: bob@example.com\n    groups: [mkt]\n"
	f := newFixture(t, conformanceConfig(t))
	f.SetConfig(conformanceConfigWith(t, bob, ""))
	for _, subject := range []url.Values{b(f.bob.IDToken()), b(f.bob.RefreshToken(), set("subject_token_type", typeRefreshToken))} {
		resp, body := f.exchange(t, subject, basicS1)
		checkOAuthError(t, resp, body, http.StatusBadRequest, "access_denied")
		if d, _ := body["error_description"].(string); !strings.Contains(d, "'u-bob'") {
			t.Errorf("error_description %q does not name the sub u-bob", d)
		}
		ev := f.exchangeEvents()[0]
		if ev.Outcome != audit.Denied || ev.Sub != "u-bob" || !strings.Contains(ev.Reason, "u-bob") {
			t.Errorf("audit event outcome %q sub %q reason %q, want denied, naming u-bob", ev.Outcome, ev.Sub, ev.Reason)
		}
	}
}

// A user disabled or removed, then enabled or added again, does not get
// back the tokens of the logins before: the ID token, refresh token and
// access token of such a login stay refused (their SSO session ended,
// docs/configuration.md, users[].disabled), as after end_session, while a
// new login works, even at the same instant of a frozen clock.
func TestTokensOfDisabledOrRemovedUserStayRefusedWhenReinstated(t *testing.T) {
	const bob = "  - username: bob\n    password: bob-pw\n    sub: u-bob\n    email: bob@example.com\n    groups: [mkt]\n"
	edits := map[string][2]string{
		"disabled": {bob, bob + "    disabled: true\n"},
		"removed":  {bob, ""},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, conformanceConfig(t))
			at, _ := f.bob["access_token"].(string)
			const callback = "http://127.0.0.1/callback"
			br := newBrowser(f.testIdP)
			if res := br.authorize(t, authParams(callback, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), "bob", "bob-pw"); res.location == nil {
				t.Fatalf("bob's browser login: %+v", res)
			}
			// All at one instant, as a script does with a frozen clock:
			// the logins before the change are still told from those after.
			f.Clock().Freeze()
			f.SetConfig(conformanceConfigWith(t, edit[0], edit[1]))
			f.SetConfig(conformanceConfig(t))

			resp, body := f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.bob.RefreshToken()}}, basicS1)
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
			resp, body = f.exchange(t, b(f.bob.IDToken()), basicS1)
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
			resp, body = f.exchange(t, b(f.bob.RefreshToken(), set("subject_token_type", typeRefreshToken)), basicS1)
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")

			req, _ := http.NewRequest(http.MethodGet, f.URL+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+at)
			if resp, err := http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("userinfo with the old access token: %d, want 401", resp.StatusCode)
			}
			req, _ = http.NewRequest(http.MethodGet, f.URL+"/me/mcp-servers", nil)
			req.Header.Set("Authorization", "Bearer "+at)
			if resp, err := http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("/me/mcp-servers with the old access token: %d, want 401", resp.StatusCode)
			}
			req, _ = http.NewRequest(http.MethodPost, f.URL+"/oauth/introspect", strings.NewReader(url.Values{"token": {at}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("mcp-client", "s1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			intro := map[string]any{}
			_ = json.NewDecoder(resp.Body).Decode(&intro)
			resp.Body.Close()
			if intro["active"] != false {
				t.Errorf("introspection of the old access token: %v, want active false", intro)
			}

			if res := br.authorize(t, authParams(callback, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), "", ""); !res.loginShown {
				t.Errorf("the browser's SSO session of before: %+v, want the login form", res)
			}

			// A new login is the user's again.
			fresh := f.loginAs(t, "mcp-client", "s1", "bob", "bob-pw")
			resp, body = f.exchange(t, b(fresh.IDToken()), basicS1)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("exchange of a new login's ID token: %d %v, want 200", resp.StatusCode, body)
			}
		})
	}
}

// A new login of a user disabled and enabled again works when the IdP's
// clock was moved back since (PUT /admin/api/clock), and is then earlier
// than the change: only the logins the user had at the change ended.
func TestNewLoginAfterReinstatingWorksWithTheClockMovedBack(t *testing.T) {
	const bob = "  - username: bob\n    password: bob-pw\n    sub: u-bob\n    email: bob@example.com\n    groups: [mkt]\n"
	f := newFixture(t, conformanceConfig(t))
	f.SetConfig(conformanceConfigWith(t, bob, bob+"    disabled: true\n"))
	f.SetConfig(conformanceConfig(t))
	f.Clock().Set(f.Clock().Now().Add(-time.Hour))

	fresh := f.loginAs(t, "mcp-client", "s1", "bob", "bob-pw")
	resp, body := f.exchange(t, b(fresh.IDToken()), basicS1)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("exchange of the new login's ID token: %d %v, want 200", resp.StatusCode, body)
	}
	resp, body = f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {fresh.RefreshToken()}}, basicS1)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the new login's refresh token: %d %v, want 200", resp.StatusCode, body)
	}
	// The login of before the change still ended.
	resp, body = f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.bob.RefreshToken()}}, basicS1)
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}
