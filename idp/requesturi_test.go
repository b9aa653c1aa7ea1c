package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// TestAuthorize_RequestURINotSupported: the IdP takes no request objects.
// A request object by value (request=) was refused, but one by reference
// (request_uri=, and PAR's urn:ietf:params:oauth:request_uri:...) was
// ignored: the sign-in went on with the parameters outside it, where a
// client that put its real ones (scope, redirect, claims) in the object
// gets what it did not ask for, and discovery left out
// request_uri_parameter_supported, whose default is true (OpenID Connect
// Discovery 1.0 section 3). It is refused at redirect_uri with
// request_uri_not_supported (OpenID Connect Core section 3.1.2.6), and
// discovery says false.
func TestAuthorize_RequestURINotSupported(t *testing.T) {
	p := startConformanceIdP(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, challenge := pkce()
	for _, ref := range []string{"https://client.example/request.jwt", "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c"} {
		params := authParams("http://127.0.0.1/callback", challenge)
		params.Set("request_uri", ref)
		resp, err := client.Get(p.URL + "/authorize?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "127.0.0.1" || loc.Query().Get("error") != "request_uri_not_supported" {
			t.Errorf("request_uri %s: %d, Location %q; want a redirect to the client with error=request_uri_not_supported", ref, resp.StatusCode, resp.Header.Get("Location"))
			continue
		}
		if loc.Query().Get("state") != params.Get("state") || loc.Query().Get("iss") != p.URL {
			t.Errorf("request_uri %s: redirect %q without the state or iss", ref, loc)
		}
	}
	resp, err := http.Get(p.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if v, ok := doc["request_uri_parameter_supported"]; !ok || v != false {
		t.Errorf("discovery request_uri_parameter_supported = %v (present %v), want false", v, ok)
	}
}
