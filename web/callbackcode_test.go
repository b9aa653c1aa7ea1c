package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsole_CallbackWithARefusedCodeIsTheClientsError: a callback that
// carries this browser's sign-in state but a code the IdP refuses (made
// up, or used already) is the request's fault, not a failed upstream: 400
// with a way to sign in again, as for everything a client sends: a
// request's fault is never a server error. Before, it was 502 "Sign-in failed".
func TestConsole_CallbackWithARefusedCodeIsTheClientsError(t *testing.T) {
	p := start(t)
	b := p.browser(t).noRedirects()
	resp, body := b.get("/admin/signin")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || to.Query().Get("state") == "" {
		t.Fatalf("sign-in leads to %q", resp.Header.Get("Location"))
	}
	resp, body = b.get("/admin/callback?code=made-up&state=" + url.QueryEscape(to.Query().Get("state")))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cannot be completed") || !strings.Contains(body, `href="/admin/signin`) {
		t.Errorf("callback with a made-up code: %d\n%s", resp.StatusCode, body)
	}
}
