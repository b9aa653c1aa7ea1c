package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_ConsoleFitsA320pxWindow: every page of the console, in a
// window 320 CSS px wide (a small phone, or 1280 px at 400% zoom; WCAG
// 2.2 1.4.10 Reflow), does not scroll sideways as a whole: a table wider
// than the window scrolls in its own box, and the rest of the page (the
// headings, the filters, the editors' fields, the buttons) stays on
// screen. The overview was 890 px wide (the pending requests' table),
// the audit log 739, MCP servers 582, so reading any line meant
// scrolling both ways.
func TestBrowser_ConsoleFitsA320pxWindow(t *testing.T) {
	p := start(t)
	_ = exchange(t, p, "bob") // a refusal on the overview and in the audit log
	requestAccess(t, p)       // a pending request on the overview and the tracker's page
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	for _, path := range []string{"/admin/", "/admin/servers", "/admin/servers/tracker", "/admin/users", "/admin/audit",
		"/admin/explain?user=bob&client=mcp-client&server=tracker", "/admin/onboarding"} {
		run(t, ctx, "opening "+path+" 320 px wide",
			chromedp.EmulateViewport(320, 640),
			chromedp.Navigate(p.URL+path),
			until(`document.readyState === "complete"`),
		)
		m, err := chromedp.Run(ctx, chromedp.Evaluate[pageWidth](`({
			Scroll: document.documentElement.scrollWidth,
			Client: document.documentElement.clientWidth,
			// What ends past the window, outside a box that scrolls.
			Narrow: [...document.querySelectorAll("main *")]
				.filter(el => el.getClientRects().length > 0 && el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
				.filter(el => !el.parentElement.closest(".wide"))
				.map(el => el.tagName + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : "") + " ends at " + Math.round(el.getBoundingClientRect().right) + "px"),
		})`))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "reflow-320"+strings.NewReplacer("/", "-", "?", "-").Replace(path))
		if m.Scroll != m.Client {
			t.Errorf("%s is %d px wide in a window of %d: it scrolls sideways; past the window: %q", path, m.Scroll, m.Client, m.Narrow)
		} else if len(m.Narrow) > 0 {
			t.Errorf("%s: past the window: %q", path, m.Narrow)
		}
	}
}

// TestBrowser_TenantListFitsA320pxWindow: the list of tenants a server
// of several shows at its root and at /admin/ (where each tenant's
// console is found) does not scroll sideways in a window 320 px wide:
// its table of issuers and addresses scrolls in its own box. The page
// was 1,272 px wide.
func TestBrowser_TenantListFitsA320pxWindow(t *testing.T) {
	_, base := startTenantsFrom(t, "../fixtures/samples/tenants.yaml")
	ctx := chromium(t)
	for _, path := range []string{"/", "/admin/"} {
		run(t, ctx, "opening "+path+" 320 px wide",
			chromedp.EmulateViewport(320, 640),
			chromedp.Navigate(base+path),
			until(`document.readyState === "complete"`),
		)
		w, err := chromedp.Run(ctx, chromedp.Evaluate[[2]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if w[0] > w[1] {
			t.Errorf("%s is %d px wide in a window of %d: it scrolls sideways", path, w[0], w[1])
		}
	}
}
