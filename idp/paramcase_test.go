package idp_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// OAuth parameter names are case-sensitive, and one the server does not
// know is ignored (RFC 6749 section 3.1): Max_age or Response_mode is no
// max_age or response_mode. op's decoder matches names without case, so
// before, such a parameter, unseen by the IdP's checks, reached op: an
// unparsable Max_age was a plain-text 400 naming op's parser,
// Response_mode=fragment answered in the fragment without iss, and
// reSponse_type=token beside response_type=code was op's
// unauthorized_client on one request in two (map order). At end_session a
// Post_logout_redirect_uri was op's empty 400.
func TestAuthorize_ParameterNamesAreCaseSensitive(t *testing.T) {
	p := startConformanceIdP(t)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const good = "client_id=mcp-client&redirect_uri=http://127.0.0.1/callback&response_type=code&scope=openid&state=s" +
		"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
	get := func(target string) (*http.Response, string) {
		t.Helper()
		resp, err := hc.Get(p.URL + target)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, extra := range []string{"Max_age=x", "maX_Age=20A00", "Response_mode=fragment", "reSponse_type=token", "Redirect_uri=http://localhost:9/elsewhere", "Client_id=other-client", "max_\u212age=x"} {
		for range 8 { // op reads the form's names in map order
			resp, body := get("/authorize?" + good + "&" + extra)
			if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/login?") {
				t.Fatalf("/authorize with %s: %d %s %q; want it ignored, on to the sign-in", extra, resp.StatusCode, resp.Header.Get("Location"), body)
			}
		}
	}
	resp, body := get("/end_session?client_id=mcp-client&Post_logout_redirect_uri=http://evil.example/x&State=zz")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/logged-out" {
		t.Fatalf("/end_session with Post_logout_redirect_uri: %d %s %q; want it ignored, on to /logged-out", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// At the token endpoint, a Code_verifier beside the right code_verifier
// reached op too: the code grant failed on one request in two.
func TestTokenEndpoint_ParameterNamesAreCaseSensitive(t *testing.T) {
	p := startConformanceIdP(t)
	for i := range 8 {
		code, verifier := codeAt(t, p, "mcp-client")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
			"redirect_uri": {"http://127.0.0.1/callback"}, "client_id": {"mcp-client"}, "client_secret": {"s1"},
			"Code_verifier": {"x" + verifier}, "Redirect_URI": {"https://app.example/cb"}}
		if resp, body := p.postToken(t, form, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("try %d: the code grant with Code_verifier and Redirect_URI beside: %d %v; want them ignored", i, resp.StatusCode, body)
		}
	}
}
