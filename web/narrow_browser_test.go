package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_AssignmentEditorAt600px: the assignment and deny editors fit
// a window 600 px wide (a phone on its side, a half-screen window): the
// page does not scroll sideways, and every field of the editors is on
// screen. They needed 800 px: at 600 the page scrolled sideways and the
// Expires column and the row's remove box were off screen.
func TestBrowser_AssignmentEditorAt600px(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "a window 600 px wide, the tracker's editors",
		chromedp.EmulateViewport(600, 900),
		chromedp.Navigate(p.URL+"/admin/servers/tracker"),
		chromedp.WaitVisible(chromedp.CSS(`#access-table`)),
	)
	screenshot(t, ctx, "editor-600")
	m, err := chromedp.Run(ctx, chromedp.Evaluate[pageWidth](`({
		Scroll: document.documentElement.scrollWidth,
		Client: document.documentElement.clientWidth,
		// Fields whose right edge is past the window.
		Narrow: [...document.querySelectorAll("#access-table input, #deny-table input, #access-form button, #deny-form button")]
			.filter(el => el.getClientRects().length > 0 && el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
			.map(el => (el.getAttribute("aria-label") || el.name || el.textContent) + " ends at " + Math.round(el.getBoundingClientRect().right) + "px"),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Scroll != m.Client {
		t.Errorf("the page is %d px wide in a window of %d: it scrolls sideways", m.Scroll, m.Client)
	}
	if len(m.Narrow) > 0 {
		t.Errorf("fields off screen: %q", m.Narrow)
	}
}
