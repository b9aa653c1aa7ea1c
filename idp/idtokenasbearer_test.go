package idp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestBearer_IDTokenForAnAccessToken: a newcomer who sends the login's ID
// token (the JWT they have just exchanged) where the access token goes is
// told which token to send, not only that the token is unknown.
func TestBearer_IDTokenForAnAccessToken(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw")
	for _, path := range []string{"/userinfo", "/me/mcp-servers", "/me/access-requests"} {
		for _, c := range []struct{ token, want string }{
			{tok.IDToken(), "is a signed JWT (an ID token, say), not an access token of this IdP: send the access_token of the token response"},
			{"nonsense", "the access token is unknown, expired or revoked"},
		} {
			req, _ := http.NewRequest(http.MethodGet, p.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_token" || !strings.Contains(body["error_description"], c.want) ||
				!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("%s with %.10s...: %s %v %q, want 401 invalid_token saying %q", path, c.token, resp.Status, body, resp.Header.Get("WWW-Authenticate"), c.want)
			}
		}
	}
}

// TestExchange_AccessTokenForAnIDToken: the other way round, the login's
// access token (a JWE) sent as the subject ID token is told which token
// to send, not only that it is not a signed JWT.
func TestExchange_AccessTokenForAnIDToken(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw")
	at, _ := tok["access_token"].(string)
	resp, body := p.postToken(t, exchangeForm(at), basicS1)
	desc, _ := body["error_description"].(string)
	want := "subject_token is an encrypted token (a JWE, such as this IdP's access tokens), not an ID token: send the id_token of the token response"
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, want) {
		t.Errorf("exchange of the access token: %s %v, want 400 invalid_request saying %q", resp.Status, body, want)
	}
}
