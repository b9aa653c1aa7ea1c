package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// lowContrastJS lists the console's text whose contrast with its
// background is under 4.5:1 (WCAG 2.2 1.4.3, relative luminance): each
// element holding text of its own, its colour against the background of
// the nearest of it and its ancestors that has one (every background of
// the console is a plain colour). Text that is not shown is left out.
const lowContrastJS = `(() => {
	const rgb = (s) => s.match(/[\d.]+/g).map(Number);
	const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
		.reduce((s, c, i) => s + c * [0.2126, 0.7152, 0.0722][i], 0);
	const clear = (c) => c === "transparent" || rgb(c)[3] === 0;
	const low = [];
	for (const el of document.querySelectorAll("body *")) {
		if (![...el.childNodes].some((n) => n.nodeType === 3 && n.data.trim())) continue;
		if (!el.getClientRects().length || getComputedStyle(el).visibility !== "visible") continue;
		if (el.closest("select, template, [hidden], details:not([open]) > :not(summary)")) continue;
		let bg = el;
		while (bg && clear(getComputedStyle(bg).backgroundColor)) bg = bg.parentElement;
		const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(bg ? getComputedStyle(bg).backgroundColor : "rgb(255, 255, 255)"));
		const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
		if (ratio < 4.5) low.push(el.localName + (el.className ? "." + el.className : "") + " " + JSON.stringify(el.textContent.trim().slice(0, 30)) + " at " + ratio.toFixed(2) + ":1");
	}
	return low;
})()`

// TestBrowser_ConsoleTextIsReadable: the text of the console's pages has
// a contrast of at least 4.5:1 with its background (WCAG 2.2 1.4.3). The
// users' matrix showed "no access" as a dash in #b6bcc8 on white, 1.9:1.
func TestBrowser_ConsoleTextIsReadable(t *testing.T) {
	p := start(t)
	_ = exchange(t, p, "bob")
	requestAccess(t, p)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	for _, path := range consolePages {
		run(t, ctx, "opening "+path, chromedp.Navigate(p.URL+path), until(`document.readyState === "complete"`))
		low, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](lowContrastJS))
		if err != nil {
			t.Fatal(err)
		}
		if len(low) > 0 {
			t.Errorf("%s: text under 4.5:1: %q", path, low)
		}
	}
}

// faintFieldsJS lists the console's text boxes and menus whose border,
// all that shows where an empty one is, has a contrast under 3:1 with
// the background around it (WCAG 2.2 1.4.11, non-text contrast).
const faintFieldsJS = `(() => {
	const rgb = (s) => s.match(/[\d.]+/g).map(Number);
	const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
		.reduce((s, c, i) => s + c * [0.2126, 0.7152, 0.0722][i], 0);
	const clear = (c) => c === "transparent" || rgb(c)[3] === 0;
	const faint = [];
	for (const el of document.querySelectorAll("main input:not([type=hidden]):not([type=checkbox]), main select")) {
		if (!el.getClientRects().length || el.getAttribute("aria-invalid") === "true") continue;
		let bg = el.parentElement;
		while (bg && clear(getComputedStyle(bg).backgroundColor)) bg = bg.parentElement;
		const a = lum(rgb(getComputedStyle(el).borderTopColor)), b = lum(rgb(bg ? getComputedStyle(bg).backgroundColor : "rgb(255, 255, 255)"));
		const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
		if (ratio < 3) faint.push((el.getAttribute("aria-label") || el.name) + " at " + ratio.toFixed(2) + ":1");
	}
	return faint;
})()`

// TestBrowser_ConsoleFieldsCanBeSeen: the border of each text box and
// menu of the console has a contrast of at least 3:1 with the background
// around it (WCAG 2.2 1.4.11). It was #c9ced8 on white, 1.6:1: an
// editor's empty Groups or Expires box was hard to find at all.
func TestBrowser_ConsoleFieldsCanBeSeen(t *testing.T) {
	p := start(t)
	requestAccess(t, p)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	for _, path := range consolePages {
		run(t, ctx, "opening "+path, chromedp.Navigate(p.URL+path), until(`document.readyState === "complete"`))
		faint, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](faintFieldsJS))
		if err != nil {
			t.Fatal(err)
		}
		if len(faint) > 0 {
			t.Errorf("%s: fields with a border under 3:1: %q", path, faint)
		}
	}
}
