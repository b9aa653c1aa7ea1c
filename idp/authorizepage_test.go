package idp_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// getAuthorize sends GET /authorize?q with the Accept header accept ("":
// none) and returns the answer and its body.
func getAuthorize(t *testing.T, p *testIdP, q url.Values, accept string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/authorize?"+q.Encode(), nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestAuthorize_RefusalPageForBrowsers: an authorization request refused
// without a redirect (RFC 6749 section 4.1.2.1: the server informs the
// resource owner) answers a browser's navigation with an HTML page, same
// status, the login page's headers, the error, its description and the
// client_id and redirect_uri escaped and cut. Until 2026-12-06 the
// browser showed the raw JSON error.
func TestAuthorize_RefusalPageForBrowsers(t *testing.T) {
	p := startConformanceIdP(t)
	long := "https://evil.example/cb?x=<script>alert(1)</script>" + strings.Repeat("a", 4000)
	rows := []struct {
		name, client, redirect, code, fix string
	}{
		{"unknown client", "nobody<b>", "http://127.0.0.1/callback", "invalid_client", "registered at this IdP"},
		{"redirect_uri not registered", "mcp-client", long, "invalid_request", "redirect_uris in the IdP"},
		{"no redirect_uri", "mcp-client", "", "invalid_request", "redirect_uris in the IdP"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			q := url.Values{"response_type": {"code"}, "client_id": {r.client}, "state": {"s"}}
			if r.redirect != "" {
				q.Set("redirect_uri", r.redirect)
			}
			resp, body := getAuthorize(t, p, q, browserAccept)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q, want 400 without a redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
			h := resp.Header
			if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("Content-Type %q, want the HTML page; body %s", ct, body)
			}
			if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" ||
				!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || strings.Contains(h.Get("Content-Security-Policy"), "script-src") {
				t.Errorf("headers %v, want the login page's", h)
			}
			for _, want := range []string{"<code id=\"error\">" + r.code + "</code>", r.fix, "id=\"error-description\""} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
			if strings.Contains(body, "<script") || strings.Contains(body, "<b>") {
				t.Errorf("page holds the request's markup unescaped:\n%s", body)
			}
			if r.client == "nobody<b>" && !strings.Contains(body, "nobody&lt;b&gt;") {
				t.Errorf("page does not show the client_id escaped:\n%s", body)
			}
			if len(body) > 8000 {
				t.Errorf("page is %d bytes: the quoted values are not cut", len(body))
			}
		})
	}
}

// TestAuthorize_RefusalJSONForClients: every Accept but a browser's (none,
// */*, application/json, a tie) keeps the JSON error, byte for byte as
// before the HTML page: curl, Go, the SDKs and the conformance tool read
// it.
func TestAuthorize_RefusalJSONForClients(t *testing.T) {
	p := startConformanceIdP(t)
	q := url.Values{"response_type": {"code"}, "client_id": {"mcp-client"}, "redirect_uri": {"https://evil.example/cb"}}
	_, want := getAuthorize(t, p, q, "")
	if !strings.HasPrefix(want, `{"error":"invalid_request"`) {
		t.Fatalf("no Accept: body %s, want the JSON error", want)
	}
	for _, accept := range []string{"*/*", "application/json", "application/json, text/html", "text/html;q=0.5, application/json", "text/html;q=0, */*", "text/html, */*;q=1, application/json"} {
		resp, body := getAuthorize(t, p, q, accept)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/json" || body != want {
			t.Errorf("Accept %q: %d %s %s, want 400 with the JSON body %s", accept, resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
		}
	}
}
