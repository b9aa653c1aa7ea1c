package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestAuthorize_RefusesARepeatedParameter: a parameter of an authorization
// request may not repeat (RFC 6749 §3.1), and one that decides where the
// error goes must not be guessed at (§4.1.2.1: no redirect on an invalid
// redirect_uri or client_id), so a repeat gets the 400 JSON error, as at
// the IdP's /authorize. The server used to take the first value and
// redirect, whatever the second said.
func TestAuthorize_RefusesARepeatedParameter(t *testing.T) {
	e, client := newCallbackEnv(t)
	good := "client_id=" + url.QueryEscape(confidentialClient) + "&redirect_uri=" + url.QueryEscape("http://127.0.0.1/callback")
	for name, query := range map[string]string{
		"redirect_uri": good + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb") + "&state=s",
		"client_id":    good + "&client_id=other&state=s",
		"state":        good + "&state=a&state=b",
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := client.Get(e.asURL + "/authorize?" + query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || body["error"] != "invalid_request" ||
				!strings.Contains(body["error_description"], name) || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("HTTP %d Location %q %v, want 400 invalid_request naming %s", resp.StatusCode, resp.Header.Get("Location"), body, name)
			}
		})
	}
	// The same request sent once is still answered by a redirect, and so
	// is one with repeated resource parameters (RFC 8707 §2).
	for _, query := range []string{good + "&state=s", good + "&resource=a&resource=b"} {
		resp, err := client.Get(e.asURL + "/authorize?" + query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "http://127.0.0.1/callback?") {
			t.Errorf("%s: HTTP %d Location %q, want a redirect to the callback", query, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// TestAuthorize_RefusesOtherMethods: the authorization endpoint takes GET
// and POST (RFC 6749 §3.1, OpenID Connect Core §3.1.2.1), as the IdP's
// does; a PUT or DELETE used to be redirected to the client like a GET.
func TestAuthorize_RefusesOtherMethods(t *testing.T) {
	e, client := newCallbackEnv(t)
	query := "?client_id=" + url.QueryEscape(confidentialClient) + "&redirect_uri=" + url.QueryEscape("http://127.0.0.1/callback") + "&state=s"
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		resp := send(t, client, method, e.asURL+"/authorize"+query)
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Location") != "" || body["error"] != "invalid_request" ||
			resp.Header.Get("Allow") != "GET, HEAD, POST" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: HTTP %d Location %q Allow %q %v, want 405 invalid_request, Allow: GET, HEAD, POST", method, resp.StatusCode,
				resp.Header.Get("Location"), resp.Header.Get("Allow"), body)
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
		resp := send(t, client, method, e.asURL+"/authorize"+query)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("%s: HTTP %d, want the 302 to the callback", method, resp.StatusCode)
		}
	}
}

// newCallbackEnv is newEnv with the redirect URI http://127.0.0.1/callback
// registered for confidentialClient, and a client that returns a redirect
// instead of following it.
func newCallbackEnv(t *testing.T) (*env, *http.Client) {
	t.Helper()
	e := newEnv(t, func(c *authserver.Config) {
		c.RedirectURIs = map[string][]string{confidentialClient: {"http://127.0.0.1/callback"}}
	})
	return e, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send sends a request with method and no body to target with client.
func send(t *testing.T, client *http.Client, method, target string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
