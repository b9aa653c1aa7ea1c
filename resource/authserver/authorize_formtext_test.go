package authserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAuthorize_UnreadableRequestIsSaidAsTheIdPSaysIt: an authorization
// request whose query or form cannot be parsed, or whose Content-Type is
// no media type, is refused 400 invalid_request as before, in the IdP's
// words: it said "the authorization request is malformed: mime: no media
// type", Go's text.
func TestAuthorize_UnreadableRequestIsSaidAsTheIdPSaysIt(t *testing.T) {
	e, client := newCallbackEnv(t)
	for _, c := range []struct {
		name, method, query, contentType, says string
	}{
		{"a bad escape", http.MethodGet, "?x=%zz", "", "encode it as application/x-www-form-urlencoded (percent-encoding, & between parameters)"},
		{"no media type", http.MethodPost, "", ";;", "the Content-Type header cannot be read as a media type"},
		{"a bad parameter", http.MethodPost, "", "text/plain; a", "send Content-Type: application/x-www-form-urlencoded"},
	} {
		req, _ := http.NewRequest(c.method, e.asURL+"/authorize"+c.query, strings.NewReader("client_id=x"))
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if d := body["error_description"]; resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(d, c.says) || strings.Contains(d, "mime:") {
			t.Errorf("%s: HTTP %d %v; want 400 invalid_request saying %q", c.name, resp.StatusCode, body, c.says)
		}
	}
}
