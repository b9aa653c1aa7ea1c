package idp_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestBrowser_LoginPageFitsAPhone: the login page, in a window 320 CSS
// px wide (a small phone, or 1280 px at 400% zoom; WCAG 2.2 1.4.10
// Reflow), does not scroll sideways. Its box kept a minimum width of
// 18rem inside 2.5rem of padding each side: 344 px, so the page scrolled
// and the right edge of the fields and the button was off screen.
func TestBrowser_LoginPageFitsAPhone(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	ctx := chromium(t)
	stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(stepCtx,
		chromedp.EmulateViewport(320, 640),
		chromedp.Navigate(p.URL+"/apps"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
	); err != nil {
		t.Fatalf("opening the login page: %v", err)
	}
	width, err := chromedp.Run(stepCtx, chromedp.Evaluate[[2]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
	if err != nil {
		t.Fatal(err)
	}
	if width[0] > width[1] {
		t.Errorf("the login page scrolls sideways: %d px wide in a window of %d", width[0], width[1])
	}
}
