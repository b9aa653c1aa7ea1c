package idp_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestTokenEndpoint_FailedClientAuthLeavesTheCode: a code grant whose
// client authentication fails (a wrong secret, or none from a
// confidential client) is invalid_client and does not use the code up, so
// the client that fixes its secret redeems it (RFC 6749 section 4.1.3
// authenticates the client first). Before, op took the code and then
// refused the client: the retry was "invalid code", audited as a replay.
func TestTokenEndpoint_FailedClientAuthLeavesTheCode(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	code, verifier := f.code(t)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1/callback"}, "code_verifier": {verifier}}
	for name, header := range map[string]http.Header{"wrong secret": basic("mcp-client", "wrong"), "no secret": nil} {
		try := url.Values{}
		for k, v := range form {
			try[k] = v
		}
		if header == nil {
			try.Set("client_id", "mcp-client")
		}
		resp, body := f.exchange(t, try, header)
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v; want 401 invalid_client", name, resp.StatusCode, body)
		}
	}
	resp, body := f.exchange(t, form, basicS1)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the code with the right secret after refusals: %d %v; want 200", resp.StatusCode, body)
	}
}
