package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/errdesc"
)

// TestErrorDescriptions_CutToMaxBytes: a description quoting a 20 KB value
// the client sent (its client_id, resource, scope) is cut to
// errdesc.MaxBytes with the truncation marker, in the RFC 6749 section 5.2
// set, as the IdP's are; it was sent whole.
func TestErrorDescriptions_CutToMaxBytes(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("a", 20<<10)
	for _, tc := range []struct {
		name string
		req  tokenRequest
	}{
		{"client_id in the form", tokenRequest{form: url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {e.jag(t, nil)},
			"client_id": {"https://" + long + ".example/client"}}}},
		{"client_id in Basic", tokenRequest{form: url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {e.jag(t, nil)}},
			basic: &[2]string{long, "secret"}}},
		{"resource", func() tokenRequest {
			r := grant(e.jag(t, nil))
			r.form.Set("resource", "https://"+long+".example/mcp")
			return r
		}()},
		{"scope", func() tokenRequest {
			r := grant(e.jag(t, nil))
			r.form.Set("scope", "x"+long)
			return r
		}()},
	} {
		r := e.post(t, tc.req)
		d := r.str("error_description")
		if r.status == http.StatusOK || r.status >= 500 || d == "" {
			t.Errorf("%s: HTTP %d %.300s, want a 4xx with a description", tc.name, r.status, r.raw)
			continue
		}
		if len(d) > errdesc.MaxBytes || !errdesc.Valid(d) || !strings.HasSuffix(d, " bytes]") || !strings.Contains(d, "...[truncated ") {
			t.Errorf("%s: error_description of %d bytes ending %q, want at most %d in the RFC set ending in the truncation marker",
				tc.name, len(d), d[max(0, len(d)-60):], errdesc.MaxBytes)
		}
	}
}
