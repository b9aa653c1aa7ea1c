package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser_FilterErrorIsAtItsField: a time the audit log's filter form
// cannot read (From, To), or a login age explain's form cannot, is refused
// next to the field that holds it, not only at the top of the page: the field is marked invalid
// (aria-invalid), describes itself with the reason (aria-describedby, so
// a screen reader reads it with the field), and has the focus, so that a
// keyboard user corrects it where they are.
func TestBrowser_FilterErrorIsAtItsField(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	for _, c := range []struct{ page, form, field, label, value string }{
		{"/admin/audit", "form.filters", "since", "From", "yesterday"},
		{"/admin/audit", "form.filters", "until", "To", "soon"},
		{"/admin/explain?user=alice&client=mcp-client&server=tracker", "form.explain", "auth_age", "Login age", "an hour"},
	} {
		run(t, ctx, "sending "+c.label+" "+c.value+" at "+c.page,
			chromedp.Navigate(p.URL+c.page),
			chromedp.WaitVisible(chromedp.CSS(`input[name="`+c.field+`"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="`+c.field+`"]`), c.value),
			clickTo(c.form+` button[type="submit"]`, c.form),
		)
		js := `(() => { const e = document.activeElement;
			if (!e || e.name !== ` + strconv.Quote(c.field) + ` || e.getAttribute("aria-invalid") !== "true") return "";
			const d = document.getElementById(e.getAttribute("aria-describedby") || "");
			return d ? d.textContent : ""; })()`
		pollCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := chromedp.Run(pollCtx, chromedp.Poll[bool](js+".includes("+strconv.Quote(c.value)+")", chromedp.WithPollingInterval(50*time.Millisecond)))
		cancel()
		if err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement; return e.outerHTML + " / " + e.getAttribute("aria-describedby"); })()`))
			t.Errorf("after a refused %s filter the focused element is %s, not the invalid field described by its error (%v)", c.label, got, err)
		}
		screenshot(t, ctx, "field-error-"+c.field)
		if s := text(t, ctx, c.form); !strings.Contains(s, c.value) {
			t.Errorf("the filter form does not say what is wrong with %q:\n%s", c.value, s)
		}
	}
}

// TestBrowser_UnreadableEditorValueLeadsToItsField: a login age the
// assignment editor cannot read is refused above the editor, which takes
// the focus as every refused save does; the refusal's link to the row
// takes a keyboard user (Tab, Enter), or a click, to the field, which
// says what is wrong with it.
func TestBrowser_UnreadableEditorValueLeadsToItsField(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "saving a login age of 'soon'",
		chromedp.Navigate(p.URL+"/admin/servers/tracker"),
		chromedp.WaitVisible(chromedp.CSS(`#access-form`)),
		chromedp.SetValue(chromedp.CSS(`input[name="a0.max_auth_age"]`), "soon"),
		clickTo(`#access-form button[type="submit"]`, `#access-refusal`),
	)
	waitFor := func(what, cond string) {
		t.Helper()
		pollCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := chromedp.Run(pollCtx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.outerHTML`))
			t.Fatalf("%s: the focus is on %s (%v)", what, got, err)
		}
	}
	waitFor("after the refused save", `document.activeElement.id === "access-refusal"`)
	// The browser settles the page's focus (autofocus) at its rendering
	// updates: keys pressed before those are done may have it moved back.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => r(true), 100))))`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "following the refusal's link with the keyboard",
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("\r"),
	)
	waitFor("after the refusal's link", `(() => { const e = document.activeElement;
		return e.name === "a0.max_auth_age" && e.getAttribute("aria-invalid") === "true" &&
			document.getElementById(e.getAttribute("aria-describedby")).textContent.includes('"soon"'); })()`)
	if u, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(u, "#") {
		t.Errorf("the link changed the address to %s", u)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.blur(); true`)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "clicking the refusal's link", click(chromedp.CSS(`#unreadable a`)))
	waitFor("after a click on the refusal's link", `document.activeElement.name === "a0.max_auth_age"`)
}

// TestBrowser_RefusalLinkActivatedWithoutKeysLeadsToItsField: a screen
// reader in browse mode (NVDA, JAWS) or voice control activates a link
// with a click of its own: no key reaches the page, and the click's detail
// is 0, as Enter's is. The script took every such click for Enter's and
// waited for a keyup that never came, having cancelled the link: the
// link did nothing at all, for the very users the field errors are for.
func TestBrowser_RefusalLinkActivatedWithoutKeysLeadsToItsField(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "saving a login age of 'soon'",
		chromedp.Navigate(p.URL+"/admin/servers/tracker"),
		chromedp.WaitVisible(chromedp.CSS(`#access-form`)),
		chromedp.SetValue(chromedp.CSS(`input[name="a0.max_auth_age"]`), "soon"),
		clickTo(`#access-form button[type="submit"]`, `#access-refusal`),
	)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.blur(); true`)); err != nil {
		t.Fatal(err)
	}
	// HTMLElement.click() is the activation assistive technology makes:
	// a click of detail 0, without key events.
	detail, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => { let d = -1;
		document.addEventListener("click", (e) => { d = e.detail; }, {capture: true, once: true});
		document.querySelector("#unreadable a").click(); return d; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if detail != 0 {
		t.Fatalf("the synthetic click has detail %d, not 0: the test does not make the click it means to", detail)
	}
	pollCtx, cancel := context.WithTimeout(ctx, time.Minute) // only guards a hang: a loaded machine's chromium needs room
	defer cancel()
	if _, err := chromedp.Run(pollCtx, chromedp.Poll[bool](`document.activeElement.name === "a0.max_auth_age"`, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.outerHTML`))
		t.Errorf("after the link's activation without keys the focus is on %s, not the field (%v)", got, err)
	}
}
