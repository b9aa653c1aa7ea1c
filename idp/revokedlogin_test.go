package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
)

// TestRevokedLogin_IDTokenGetsNoIDJAG: a login revoked for theft (its code
// replayed, its refresh token reused after rotation, or revoked at
// /revoke) lost its access and refresh tokens, but its ID token still got
// ID-JAGs at the token exchange until it expired: in EMA the ID token is
// the credential the exchange trusts. Now the exchange refuses every ID
// token of that SSO session issued to that client until the revocation,
// invalid_grant, audited with the reason; the client's login after it, and
// another client's login in the same SSO session, still work.
func TestRevokedLogin_IDTokenGetsNoIDJAG(t *testing.T) {
	chat := func(idToken string) grantCase {
		return grantCase{form: b(idToken), header: basicS1, sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"}
	}
	refused := func(t *testing.T, f *fixture, idToken string) {
		t.Helper()
		f.expectRefusal(t, refusal{form: b(idToken), code: "invalid_grant", outcome: audit.Error, user: "alice",
			after: func(t *testing.T, body map[string]any) {
				if d, _ := body["error_description"].(string); !strings.Contains(d, "revoked") {
					t.Errorf("error_description %q does not say the login was revoked", d)
				}
			}})
		if ev := f.exchangeEvents()[0]; !strings.Contains(ev.Reason, "revoked") {
			t.Errorf("audit reason %q does not say the login was revoked", ev.Reason)
		}
	}
	refresh := func(t *testing.T, f *fixture, rt string) (*http.Response, map[string]any) {
		return f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
	}
	// stillWorks checks, a few seconds later (iat has whole seconds), that
	// another client's login in the browser's SSO session and a new login
	// of the same client get ID-JAGs.
	stillWorks := func(t *testing.T, f *fixture, br *browser) {
		t.Helper()
		f.clock.offset = 2 * time.Second
		defer func() { f.clock.offset = 0 }()
		verifier, challenge := pkce()
		params := authParams(callback, challenge)
		params.Set("client_id", "pub-client")
		res := br.authorize(t, params, "", "")
		if res.loginShown || res.location == nil {
			t.Fatalf("pub-client in the same SSO session: %+v, want a code without the form", res)
		}
		resp, pub := f.exchange(t, url.Values{"grant_type": {"authorization_code"}, "code": {res.location.Query().Get("code")}, "client_id": {"pub-client"},
			"redirect_uri": {callback}, "code_verifier": {verifier}}, noAuth)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("pub-client's code: %d %v", resp.StatusCode, pub)
		}
		f.expectIDJAG(t, grantCase{form: b(pub["id_token"].(string), set("client_id", "pub-client")), header: noAuth,
			sub: "u-alice", aud: chatAS, clientID: "pub-client-at-chat", resource: chatMCP, scope: "chat.read"})
		f.expectIDJAG(t, chat(br.codeTokens(t)["id_token"].(string)))
	}

	t.Run("replayed code", func(t *testing.T) {
		f := &fixture{testIdP: startConformanceIdP(t)}
		br := newBrowser(f.testIdP)
		verifier, challenge := pkce()
		res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw")
		code := res.location.Query().Get("code")
		first := br.redeem(t, code, verifier, http.StatusOK)
		f.remember(first["id_token"])
		f.expectIDJAG(t, chat(first["id_token"].(string)))
		br.redeem(t, code, verifier, http.StatusBadRequest)
		refused(t, f, first["id_token"].(string))
		f.expectRefusal(t, refusal{form: b(first["refresh_token"].(string), set("subject_token_type", typeRefreshToken)), code: "invalid_grant", outcome: audit.Error})
		stillWorks(t, f, br)
		f.checkAuditHasNoTokens(t)
	})

	t.Run("reused refresh token", func(t *testing.T) {
		f := &fixture{testIdP: startConformanceIdP(t)}
		br := newBrowser(f.testIdP)
		tok := br.codeTokens(t)
		f.remember(tok["id_token"])
		resp, rotated := refresh(t, f, tok["refresh_token"].(string))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh: %d %v", resp.StatusCode, rotated)
		}
		resp, body := refresh(t, f, tok["refresh_token"].(string))
		checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		refused(t, f, tok["id_token"].(string))
		if id, ok := rotated["id_token"].(string); ok {
			refused(t, f, id)
		}
		f.expectRefusal(t, refusal{form: b(rotated["refresh_token"].(string), set("subject_token_type", typeRefreshToken)), code: "invalid_grant", outcome: audit.Error})
		stillWorks(t, f, br)
		f.checkAuditHasNoTokens(t)
	})

	t.Run("revoked refresh token", func(t *testing.T) {
		f := &fixture{testIdP: startConformanceIdP(t)}
		br := newBrowser(f.testIdP)
		tok := br.codeTokens(t)
		f.remember(tok["id_token"])
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/revoke", strings.NewReader(url.Values{"token": {tok["refresh_token"].(string)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client", "s1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		refused(t, f, tok["id_token"].(string))
		stillWorks(t, f, br)
		f.checkAuditHasNoTokens(t)
	})
}

// TestRevokedLogin_ForgottenFailClosed: the revoked logins are bounded as
// the ended sessions are, and share their floor: when more logins are
// revoked within an ID token's lifetime than the IdP remembers (an
// attacker revoking their own refresh tokens, to push a victim's revoked
// login out), the exchange refuses every ID token of a session issued
// until the last one was forgotten, rather than take the victim's stolen
// one for live again; a login afterwards still works.
func TestRevokedLogin_ForgottenFailClosed(t *testing.T) {
	defer idp.SetMaxEndedSessions(3)()
	f := &fixture{testIdP: startConformanceIdP(t)}
	revoke := func(rt string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/revoke", strings.NewReader(url.Values{"token": {rt}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client", "s1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
	}
	victim := newBrowser(f.testIdP).codeTokens(t)
	stolen := victim["id_token"].(string)
	revoke(victim["refresh_token"].(string))
	f.expectRefusal(t, refusal{form: b(stolen), code: "invalid_grant", outcome: audit.Error})
	for range 3 { // the attacker's revocations, each of a login in a new session
		revoke(newBrowser(f.testIdP).codeTokens(t)["refresh_token"].(string))
	}
	f.expectRefusal(t, refusal{form: b(stolen), code: "invalid_grant", outcome: audit.Error})
	f.clock.offset = 2 * time.Second // iat has whole seconds: the new token's must be after the floor
	defer func() { f.clock.offset = 0 }()
	fresh := newBrowser(f.testIdP).codeTokens(t)["id_token"].(string)
	f.expectIDJAG(t, grantCase{form: b(fresh), header: basicS1, sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"})
}
