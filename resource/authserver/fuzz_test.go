package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// FuzzTokenEndpoint feeds arbitrary assertions, Authorization headers and
// extra form fields to the token endpoint: whatever comes in, the answer is
// an RFC 6749 JSON document and never a 5xx other than 503.
func FuzzTokenEndpoint(f *testing.F) {
	e := newEnv(f)
	f.Add(e.jag(f, nil), "", "")
	f.Add("", "", "")
	f.Add("a.b.c", "Basic Zm9vOmJhcg==", "scope=x")
	f.Add("eyJhbGciOiJub25lIn0.e30.", "Basic", "resource=%zz")
	f.Add("eyJhbGciOiJFUzI1NiIsInR5cCI6Im9hdXRoLWlkLWphZytqd3QifQ.bnVsbA.AAAA", "bearer x", "client_id=mcp-public-at-tracker")
	f.Add("a.b.c.d.e", "Basic "+strings.Repeat("=", 10), "assertion=1&assertion=2")

	f.Fuzz(func(t *testing.T, assertion, authorization, extra string) {
		form, _ := url.ParseQuery(extra)
		if form == nil {
			form = url.Values{}
		}
		form.Set("grant_type", authserver.GrantTypeJWTBearer)
		form.Add("assertion", assertion)
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		} else {
			req.SetBasicAuth(confidentialClient, url.QueryEscape(confidentialSecret))
		}
		rec := httptest.NewRecorder()
		e.as.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("HTTP %d %s", rec.Code, rec.Body)
		}
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("HTTP %d, body not JSON: %q", rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK && body["error"] == nil {
			t.Fatalf("HTTP %d without error: %s", rec.Code, rec.Body)
		}
	})
}
