package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowser_ScriptButtonsDoNotShowWithoutTheScript: in a browser with
// JavaScript off, the buttons that only the console's script makes work
// (an editor's "Add a row", the audit log's live tail) take no room on
// the page. Before, the stylesheet's display for buttons overrode their
// hidden attribute, so a browser showed each and pressing it did nothing.
func TestBrowser_ScriptButtonsDoNotShowWithoutTheScript(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	run(t, ctx, "turning JavaScript off", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	signInWithBrowser(t, ctx, p.URL, "alice")
	// rendered reports whether the first node sel matches has a box, read
	// without the page's scripts: a node that is not rendered has none.
	rendered := func(sel string) bool {
		t.Helper()
		for range 50 {
			nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel), chromedp.AtLeast(1)))
			if err != nil {
				t.Fatalf("finding %s: %v", sel, err)
			}
			_, err = chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (dom.GetBoxModelResult, error) {
				return cdp.Call(ctx, tg, dom.GetBoxModel, dom.GetBoxModelParams{NodeID: nodes[0].NodeID})
			})
			if err == nil || strings.Contains(err.Error(), "Could not compute box model") {
				return err == nil
			}
			// The node was renumbered (the document finished loading
			// meanwhile): find it again.
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: no box model could be read", sel)
		return false
	}
	for _, c := range []struct{ path, sel, shown string }{
		{"/admin/servers/tracker", `button[data-add-row="access-table"]`, `#access-form button[type="submit"]`},
		{"/admin/servers/tracker", `button[data-add-row="deny-table"]`, `#deny-form button[type="submit"]`},
		{"/admin/audit", `#live`, `a[href^="/admin/audit/export?"]`},
	} {
		run(t, ctx, "opening "+c.path, chromedp.Navigate(p.URL+c.path), chromedp.WaitReady(chromedp.CSS(c.shown)))
		if !rendered(c.shown) {
			t.Fatalf("%s: %s, which is always shown, has no box: the test cannot tell", c.path, c.shown)
		}
		if rendered(c.sel) {
			t.Errorf("%s: %s shows without JavaScript, where pressing it does nothing", c.path, c.sel)
		}
	}
}
