package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// TestBrowser_DownloadAfterTheSessionEnded: the audit log is open, with
// filters, when alice's session ends (signed out in another tab). Her
// click on "Export JSON Lines" leads to the login page, and signing in
// returns to the audit log with its filters, where the export downloads
// the events. The links had the download attribute, which saved whatever
// the address led to: the IdP's login page, as login.html, with nothing
// said. So did "Download YAML", which now returns to the overview.
func TestBrowser_DownloadAfterTheSessionEnded(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	dir := t.TempDir()
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "letting the browser download into "+dir, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}))
	for _, c := range []struct{ page, link, back string }{
		{"/admin/audit?type=login", `a[href^="/admin/audit/export?"]`, "/admin/audit?type=login"},
		{"/admin/servers", `a[href="/admin/config.yaml"]`, "/admin/"},
	} {
		run(t, ctx, "opening "+c.page, chromedp.Navigate(p.URL+c.page), chromedp.WaitVisible(chromedp.CSS(c.link)))
		other, cancel := chromedp.NewContext(ctx) // another tab of the same browser
		run(t, other, "signing out in another tab",
			chromedp.Navigate(p.URL+"/admin/servers"),
			clickTo(`form[action="/admin/signout"] button`, `a[href="/admin/signin"]`),
		)
		cancel()
		run(t, ctx, "downloading from "+c.page+" signed out, and signing in",
			clickTo(c.link, `input[name="username"]`),
			chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "alice"),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "alice"),
			clickTo(`button[type="submit"]`, c.link),
		)
		if loc := location(t, ctx); loc != p.URL+c.back {
			t.Errorf("signed in again at %s, want %s", loc, p.URL+c.back)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Errorf("signed out, the downloads saved %v", files)
	}
	// Signed in, the export downloads the events, and the page stays.
	run(t, ctx, "exporting", chromedp.Navigate(p.URL+"/admin/audit?type=login"), chromedp.WaitVisible(chromedp.CSS(`a[href^="/admin/audit/export?"]`)), click(chromedp.CSS(`a[href^="/admin/audit/export?"]`)))
	var file string
	for deadline := time.Now().Add(20 * time.Second); file == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl")); len(files) == 1 {
			file = files[0]
		}
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.HasPrefix(string(data), `{"`) {
		t.Errorf("the export saved %q: %.200s (%v)", file, data, err)
	}
	if loc := location(t, ctx); loc != p.URL+"/admin/audit?type=login" {
		t.Errorf("after the export the tab is at %s", loc)
	}
}
