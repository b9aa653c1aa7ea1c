package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser_SkipToThePage: the first Tab on a console page reaches a
// link, shown when it has the focus, that skips the header (the six
// links of the menu, the tenant, Sign out, a banner's Download YAML);
// following it, the next Tab is in the page itself (WCAG 2.2 2.4.1).
// A keyboard user pressed Tab nine times on every page before reaching
// anything of it.
func TestBrowser_SkipToThePage(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "opening the audit log and pressing Tab",
		chromedp.Navigate(p.URL+"/admin/audit"),
		until(`document.readyState === "complete"`),
		chromedp.KeyEvent("\t"),
	)
	type focus struct {
		Text    string
		Shown   bool
		InMain  bool
		Element string
	}
	const where = `(() => { const e = document.activeElement, r = e.getBoundingClientRect();
		return {Text: e.textContent.trim(), Element: e.outerHTML.slice(0, 120), InMain: !!e.closest("main"),
			Shown: r.width > 10 && r.height > 10 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth}; })()`
	f, err := chromedp.Run(ctx, chromedp.Evaluate[focus](where))
	if err != nil {
		t.Fatal(err)
	}
	if f.Text != "Skip to the page" || !f.Shown {
		t.Fatalf("the first Tab is on %s (shown: %v), want the link Skip to the page, on screen", f.Element, f.Shown)
	}
	run(t, ctx, "following it and pressing Tab", chromedp.KeyEvent("\r"), chromedp.Sleep(100*time.Millisecond), chromedp.KeyEvent("\t"))
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute) // only guards a hang: a loaded machine's chromium needs room
	defer cancel()
	if _, err := chromedp.Run(waitCtx, chromedp.Poll[bool](`!!document.activeElement.closest("main")`)); err != nil {
		f, _ = chromedp.Run(ctx, chromedp.Evaluate[focus](where))
		t.Errorf("after the skip link, Tab is on %s, outside the page's main", f.Element)
	}
}
