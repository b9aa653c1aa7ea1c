package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_FormOpenWhileSignedOutInAnotherTab: the tracker's editor is
// open in one tab when alice signs out in another. Her save changes
// nothing and says why; "Sign in again" takes her through the login page
// back to the tracker's page, where she makes the change again.
func TestBrowser_FormOpenWhileSignedOutInAnotherTab(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "opening the tracker",
		chromedp.Navigate(p.URL+"/admin/servers/tracker"),
		chromedp.WaitVisible(chromedp.CSS(`#access-form`)),
	)
	other, cancel := chromedp.NewContext(ctx) // another tab of the same browser
	defer cancel()
	run(t, other, "signing out in the other tab",
		chromedp.Navigate(p.URL+"/admin/servers"),
		click(chromedp.CSS(`form[action="/admin/signout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/signin"]`)),
	)
	before := p.Store.Version()
	run(t, ctx, "saving the open form",
		chromedp.SendKeys(chromedp.CSS(`input[name="a0.users"]`), "bob"),
		click(chromedp.CSS(`#access-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#next-step`)),
	)
	if p.Store.Version() != before {
		t.Fatal("the form of an ended session changed the configuration")
	}
	if s := text(t, ctx, "main"); !strings.Contains(s, "signed out") || !strings.Contains(s, "not made") {
		t.Errorf("the refusal says:\n%s", s)
	}
	run(t, ctx, "signing in again",
		click(chromedp.CSS(`#next-step`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "alice"),
		click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`header nav`)),
	)
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/admin/servers/tracker") {
		t.Fatalf("signed in again at %s (%v), not the tracker's page", loc, err)
	}
	run(t, ctx, "making the change again",
		chromedp.WaitVisible(chromedp.CSS(`#access-form`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="a0.users"]`), "bob"),
		click(chromedp.CSS(`#access-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)),
	)
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="a0.users"]`))); err != nil || v != "bob" {
		t.Errorf("after saving, a0.users is %q (%v)", v, err)
	}
}
