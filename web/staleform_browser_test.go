package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

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
		clickTo(`form[action="/admin/signout"] button`, `a[href="/admin/signin"]`),
	)
	before := p.Store.Version()
	run(t, ctx, "saving the open form",
		chromedp.SendKeys(chromedp.CSS(`input[name="a0.users"]`), "bob"),
		clickTo(`#access-form button[type="submit"]`, `#next-step`),
	)
	if p.Store.Version() != before {
		t.Fatal("the form of an ended session changed the configuration")
	}
	if s := text(t, ctx, "main"); !strings.Contains(s, "signed out") || !strings.Contains(s, "not made") {
		t.Errorf("the refusal says:\n%s", s)
	}
	run(t, ctx, "signing in again",
		clickTo(`#next-step`, `input[name="username"]`),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "alice"),
		clickTo(`button[type="submit"]`, `header nav`),
	)
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/admin/servers/tracker") {
		t.Fatalf("signed in again at %s (%v), not the tracker's page", loc, err)
	}
	run(t, ctx, "making the change again",
		chromedp.WaitVisible(chromedp.CSS(`#access-form`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="a0.users"]`), "bob"),
		clickTo(`#access-form button[type="submit"]`, `.flash.ok`),
	)
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="a0.users"]`))); err != nil || v != "bob" {
		t.Errorf("after saving, a0.users is %q (%v)", v, err)
	}
}

// TestBrowser_RefusedSaveTakesTheFocus: a save the configuration refuses
// (an unknown group) shows the page again with the admin's rows. The
// reason is above the editor that was saved, which is in view and has the
// focus, so that a keyboard goes on from there, not from the top of a page
// whose editor is screens away.
func TestBrowser_RefusedSaveTakesTheFocus(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	for _, editor := range []string{"access", "deny"} {
		prefix := map[string]string{"access": "a", "deny": "d"}[editor]
		run(t, ctx, "saving an unknown group in the "+editor+" editor",
			chromedp.Navigate(p.URL+"/admin/servers/tracker"),
			chromedp.WaitVisible(chromedp.CSS(`#`+editor+`-form`)),
			chromedp.SetValue(chromedp.CSS(`input[name="`+prefix+`0.groups"]`), "no-such-group"),
			clickTo(`#`+editor+`-form button[type="submit"]`, `#`+editor+`-refusal`),
		)
		// The browser moves the focus (autofocus) at a rendering update
		// after the page has loaded: wait for it.
		js := `(() => { const e = document.activeElement, r = e.getBoundingClientRect();
			return e.id + (r.top >= 0 && r.top < innerHeight ? " in view" : " out of view"); })()`
		want := editor + "-refusal in view"
		pollCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := chromedp.Run(pollCtx, chromedp.Poll[bool](js+" === "+strconv.Quote(want), chromedp.WithPollingInterval(50*time.Millisecond)))
		cancel()
		if err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](js))
			t.Errorf("after the refused %s save the focus is on %q, not %q (%v)", editor, got, want, err)
		}
		if s := text(t, ctx, "#"+editor+"-refusal"); !strings.Contains(s, "no-such-group") {
			t.Errorf("the %s refusal says:\n%s", editor, s)
		}
	}
}
