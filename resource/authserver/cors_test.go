package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestTokenEndpoint_BrowserClientCanReadRetryAfter: a browser-based client
// gets temporarily_unavailable with Retry-After, which says when to come
// back; but a cross-origin page reads only the response headers CORS
// exposes, and Retry-After is not one of the safelisted ones, so it was
// invisible to the client the header is for.
func TestTokenEndpoint_BrowserClientCanReadRetryAfter(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.ReplayCacheSize = 1 })
	post := func() *http.Response {
		t.Helper()
		form := url.Values{"grant_type": {authserver.GrantTypeJWTBearer}, "assertion": {e.jag(t, nil)}}
		hr, _ := http.NewRequest(http.MethodPost, e.asURL+"/token", strings.NewReader(form.Encode()))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		hr.Header.Set("Origin", "https://app.example")
		hr.SetBasicAuth(confidentialClient, confidentialSecret)
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(); resp.StatusCode != http.StatusOK {
		t.Fatalf("first grant: HTTP %d", resp.StatusCode)
	}
	resp := post()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("replay cache full: HTTP %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	exposed := false
	for _, name := range strings.Split(resp.Header.Get("Access-Control-Expose-Headers"), ",") {
		exposed = exposed || strings.EqualFold(strings.TrimSpace(name), "Retry-After")
	}
	if !exposed {
		t.Errorf("Access-Control-Expose-Headers %q does not expose Retry-After: a browser-based client cannot read when to retry", resp.Header.Get("Access-Control-Expose-Headers"))
	}
}
