package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestToken_ParametersInTheQuerySaySo: the token endpoint reads its
// parameters from the body (RFC 6749 section 3.2), and a newcomer's
// `curl -X POST "$TOKEN?grant_type=..."` put them in the URL. Until
// 2026-12-06 that was "grant_type is missing" (with an empty form body) or
// "send the parameters as application/x-www-form-urlencoded" (with none),
// though grant_type was there to see; the refusal is the same 400
// invalid_request, and now says where the parameters go.
func TestToken_ParametersInTheQuerySaySo(t *testing.T) {
	p := startConformanceIdP(t)
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw").IDToken()
	query := exchangeForm(idToken)
	query.Set("client_id", "mcp-client")
	query.Set("client_secret", "s1")
	for _, c := range []struct {
		name, want string
		headers    [][2]string
	}{
		{"with an empty form body", "grant_type is missing from the request body: send the parameters in the body, not in the URL's query (RFC 6749 section 3.2)",
			[][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}},
		{"without a body", "the parameters are in the URL's query and the request has no body: send them in the body, as application/x-www-form-urlencoded (RFC 6749 section 3.2)", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := send(t, http.MethodPost, p.URL+"/oauth/token?"+query.Encode(), "", c.headers)
			desc, _ := body["error_description"].(string)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || desc != c.want {
				t.Errorf("got %d %v; want 400 invalid_request saying %q", resp.StatusCode, body, c.want)
			}
			if strings.Contains(desc, "s1") || strings.Contains(desc, "eyJ") {
				t.Errorf("the description quotes the query: %q", desc)
			}
		})
	}
	// A body without grant_type and a query without one: as before.
	resp, body := send(t, http.MethodPost, p.URL+"/oauth/token?"+url.Values{"x": {"1"}}.Encode(), "a=b", nil)
	if resp.StatusCode != http.StatusBadRequest || body["error_description"] != "grant_type is missing" {
		t.Errorf("no grant_type anywhere: %d %v; want 400 \"grant_type is missing\"", resp.StatusCode, body)
	}
}
