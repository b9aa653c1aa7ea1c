package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestTenants_PercentEncodedTenantPath: a tenant's path with a character
// percent-encoded (/t/%61cme/keys) names the same resource as the plain one
// (RFC 3986 section 6.2.2.2), as a percent-encoded endpoint does
// (/t/acme/%6beys): until 2026-12-06 the first was 404, since the tenant's
// path was stripped from the encoded form too.
func TestTenants_PercentEncodedTenantPath(t *testing.T) {
	ts, servers, _ := startTenants(t)
	for id, srv := range servers {
		path := strings.TrimPrefix(srv.Issuer(), ts.URL)
		i := strings.LastIndexByte(path, '/') + 1
		encoded := path[:i] + fmt.Sprintf("%%%02X", path[i]) + path[i+1:]
		for _, u := range []string{ts.URL + encoded + "/keys", ts.URL + path + "/%6beys"} {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("tenant %s: GET %s: %s %q, want 200 with the JWKS", id, u, resp.Status, resp.Header.Get("Content-Type"))
			}
		}
	}
}
