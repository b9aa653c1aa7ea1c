package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestEndSession_InvalidRequestEndsNothing: an end_session request that
// is refused (an id_token_hint that is malformed, badly signed or of
// another issuer; a client_id other than the hint's azp) is a 400
// invalid_request, an unregistered client_id a 401 invalid_client, that
// ends nothing, even from the signed-in browser
// itself: the session's ID token is still exchanged, its refresh token
// still refreshes, and no ended session is audited (OIDC RP-Initiated Logout 1.0
// section 2: the OP validates the request before acting on it).
func TestEndSession_InvalidRequestEndsNothing(t *testing.T) {
	f := &fixture{testIdP: startConformanceIdP(t)}
	t.Cleanup(func() { f.checkAuditHasNoTokens(t) })
	br := newBrowser(f.testIdP)
	tok := br.codeTokens(t)
	idToken := tok["id_token"].(string)
	f.remember(idToken)
	f.remember(tok["refresh_token"])
	foreign := newBrowser(startConformanceIdP(t)).codeTokens(t)["id_token"].(string)
	f.remember(foreign)
	parts := strings.Split(idToken, ".")
	sig := []byte(parts[2])
	sig[len(sig)/2] ^= 1
	badSig := parts[0] + "." + parts[1] + "." + string(sig)
	chat := grantCase{form: b(idToken), header: basicS1, sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"}

	for name, q := range map[string]url.Values{
		"malformed hint":                   {"id_token_hint": {"not-a-jwt"}},
		"hint with a bad signature":        {"id_token_hint": {badSig}},
		"hint of another issuer":           {"id_token_hint": {foreign}},
		"client_id other than hint's azp":  {"id_token_hint": {idToken}, "client_id": {"other-client"}},
		"malformed hint, POST same-origin": {"id_token_hint": {"a.b.c"}, "method": {"POST"}},
		"unregistered client_id":           {"client_id": {"nobody"}},
	} {
		t.Run(name, func(t *testing.T) {
			status, code := http.StatusBadRequest, "invalid_request"
			if q.Get("client_id") == "nobody" {
				status, code = http.StatusUnauthorized, "invalid_client"
			}
			var req *http.Request
			if q.Get("method") == "POST" {
				q.Del("method")
				req, _ = http.NewRequest(http.MethodPost, f.URL+"/end_session", strings.NewReader(q.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
			} else {
				req, _ = http.NewRequest(http.MethodGet, f.URL+"/end_session?"+q.Encode(), nil)
			}
			resp, err := br.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("end_session answered %s with a non-JSON body: %v", resp.Status, err)
			}
			checkOAuthError(t, resp, body, status, code)
			for _, c := range resp.Cookies() {
				if c.Name != "" && c.MaxAge < 0 {
					t.Errorf("the refusal clears cookie %s", c.Name)
				}
			}
			f.expectIDJAG(t, chat)
			resp, rbody := f.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, basicS1)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("refresh after a refused end_session: %d %v", resp.StatusCode, rbody)
			}
			tok["refresh_token"] = rbody["refresh_token"]
			f.remember(rbody["refresh_token"])
			f.remember(rbody["access_token"])
			f.remember(rbody["id_token"])
			_, ch := pkce()
			params := authParams(callback, ch)
			params.Set("prompt", "none")
			if res := br.authorize(t, params, "", ""); res.location == nil || res.location.Query().Get("code") == "" {
				t.Fatalf("prompt=none after a refused end_session: %+v, want a code", res)
			}
			if evs := f.Audit.Query(audit.Filter{Type: audit.TypeLogout, Outcome: audit.Allowed}); len(evs) != 0 {
				t.Errorf("a refused end_session audits an ended session: %+v", evs)
			}
		})
	}
}
