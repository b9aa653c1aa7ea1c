package idp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestFormEndpoints_UnparsableContentTypeIsNamed: a Content-Type header
// that is no media type (";;", "text/plain; a") is refused 400
// invalid_request as before, with a description that names the header and
// the type to send, not Go's "mime: no media type" as if the form's
// encoding were wrong.
func TestFormEndpoints_UnparsableContentTypeIsNamed(t *testing.T) {
	p := startIdP(t, conformanceConfig(t))
	for _, path := range []string{"/oauth/token", "/revoke", "/oauth/introspect", "/end_session", "/userinfo"} {
		for _, ct := range []string{";;", "text/plain; a", "application/x-www-form-urlencoded; ;"} {
			req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader("token=x&grant_type=x"))
			req.Header.Set("Content-Type", ct)
			req.SetBasicAuth("mcp-client", "s1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			desc, _ := body["error_description"].(string)
			if path == "/oauth/token" && ct == "application/x-www-form-urlencoded; ;" {
				continue // the token endpoint reads the media type alone
			}
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
				t.Errorf("%s %q: %d %v; want 400 invalid_request", path, ct, resp.StatusCode, body)
			}
			if strings.Contains(desc, "mime:") || !strings.Contains(desc, "Content-Type") || !strings.Contains(desc, "application/x-www-form-urlencoded") {
				t.Errorf("%s %q: error_description %q; want it to name the Content-Type header and application/x-www-form-urlencoded, without Go's mime: text", path, ct, desc)
			}
		}
	}
}
