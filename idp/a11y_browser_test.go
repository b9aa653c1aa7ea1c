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

// contrastJS is the contrast ratio (WCAG 2.2, relative luminance) of
// the text colour of the element sel names against the background
// colour of the nearest of it and its ancestors that has one.
const contrastJS = `((sel) => {
	const el = document.querySelector(sel);
	const rgb = (s) => s.match(/[\d.]+/g).map(Number);
	const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
		.reduce((s, c, i) => s + c * [0.2126, 0.7152, 0.0722][i], 0);
	let bg = el;
	while (bg && (getComputedStyle(bg).backgroundColor === "rgba(0, 0, 0, 0)" || getComputedStyle(bg).backgroundColor === "transparent")) bg = bg.parentElement;
	const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(bg ? getComputedStyle(bg).backgroundColor : "rgb(255,255,255)"));
	return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
})`

// TestBrowser_AppsSignOutIsReadable: My MCP servers' Sign out, in the
// dark header bar, has a contrast of at least 4.5:1 (WCAG 2.2 1.4.3). It
// was blue (#0b57d0) on the bar's #1d2330: 2.5:1, hard to find at all.
func TestBrowser_AppsSignOutIsReadable(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	ctx := chromium(t)
	stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(stepCtx,
		chromedp.Navigate(p.URL+"/apps"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "bob"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "bob-pw"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("signout")),
	); err != nil {
		t.Fatalf("signing bob in at /apps: %v", err)
	}
	ratio, err := chromedp.Run(stepCtx, chromedp.Evaluate[float64](contrastJS+`("#signout")`))
	if err != nil {
		t.Fatal(err)
	}
	if ratio < 4.5 {
		t.Errorf("Sign out's contrast is %.2f:1, want at least 4.5:1", ratio)
	}
}

// TestBrowser_AppsRefusalTakesTheFocus: when My MCP servers refuses a
// request (here: a form without the page's security token, as a page of
// an earlier session sends), the refusal has the focus as the page
// opens, so that a screen reader reads it at once, as the console's
// refusals do. Its role=alert is not announced on a page as it loads:
// the user heard the page's title and header, and nothing of the
// refusal unless they read on.
func TestBrowser_AppsRefusalTakesTheFocus(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	ctx := chromium(t)
	stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(stepCtx,
		chromedp.Navigate(p.URL+"/apps"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "bob"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "bob-pw"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("request-wiki")),
		chromedp.SetAttributeValue(chromedp.CSS(`#request-wiki input[name="csrf"]`), "value", "stale"),
		chromedp.Click(chromedp.CSS(`#request-wiki button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("error")),
	); err != nil {
		t.Fatalf("sending a request with a stale token: %v", err)
	}
	pollCtx, cancelPoll := context.WithTimeout(ctx, 5*time.Second)
	defer cancelPoll()
	if _, err := chromedp.Run(pollCtx, chromedp.Poll[bool](`document.activeElement && document.activeElement.id === "error"`)); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 100) : "nothing"`))
		t.Errorf("the refusal does not have the focus; %s does", got)
	}
}
