package idp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAuthorize_IssParameter: the IdP announces RFC 9207 and every
// authorization response sent back to the client names the issuer once,
// byte for byte as discovery does (the official MCP clients then require
// it); its other redirects (to the login page) do not, and a redirect_uri
// with a query of its own keeps it as it was.
func TestAuthorize_IssParameter(t *testing.T) {
	p := startConformanceIdP(t)
	resp, err := http.Get(p.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	err = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if meta["authorization_response_iss_parameter_supported"] != true || meta["issuer"] != p.URL {
		t.Fatalf("discovery: iss parameter %v, issuer %v; want true and %s", meta["authorization_response_iss_parameter_supported"], meta["issuer"], p.URL)
	}
	_, challenge := pkce()

	t.Run("code", func(t *testing.T) {
		res := newBrowser(p).authorize(t, authParams(callback, challenge), "alice", "alice-pw")
		if res.location == nil {
			t.Fatalf("no redirect to the client: %+v", res)
		}
		q := res.location.Query()
		if q.Get("code") == "" || q.Get("state") != "st:1%2Fx" {
			t.Fatalf("redirect %s, want a code and the state", res.location)
		}
		if got := q["iss"]; len(got) != 1 || got[0] != p.URL {
			t.Errorf("iss = %q, want [%s]", got, p.URL)
		}
	})

	t.Run("not on the way to the login page", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/authorize?"+authParams(callback, challenge).Encode(), nil)
		resp, err := newBrowser(p).hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := req.URL.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), p.URL+"/login?") {
			t.Fatalf("status %d, Location %q, want the login page", resp.StatusCode, resp.Header.Get("Location"))
		}
		if loc.Query().Has("iss") {
			t.Errorf("the login page's URL %s has iss", loc)
		}
	})

	t.Run("error", func(t *testing.T) {
		params := authParams(callback, challenge)
		params.Set("prompt", "none")
		wantRedirectError(t, newBrowser(p).authorize(t, params, "", ""), "login_required")
	})

	t.Run("redirect_uri with a query", func(t *testing.T) {
		const withQuery = "http://127.0.0.1/cb?app=a%2Fb&x=1"
		cfg := loadConfig(t, "testdata/conformance.yaml")
		cfg.Client("mcp-client").RedirectURIs = append(cfg.Client("mcp-client").RedirectURIs, withQuery)
		p := startIdP(t, cfg)
		res := newBrowser(p).authorize(t, authParams(withQuery, challenge), "alice", "alice-pw")
		if res.location == nil {
			t.Fatalf("no redirect to the client: %+v", res)
		}
		q := res.location.Query()
		if q.Get("app") != "a/b" || q.Get("x") != "1" || q.Get("code") == "" || len(q["iss"]) != 1 || q.Get("iss") != p.URL {
			t.Errorf("redirect %s, want the redirect_uri's own parameters, a code and one iss", res.location)
		}
	})
}

// TestAuthorize_ResponseModeOtherThanQuery: discovery announces the
// query response mode alone, and RFC 9207's iss only in the query. A
// request for another mode (the fragment, a form post) would have op
// answer there without iss, which an MCP client refuses, or worse, a
// client that does not check it takes: it is refused in the query, with
// iss, and no code is issued in any mode.
func TestAuthorize_ResponseModeOtherThanQuery(t *testing.T) {
	p := startConformanceIdP(t)
	_, challenge := pkce()
	for _, mode := range []string{"fragment", "form_post", "query.jwt", "bogus"} {
		for _, flow := range []struct {
			name             string
			prompt, username string
		}{{"sign-in", "", "alice"}, {"prompt=none", "none", ""}} {
			t.Run(mode+" "+flow.name, func(t *testing.T) {
				params := authParams(callback, challenge)
				params.Set("response_mode", mode)
				if flow.prompt != "" {
					params.Set("prompt", flow.prompt)
				}
				res := newBrowser(p).authorize(t, params, flow.username, "alice-pw")
				wantRedirectError(t, res, "invalid_request")
				if res.location != nil && (res.location.Fragment != "" || !strings.Contains(res.location.Query().Get("error_description"), "response_mode")) {
					t.Errorf("redirect %s, want the error in the query, naming response_mode", res.location)
				}
				if res.loginShown {
					t.Error("the login form was shown for a request that is refused")
				}
			})
		}
	}
	t.Run("query", func(t *testing.T) {
		params := authParams(callback, challenge)
		params.Set("response_mode", "query")
		res := newBrowser(p).authorize(t, params, "alice", "alice-pw")
		if res.location == nil || res.location.Query().Get("code") == "" || res.location.Query().Get("iss") != p.URL {
			t.Fatalf("response_mode=query: redirect %v, want a code and iss", res.location)
		}
	})
}
