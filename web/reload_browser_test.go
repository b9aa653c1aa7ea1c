package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// reloadAndGoBack reloads the page a change led to, waiting for wait on
// it, then goes back, and checks that count, of the change's audit
// events, stays as it was after the change.
func reloadAndGoBack(t *testing.T, ctx context.Context, what, wait string, count func() int) {
	t.Helper()
	n := count()
	if n == 0 {
		t.Fatalf("%s: no event of the change was recorded", what)
	}
	run(t, ctx, what+": reloading",
		chromedp.Reload(),
		until(`document.readyState === "complete"`),
		chromedp.WaitVisible(chromedp.CSS(wait)),
	)
	if got := count(); got != n {
		t.Errorf("%s: reloading the page made the change again (%d events of it, were %d)", what, got, n)
	}
	// Chromium may show the page gone back to from its back/forward
	// cache (the form's page, which clickTo marked when it left): the
	// mark of the page left tells them apart, and the page is read by
	// script, without the DOM nodes of a document chromedp saw go.
	run(t, ctx, what+": going back",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.documentElement.dataset.back = "1"; setTimeout(() => history.back(), 0); true`)(ctx, tg)
			return err
		}),
		until(`!document.documentElement.dataset.back && document.readyState === "complete" && document.querySelector("header nav") !== null`),
	)
	if got := count(); got != n {
		t.Errorf("%s: going back made the change again (%d events of it, were %d)", what, got, n)
	}
}

// counter counts the audit events of log that f selects.
func counter(log func(audit.Filter) []audit.Event, f audit.Filter) func() int {
	f.Limit = audit.MaxQueryLimit
	return func() int { return len(log(f)) }
}

// TestBrowser_ReloadAfterOnboardingDoesNotRunItAgain runs zero-touch
// onboarding in the real browser, then reloads the result and goes back:
// the run answers with a redirect to its result's own address
// (Post/Redirect/Get), so neither sends the form again. The result page
// was the answer to the POST: a reload logged the user in and connected
// to every MCP server again.
func TestBrowser_ReloadAfterOnboardingDoesNotRunItAgain(t *testing.T) {
	srv := idptest.New(t) // the demo company, with its MCP servers below
	srv.StartDemoServers()
	ctx := chromium(t)
	signInWithBrowser(t, ctx, srv.Issuer(), "alice")
	run(t, ctx, "running onboarding for bob",
		chromedp.Navigate(srv.Issuer()+"/admin/onboarding"),
		chromedp.WaitVisible(chromedp.ID("onboarding-form")),
		chromedp.SetValue(chromedp.CSS(`select[name="user"]`), "bob"),
		chromedp.SetValue(chromedp.CSS(`select[name="client"]`), "mcp-client"),
		clickTo(`#onboarding-form button[type="submit"]`, `#onboarding-run`),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/admin/onboarding?run=") {
		t.Errorf("the run's result is at %s, not an address of its own", loc)
	}
	if s := text(t, ctx, "#onboarding-run"); !strings.Contains(s, "Wiki: connected") {
		t.Errorf("the run's result:\n%s", s)
	}
	reloadAndGoBack(t, ctx, "onboarding", "#onboarding-run", counter(srv.Audit, audit.Filter{Type: audit.TypeTokenExchange, User: "bob"}))
	if s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`)); strings.Contains(s, "Wiki: connected") {
		t.Errorf("back from the run's result, the form's page shows a run:\n%s", s)
	}
}

// TestBrowser_ReloadAfterAChangeDoesNotMakeItAgain saves each list and
// decides access requests in the real browser, reloading the page each
// led to and going back: no change is made twice.
func TestBrowser_ReloadAfterAChangeDoesNotMakeItAgain(t *testing.T) {
	p := start(t)
	log := p.IdP.Audit().Query
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")

	run(t, ctx, "saving the tracker's access list",
		chromedp.Navigate(p.URL+"/admin/servers/tracker"),
		chromedp.WaitVisible(chromedp.ID("access-form")),
		chromedp.SendKeys(chromedp.CSS(`input[name="a1.groups"]`), "sales"),
		click(chromedp.CSS(`input[name="a1.scopes"][value="issues.read"]`)),
		clickTo(`#access-form button[type="submit"]`, `.flash.ok`),
	)
	reloadAndGoBack(t, ctx, "saving the access list", "#access-form", counter(log, audit.Filter{Type: audit.TypeAdminChange, Server: "tracker"}))

	run(t, ctx, "saving the tracker's deny list",
		chromedp.Navigate(p.URL+"/admin/servers/tracker"),
		chromedp.WaitVisible(chromedp.ID("deny-form")),
		chromedp.SendKeys(chromedp.CSS(`input[name="d0.users"]`), "eve"),
		clickTo(`#deny-form button[type="submit"]`, `.flash.ok`),
	)
	reloadAndGoBack(t, ctx, "saving the deny list", "#deny-form", counter(log, audit.Filter{Type: audit.TypeAdminChange, Server: "tracker"}))

	id := requestAccess(t, p)
	run(t, ctx, "denying bob's request",
		chromedp.Navigate(p.URL+"/admin/"),
		clickTo(`#request-`+id+` form.deny button[type="submit"]`, `.flash.ok`),
	)
	reloadAndGoBack(t, ctx, "denying", "header nav", counter(log, audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Denied}))

	id = requestAccess(t, p)
	run(t, ctx, "approving bob's request",
		chromedp.Navigate(p.URL+"/admin/"),
		clickTo(`#request-`+id+` form.approve button[type="submit"]`, `.flash.ok`),
	)
	reloadAndGoBack(t, ctx, "approving", "header nav", counter(log, audit.Filter{Type: audit.TypeAccessRequest, Outcome: audit.Approved}))
}
