package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowser_LiveTailRowsDoNotFlashForReducedMotion: with the system's
// "reduce motion" on (prefers-reduced-motion: reduce), a row the audit
// log's live tail adds does not flash its 2 s fade; without it, it does.
// The fade played regardless.
func TestBrowser_LiveTailRowsDoNotFlashForReducedMotion(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	// A row as the live tail adds it (console.js: class "new").
	const added = `(() => { const tb = document.querySelector("#events tbody");
		tb.insertAdjacentHTML("afterbegin", "<tr class='event'><td>t</td></tr>"); tb.firstElementChild.classList.add("new");
		return getComputedStyle(tb.firstElementChild).animationName; })()`
	for _, c := range []struct{ motion, want string }{{"no-preference", "flash"}, {"reduce", "none"}} {
		run(t, ctx, "prefers-reduced-motion: "+c.motion,
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: c.motion}}})
				return err
			}),
			chromedp.Navigate(p.URL+"/admin/audit"),
			until(`document.readyState === "complete"`),
		)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](added))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("prefers-reduced-motion: %s: a new row's animation is %q, want %q", c.motion, got, c.want)
		}
	}
}
