package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawBasicConfig is the conformance fixture with clients whose client_id
// and secret hold the characters form-URL-encoding changes ('+' and '%'),
// and a pair "a+b" / "a b" where the decoded id names a client of its own.
func rawBasicConfig(t *testing.T) string {
	t.Helper()
	return conformanceWithClients(t, `  - client_id: svc+one
    client_secret: p+q
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  - client_id: tenant%2Fsvc
    client_secret: s%2F3
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  - client_id: a+b
    client_secret: plus-secret
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  - client_id: a b
    client_secret: space-secret
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
`, "      svc+one: svc-one-at-chat\n      tenant%2Fsvc: tenant-svc-at-chat\n      a+b: a-plus-b-at-chat\n      a b: a-space-b-at-chat\n")
}

// conformanceWithClients writes the conformance fixture with clients (YAML
// list items) before mcp-client and atChat (lines of chat's client_ids
// map) after mcp-client's, and returns the file's name.
func conformanceWithClients(t *testing.T, clients, atChat string) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(raw), "clients:\n  - client_id: mcp-client\n", "clients:\n"+clients+"  - client_id: mcp-client\n", 1)
	s = strings.Replace(s, "      mcp-client: mcp-client-at-chat\n", "      mcp-client: mcp-client-at-chat\n"+atChat, 1)
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestBasic_UnencodedClientIDAndSecret: RFC 6749 section 2.3.1 has the
// client form-URL-encode client_id and secret before Basic; some send them
// as they are. A client_id (or secret) holding '+' or '%' then decodes to
// another value: the decoded one is taken first, and when it names no
// client, the value as sent, if that names one. Every endpoint that takes
// Basic does so (the token exchange, the code and refresh grants,
// introspection, revocation). The value as sent never authenticates
// another client than the decoded one names: "a+b" is "a b" when there is
// such a client.
func TestBasic_UnencodedClientIDAndSecret(t *testing.T) {
	p := startIdP(t, loadConfig(t, rawBasicConfig(t)))
	f := &fixture{testIdP: p}
	t.Cleanup(func() { f.checkAuditHasNoTokens(t) })

	for _, c := range []struct{ id, secret, audClient string }{
		{"svc+one", "p+q", "svc-one-at-chat"},
		{"tenant%2Fsvc", "s%2F3", "tenant-svc-at-chat"},
	} {
		t.Run(c.id, func(t *testing.T) {
			raw := basicRaw(c.id, c.secret)
			// The code grant, as the client sends it.
			br := newBrowser(p)
			verifier, challenge := pkce()
			params := authParams(callback, challenge)
			params.Set("client_id", c.id)
			res := br.authorize(t, params, "alice", "alice-pw")
			if res.location == nil || res.location.Query().Get("code") == "" {
				t.Fatalf("no code: %+v", res)
			}
			resp, tok := f.exchange(t, url.Values{"grant_type": {"authorization_code"}, "code": {res.location.Query().Get("code")},
				"redirect_uri": {callback}, "code_verifier": {verifier}}, raw)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("code grant with unencoded Basic: %d %v", resp.StatusCode, tok)
			}
			// The refresh grant.
			resp, tok = f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, raw)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("refresh grant with unencoded Basic: %d %v", resp.StatusCode, tok)
			}
			// The token exchange.
			f.expectIDJAG(t, grantCase{form: b(tok["id_token"].(string)), header: raw, sub: "u-alice", aud: chatAS, clientID: c.audClient, resource: chatMCP, scope: "chat.read"})
			// Introspection.
			if got := postJSON(t, p.URL+"/oauth/introspect", url.Values{"token": {tok["access_token"].(string)}}, raw, http.StatusOK); got["active"] != true || got["client_id"] != c.id {
				t.Errorf("introspection with unencoded Basic: %v, want the token active, of %s", got, c.id)
			}
			// Encoded as RFC 6749 says, it works as before.
			f.expectIDJAG(t, grantCase{form: b(tok["id_token"].(string)), header: basic(c.id, c.secret), sub: "u-alice", aud: chatAS, clientID: c.audClient, resource: chatMCP, scope: "chat.read"})
			// Revocation: the login's refresh token, and its ID token at
			// the exchange with it.
			postJSON(t, p.URL+"/revoke", url.Values{"token": {tok["refresh_token"].(string)}, "token_type_hint": {"refresh_token"}}, raw, http.StatusOK)
			resp, body := f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, raw)
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
			resp, body = f.exchange(t, b(tok["id_token"].(string)), raw)
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		})
	}

	// "a+b" sent as it is decodes to "a b", a client of its own: it is
	// that client, and a+b's secret does not authenticate it.
	alice := f.login(t, "a+b", "plus-secret", "alice", "alice-pw", "openid").IDToken()
	f.remember(alice)
	resp, body := f.exchange(t, b(alice), basicRaw("a+b", "plus-secret"))
	checkOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	postJSON(t, p.URL+"/oauth/introspect", url.Values{"token": {"x"}}, basicRaw("a+b", "plus-secret"), http.StatusUnauthorized)
	postJSON(t, p.URL+"/revoke", url.Values{"token": {"x"}}, basicRaw("a+b", "plus-secret"), http.StatusUnauthorized)
	resp, body = f.exchange(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, basicRaw("a+b", "plus-secret"))
	checkOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")
	// With "a b"'s secret it is "a b", whose ID token this is not.
	resp, body = f.exchange(t, b(alice), basicRaw("a+b", "space-secret"))
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("a+b's ID token exchanged by a b: %v", body)
	}
}

// postJSON posts form with header to url and decodes the JSON answer,
// which must have status want.
func postJSON(t *testing.T, u string, form url.Values, header http.Header, want int) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %v, want %d", u, resp.StatusCode, body, want)
	}
	return body
}
