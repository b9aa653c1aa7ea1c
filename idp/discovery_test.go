package idp_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// The Go SDK, configured with the issuer and a trailing "/" (as the
// TypeScript examples write issuers), asks for
// /.well-known/oauth-authorization-server/ and
// /.well-known/openid-configuration/, then //.well-known/openid-configuration,
// which the mux redirects and the SDK refuses to follow.
func TestDiscovery_GoSDKFindsIssuerWithTrailingSlash(t *testing.T) {
	p := startConformanceIdP(t)
	meta, err := auth.GetAuthServerMetadata(context.Background(), p.URL+"/", nil)
	if err != nil {
		t.Fatalf("GetAuthServerMetadata(%s/): %v", p.URL, err)
	}
	if meta == nil {
		t.Fatalf("GetAuthServerMetadata(%s/): no metadata found", p.URL)
	}
	if meta.Issuer != p.URL || meta.TokenEndpoint != p.URL+"/oauth/token" {
		t.Errorf("issuer %q, token_endpoint %q; want %q and %q", meta.Issuer, meta.TokenEndpoint, p.URL, p.URL+"/oauth/token")
	}

	_, want := get(t, p.URL+"/.well-known/openid-configuration")
	for _, path := range []string{"/.well-known/openid-configuration/", "/.well-known/oauth-authorization-server/"} {
		status, body := get(t, p.URL+path)
		if status != http.StatusOK || body != want {
			t.Errorf("GET %s: %d %s\nwant 200 and the metadata document %s", path, status, body, want)
		}
	}
	for _, path := range []string{"/.well-known/openid-configuration/x", "/.well-known/oauth-authorization-server/x/"} {
		if status, _ := get(t, p.URL+path); status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, status)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Discovery takes GET and HEAD (docs/http.md, "Discovery"); a 405 must
// list both in Allow (RFC 9110 §10.2.1), as the JWKS's does, so that a
// client told to retry with an allowed method is not told HEAD is refused.
func TestDiscovery_MethodNotAllowedListsHEAD(t *testing.T) {
	p := startConformanceIdP(t)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		head, err := http.Head(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		head.Body.Close()
		if head.StatusCode != http.StatusOK {
			t.Fatalf("HEAD %s: %d, want 200", path, head.StatusCode)
		}
		resp, err := http.Post(p.URL+path, "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: %d, Allow %q; want 405 and Allow \"GET, HEAD\"", path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}
