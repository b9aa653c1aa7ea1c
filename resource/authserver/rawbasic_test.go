package authserver_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestTokenEndpoint_RawBasicAsTheIdPReadsIt: a client_id holding ':' sent
// in Basic as it is (curl -u, btoa, Python's HTTPBasicAuth; docs/interop.md)
// is found as the IdP finds it (internal/rawbasic): the longest text
// before a later ':' that is a client. The authorization server looked
// only for clients registered with a secret, so a public client sending
// its client_id with an empty password ("urn:acme:public:"), which the
// IdP takes as client_id alone, was an "unknown client 'urn'" here; and
// the secret after such a client_id was compared as sent only, where the
// IdP also takes it form-URL-decoded, as it does any Basic secret.
func TestTokenEndpoint_RawBasicAsTheIdPReadsIt(t *testing.T) {
	const public, confidential, secret = "urn:acme:public", "urn:acme:agent", "p+w d"
	e := newEnv(t, func(c *authserver.Config) {
		c.Clients[public] = ""
		c.Clients[confidential] = secret
	})
	raw := func(client, credentials string) tokenRequest {
		r := grant(e.jag(t, func(c map[string]any) { c["client_id"] = client }))
		r.basic = nil
		r.rawBasic = "Basic " + base64.StdEncoding.EncodeToString([]byte(credentials))
		return r
	}
	tests := []struct {
		name       string
		req        tokenRequest
		wantStatus int
		wantDesc   string
	}{
		{"a public client, empty password", raw(public, public+":"), http.StatusOK, ""},
		{"a confidential client, secret as sent", raw(confidential, confidential+":"+secret), http.StatusOK, ""},
		{"a confidential client, secret form-URL-encoded", raw(confidential, confidential+":p%2Bw+d"), http.StatusOK, ""},
		{"a confidential client, wrong secret", raw(confidential, confidential+":nope"), http.StatusUnauthorized, "wrong client secret"},
		{"no such client", raw(public, "urn:other:agent:s"), http.StatusUnauthorized, "must be form-URL-encoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.post(t, tt.req)
			if got.status != tt.wantStatus || !strings.Contains(got.str("error_description"), tt.wantDesc) {
				t.Fatalf("HTTP %d %s, want %d with %q", got.status, got.raw, tt.wantStatus, tt.wantDesc)
			}
		})
	}
}
