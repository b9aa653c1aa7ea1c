package idp_test

import (
	"net/http"
	"strings"
	"testing"
)

// The hint that a client_id holding ':' must be form-URL-encoded is for
// Basic credentials that hold more than one ':' as sent. Credentials
// encoded as RFC 6749 section 2.3.1 asks, whose secret holds an encoded
// ':' (%3A), were told so too: the hint read the decoded secret, and sent
// a client that had encoded everything to look for a fault it did not have.
func TestTokenEndpoint_EncodingHintOnlyForRawColons(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	idt := f.alice["id_token"].(string)
	for _, c := range []struct {
		name   string
		header http.Header
		hint   bool
	}{
		{"encoded", basic("no-such:client", "s:1"), false},
		{"raw", basicRaw("no-such:client", "s1"), true},
	} {
		resp, body := f.exchange(t, b(idt), c.header)
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || strings.Contains(desc, "form-URL-encoded") != c.hint {
			t.Errorf("%s: %d %v, want 401 invalid_client, the encoding hint %v", c.name, resp.StatusCode, body, c.hint)
		}
	}
}
