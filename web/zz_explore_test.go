package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestExplore_BackAfterSignIn(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "servers", chromedp.Navigate(p.URL+"/admin/servers/tracker"), chromedp.WaitVisible(chromedp.CSS(`#access-form`)))
	for i := 0; i < 3; i++ {
		run(t, ctx, "back", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.documentElement.dataset.left = "1"; history.back(); true`)(ctx, tg)
			return err
		}), until(`!document.documentElement.dataset.left && document.readyState === "complete"`))
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		tx, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : document.documentElement.outerHTML`))
		t.Logf("at %s (%v):\n%s", loc, err, tx)
	}
}
