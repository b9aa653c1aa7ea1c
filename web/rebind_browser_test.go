package web_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_DNSRebindingCannotChangeTheConfiguration: a real browser
// resolves evil.example to 127.0.0.1, as after an attacker rebound the
// name of its page, and runs that page's script against the IdP with the
// demo's known password. The browser's change carries Origin
// http://evil.example:PORT, which agrees with its Host: the guard refuses
// it (403) and the user is not added. The console at the issuer
// (127.0.0.1) still works: the other browser tests sign in there.
func TestBrowser_DNSRebindingCannotChangeTheConfiguration(t *testing.T) {
	p := start(t)
	u, _ := url.Parse(p.URL)
	ctx := chromium(t, chromedp.Flag("host-resolver-rules", "MAP evil.example 127.0.0.1"))
	evil := "http://evil.example:" + u.Port()
	run(t, ctx, "opening a page of the rebound name", chromedp.Navigate(evil+"/admin/signed-out"))
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/admin/api/users/mallory2", {method: "PUT",
		headers: {"Authorization": "Basic " + btoa("alice:alice"), "Content-Type": "application/json"},
		body: JSON.stringify({username: "mallory2", password: "mallory2-pw", admin: true})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Errorf("the rebound page's PUT answered %d, want 403", status)
	}
	if p.Store.Config().User("mallory2") != nil {
		t.Error("the rebound page added an admin")
	}
}
