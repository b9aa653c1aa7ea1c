package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestEndSession_RepeatedParameterEndsNothing: an end_session request that
// sends a parameter twice (in the query, in the body, or once in each) is
// a 400 invalid_request naming it, and ends nothing, from the signed-in
// browser itself: RFC 6749 section 3.1, parameters MUST NOT be included
// more than once. The checks before op read the first value, op the last:
// a second post_logout_redirect_uri would otherwise be one never checked.
func TestEndSession_RepeatedParameterEndsNothing(t *testing.T) {
	f := &fixture{testIdP: startConformanceIdP(t)}
	t.Cleanup(func() { f.checkAuditHasNoTokens(t) })
	br := newBrowser(f.testIdP)
	tok := br.codeTokens(t)
	idToken := tok["id_token"].(string)
	f.remember(idToken)
	f.remember(tok["refresh_token"])
	chat := grantCase{form: b(idToken), header: basicS1, sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"}

	for _, c := range []struct {
		name, param string
		query, body url.Values
	}{
		{"two client_id", "client_id", url.Values{"id_token_hint": {idToken}, "client_id": {"mcp-client", "mcp-client"}}, nil},
		{"two id_token_hint", "id_token_hint", url.Values{"id_token_hint": {idToken, "not-a-jwt"}}, nil},
		{"two post_logout_redirect_uri", "post_logout_redirect_uri", url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {callback, "https://evil.example/cb"}}, nil},
		{"two state", "state", url.Values{"id_token_hint": {idToken}, "state": {"a", "b"}}, nil},
		{"two empty state", "state", url.Values{"id_token_hint": {idToken}, "state": {"", ""}}, nil},
		{"two state in a POST body", "state", nil, url.Values{"id_token_hint": {idToken}, "state": {"a", "b"}}},
		{"post_logout_redirect_uri in query and body", "post_logout_redirect_uri",
			url.Values{"post_logout_redirect_uri": {"https://evil.example/cb"}},
			url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {callback}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := f.URL + "/end_session"
			if c.query != nil {
				target += "?" + c.query.Encode()
			}
			var req *http.Request
			if c.body != nil {
				req, _ = http.NewRequest(http.MethodPost, target, strings.NewReader(c.body.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
			} else {
				req, _ = http.NewRequest(http.MethodGet, target, nil)
			}
			resp, err := br.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("end_session answered %s (Location %q) with a non-JSON body: %v", resp.Status, resp.Header.Get("Location"), err)
			}
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")
			if d, _ := body["error_description"].(string); !strings.Contains(d, "'"+c.param+"'") {
				t.Errorf("error_description %q does not name %s", d, c.param)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("the refusal redirects to %s", loc)
			}
			f.expectIDJAG(t, chat)
			if evs := f.Audit.Query(audit.Filter{Type: audit.TypeLogout, Outcome: audit.Allowed}); len(evs) != 0 {
				t.Errorf("a refused end_session audits an ended session: %+v", evs)
			}
		})
	}
}
