package idp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTokenEndpoint throws arbitrary bodies, content types and Basic
// credentials at the token endpoint. Whatever comes in, the answer is JSON,
// never a 5xx, and a 200 only ever carries an ID-JAG for a well-formed
// exchange by an authenticated client.
func FuzzTokenEndpoint(f *testing.F) {
	p := startConformanceIdP(f)
	idToken := p.login(f, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	valid := exchangeForm(idToken)
	const form = "application/x-www-form-urlencoded"
	f.Add(valid.Encode(), form, "mcp-client", "s1")
	f.Add(valid.Encode()+"&code=&actor_token=&actor_token_type=", form, "mcp%2Dclient", "s1")
	f.Add(valid.Encode()+"&audience=urn:example:chat", form, "mcp-client", "s1")
	f.Add(strings.Replace(valid.Encode(), "id_token", "refresh_token", 1), form, "mcp-client", "s1")
	f.Add("grant_type=authorization_code&code=abc&code_verifier=x&redirect_uri=http://127.0.0.1/callback", form, "mcp-client", "s1")
	f.Add("grant_type=refresh_token&refresh_token=rt_x", form, "pub-client", "")
	f.Add(`{"grant_type":"x"}`, "application/json", "", "")
	f.Add("%zz=%", form, "", "")
	f.Add(valid.Encode()+"&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=a.b.c", form, "", "")
	f.Fuzz(func(t *testing.T, body, contentType, id, secret string) {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if id != "" || secret != "" {
			req.SetBasicAuth(id, secret)
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		var resp map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("status %d with a non-JSON body %q", rec.Code, rec.Body)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("status %d without Cache-Control: no-store", rec.Code)
		}
		if rec.Code == http.StatusOK {
			if resp["issued_token_type"] != "urn:ietf:params:oauth:token-type:id-jag" || resp["token_type"] != "N_A" {
				t.Fatalf("200 that is not an ID-JAG response: %v", resp)
			}
		} else if _, ok := resp["access_token"]; ok {
			t.Fatalf("status %d carries a token: %v", rec.Code, resp)
		} else if resp["error"] == nil {
			t.Fatalf("status %d without an error code: %v", rec.Code, resp)
		}
	})
}
