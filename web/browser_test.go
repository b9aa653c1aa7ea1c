package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/internal/browsertest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// chromium starts the real browser for one test (internal/browsertest).
func chromium(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return browsertest.Chromium(t, extra...)
}

// run runs browser steps, failing the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(stepCtx, steps...); err != nil {
		url, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, url, err)
	}
}

// text is the visible text of the first element matching a CSS selector.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

// click is chromedp.Click, for a click that stays on the page (a
// checkbox, a button of the page's script). A click that leads to
// another page is clickTo.
func click[S chromedp.Selectable](sel S, opts ...chromedp.QueryOption) chromedp.Action[chromedp.Void] {
	return chromedp.Click(sel, opts...)
}

// clickTo clicks sel, a link or a form's button, and waits for the page it
// leads to: a new document, at whatever address (the same one, after a
// save), loaded, with wait in it, visible.
//
// Loaded, not only shown: Chromium renumbers every node of a document when
// its DOMContentLoaded fires (DOM.documentUpdated), which comes after the
// deferred console.js has run, so well after the page is visible when the
// script is slow to arrive. A step that finds a node before then and acts
// on it after fails with "No node with given id found". readyState is
// "complete" only after DOMContentLoaded; the mark on the old document
// tells it from the new one, which a selector found on both pages cannot.
func clickTo(sel, wait string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.documentElement.dataset.left = "1"; true`)(ctx, tg)
			return err
		}),
		chromedp.Click(chromedp.CSS(sel)),
		until(`!document.documentElement.dataset.left && document.readyState === "complete" && document.querySelector(`+strconv.Quote(wait)+`) !== null`),
		chromedp.WaitVisible(chromedp.CSS(wait)),
	)
}

// until evaluates cond until it is true, through the navigations under way.
func until(cond string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for {
			if ok, err := chromedp.Evaluate[bool](cond)(ctx, tg); err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// screenshot saves the page as a PNG under $XAA_IDP_SCREENSHOTS, when set,
// for a person to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("XAA_IDP_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// signInWithBrowser opens the console and signs in on the IdP's login page.
func signInWithBrowser(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	run(t, ctx, "signing in as "+user,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), user),
		clickTo(`button[type="submit"]`, `header nav`),
	)
}

func TestBrowser_SignInAndReadThePages(t *testing.T) {
	p := start(t)
	if err := exchange(t, p, "bob"); err == nil {
		t.Fatal("bob's exchange for the tracker succeeded; the test expects a refusal to show")
	}
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	if h := text(t, ctx, "main h1"); h != "Overview" {
		t.Fatalf("after sign-in the page is %q", h)
	}
	if s := text(t, ctx, "main"); !strings.Contains(s, "not assigned") {
		t.Errorf("the overview does not show bob's refusal with its reason:\n%s", s)
	}
	screenshot(t, ctx, "overview")

	run(t, ctx, "opening the audit log", chromedp.Navigate(p.URL+"/admin/audit?type=token_exchange"), chromedp.WaitVisible(chromedp.CSS("#events")))
	if s := text(t, ctx, "#events"); !strings.Contains(s, "bob") || !strings.Contains(s, "denied") {
		t.Errorf("the audit log lacks bob's refused exchange:\n%s", s)
	}

	// The live tail shows a new event without a reload.
	run(t, ctx, "turning on the live tail",
		click(chromedp.ID("live")),
		chromedp.WaitVisible(chromedp.CSS(`#live[aria-pressed="true"]`)),
	)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(waitCtx, chromedp.Poll[bool](`document.getElementById("live-status").textContent.startsWith("waiting")`)); err != nil {
		t.Fatalf("the live tail did not connect: %v", err)
	}
	if err := exchange(t, p, "bob"); err == nil {
		t.Fatal("bob's exchange succeeded")
	}
	run(t, ctx, "waiting for the tailed event", chromedp.WaitVisible(chromedp.CSS("#events tbody tr.new")))
	screenshot(t, ctx, "audit")

	run(t, ctx, "opening users", chromedp.Navigate(p.URL+"/admin/users"), chromedp.WaitVisible(chromedp.ID("matrix")))
	if s := text(t, ctx, "#matrix"); !strings.Contains(s, "issues.read issues.write") {
		t.Errorf("the matrix:\n%s", s)
	}
	screenshot(t, ctx, "users")
}

func TestBrowser_AssignAGroupAndSeeItEverywhere(t *testing.T) {
	p, file := startWithFile(t)
	if err := exchange(t, p, "bob"); err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("before the change bob's exchange for the tracker: %v, want access_denied", err)
	}
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")

	// Open the server from the list, give group sales issues.read, save.
	run(t, ctx, "opening the tracker",
		chromedp.Navigate(p.URL+"/admin/servers"),
		clickTo(`a[href="/admin/servers/tracker"]`, `#access-form`),
	)
	run(t, ctx, "assigning sales",
		chromedp.SendKeys(chromedp.CSS(`input[name="a1.groups"]`), "sales"),
		click(chromedp.CSS(`input[name="a1.scopes"][value="issues.read"]`)),
	)
	screenshot(t, ctx, "server-editing")
	run(t, ctx, "saving",
		clickTo(`#access-form button[type="submit"]`, `.flash.ok`),
	)
	if s := text(t, ctx, ".flash.ok"); !strings.Contains(s, "Assignments saved") {
		t.Fatalf("after saving: %q", s)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="a1.groups"]`))); err != nil || v != "sales" {
		t.Errorf("the saved page shows a1.groups %q (%v), want sales", v, err)
	}
	screenshot(t, ctx, "server-saved")

	// The explain page now allows bob, by the new rule.
	run(t, ctx, "explaining",
		chromedp.Navigate(p.URL+"/admin/explain"),
		chromedp.SetValue(chromedp.CSS(`select[name="user"]`), "bob"),
		chromedp.SetValue(chromedp.CSS(`select[name="client"]`), "mcp-client"),
		chromedp.SetValue(chromedp.CSS(`select[name="server"]`), "tracker"),
		clickTo(`form.explain button[type="submit"]`, `#decision`),
	)
	if s := text(t, ctx, "#decision"); !strings.Contains(s, "Allowed") || !strings.Contains(s, "tracker access[1]") || !strings.Contains(s, "issues.read") {
		t.Errorf("explain after the change:\n%s", s)
	}
	screenshot(t, ctx, "explain")

	// The file on disk has the new entry, and kept its comments.
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := policy.Parse(data, file)
	if err != nil {
		t.Fatalf("the written file is invalid: %v\n%s", err, data)
	}
	if acc := cfg.Server("tracker").Access; len(acc) != 2 || !slices.Equal(acc[1].Groups, []string{"sales"}) || !slices.Equal(acc[1].Scopes, []string{"issues.read"}) {
		t.Errorf("tracker access on disk: %+v", acc)
	}
	if !strings.Contains(string(data), "# engineering builds it") {
		t.Errorf("the file lost its comments:\n%s", data)
	}

	// The exchange refused before now succeeds.
	if err := exchange(t, p, "bob"); err != nil {
		t.Errorf("after the change bob's exchange: %v", err)
	}

	// The change is in the audit log, by alice.
	run(t, ctx, "reading the audit log",
		chromedp.Navigate(p.URL+"/admin/audit?type=admin_change"),
		chromedp.WaitVisible(chromedp.ID("events")),
	)
	if s := text(t, ctx, "#events tbody"); !strings.Contains(s, "admin_change") || !strings.Contains(s, "alice") || !strings.Contains(s, "tracker") {
		t.Errorf("the audit log lacks the admin_change:\n%s", s)
	}
	screenshot(t, ctx, "audit-admin-change")

	// "Add a row" (the page's script) adds a deny entry.
	run(t, ctx, "typing a deny entry for eve",
		chromedp.Navigate(p.URL+"/admin/servers/tracker"),
		chromedp.WaitVisible(chromedp.CSS(`[data-add-row="deny-table"]`)),
		click(chromedp.CSS(`[data-add-row="deny-table"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="d1.users"]`), "eve"),
	)
	// The other editor's Save, with eve typed in the deny list, would
	// reload the page without her: the browser asks first, and the
	// admin, staying, keeps what was typed.
	asked := make(chan page.DialogType, 1)
	go func() {
		for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			asked <- ev.Type
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	run(t, ctx, "saving the assignments with the deny list edited", click(chromedp.CSS(`#access-form button[type="submit"]`)))
	select {
	case typ := <-asked:
		if typ != page.DialogTypeBeforeunload {
			t.Errorf("the browser asked a %s, not whether to leave", typ)
		}
	case <-time.After(time.Minute): // only guards a hang: a loaded machine's chromium needs room
		t.Error("saving the assignments dropped the deny list's unsaved edit without asking")
	}
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('input[name="d1.users"]') || {value: "(gone)"}).value`)); err != nil || v != "eve" {
		t.Fatalf("after staying, d1.users is %q (%v), want eve", v, err)
	}
	run(t, ctx, "denying eve", clickTo(`#deny-form button[type="submit"]`, `.flash.ok`))
	select {
	case typ := <-asked:
		t.Errorf("saving the edited deny list asked a %s", typ)
	default:
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="d0.users"]`))); err != nil || v != "eve" {
		t.Errorf("after saving the deny list d0.users is %q (%v), want eve", v, err)
	}

	// Back after a save shows the server as it is now, not the boxes
	// checked on the page left: the browser put them back into the fresh
	// page's fields of the same names, and row 1 (now sales) was marked
	// for removal with the new version's ETag, so that the next save,
	// of anything, took sales off the server.
	run(t, ctx, "removing engineering",
		click(chromedp.CSS(`input[name="a0.remove"]`)),
		clickTo(`#access-form button[type="submit"]`, `.flash.ok`),
		chromedp.NavigateBack(),
		until(`document.readyState === "complete" && !document.querySelector(".flash.ok")`),
	)
	if checked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#access-form input:checked")].map(e => e.name + "=" + e.value)`)); err != nil || !slices.Equal(checked, []string{"a0.scopes=issues.read"}) {
		t.Errorf("back on the page before the removal, the checked boxes are %q (%v), want sales's scope only", checked, err)
	}
	run(t, ctx, "saving after back", clickTo(`#access-form button[type="submit"]`, `.flash.ok`))
	if acc := p.Store.Config().Server("tracker").Access; len(acc) != 1 || !slices.Equal(acc[0].Groups, []string{"sales"}) {
		t.Errorf("after back and a save, the tracker's access is %+v, want sales's entry", acc)
	}
}

// TestBrowser_SignOutEndsTheSessionOnTheServer copies the console cookie
// out of a real browser, signs out there, and sends the copy: refused.
func TestBrowser_SignOutEndsTheSessionOnTheServer(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	cookies, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{p.URL + "/admin/"}})
		return res.Cookies, err
	})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cookies, func(c *network.Cookie) bool { return c.Name == "xaa_idp_console" })
	if i < 0 {
		t.Fatalf("no console cookie in the browser: %v", cookies)
	}
	copied := &http.Cookie{Name: cookies[i].Name, Value: cookies[i].Value}
	if resp := getWithCookie(t, p.URL+"/admin/api/config", copied); resp.StatusCode != http.StatusOK {
		t.Fatalf("before sign-out, the copied cookie: %d", resp.StatusCode)
	}

	run(t, ctx, "signing out",
		clickTo(`form[action="/admin/signout"] button`, `a[href="/admin/signin"]`),
	)
	if s := text(t, ctx, "main"); !strings.Contains(s, "signed out") {
		t.Fatalf("after sign-out the page says:\n%s", s)
	}
	if resp := getWithCookie(t, p.URL+"/admin/api/config", copied); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after sign-out, the copied cookie reads the admin API: %d", resp.StatusCode)
	}
	if resp := getWithCookie(t, p.URL+"/admin/", copied); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out, the copied cookie opens the console: %d", resp.StatusCode)
	}
}

// TestBrowser_LiveTailSaysWhenItStops: when the console session ends (here
// a sign-out in another tab), the server ends the live tail, and the
// browser's reconnection is sent to sign in: the EventSource gives up.
// The page says so and what to do, rather than "reconnecting…" forever,
// and the button is off again.
func TestBrowser_LiveTailSaysWhenItStops(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "turning on the live tail",
		chromedp.Navigate(p.URL+"/admin/audit"),
		click(chromedp.ID("live")),
		chromedp.WaitVisible(chromedp.CSS(`#live[aria-pressed="true"]`)),
	)
	poll := func(what, cond string) {
		t.Helper()
		waitCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if _, err := chromedp.Run(waitCtx, chromedp.Poll[bool](cond)); err != nil {
			s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("live-status")))
			t.Fatalf("%s: %v; the status says %q", what, err, s)
		}
	}
	poll("the live tail did not connect", `document.getElementById("live-status").textContent.startsWith("waiting")`)

	other, cancel := chromedp.NewContext(ctx) // another tab of the same browser
	defer cancel()
	run(t, other, "signing out in another tab",
		chromedp.Navigate(p.URL+"/admin/"),
		clickTo(`form[action="/admin/signout"] button`, `a[href="/admin/signin"]`),
	)
	poll("the live tail did not say it stopped", `document.getElementById("live-status").textContent.includes("stopped")`)
	if s := text(t, ctx, "#live-status"); !strings.Contains(s, "Reload the page") {
		t.Errorf("the stopped live tail says %q; it should say what to do", s)
	}
	if s := text(t, ctx, "#live"); s != "Live tail: off" {
		t.Errorf("the button says %q after the tail stopped", s)
	}
}

// TestBrowser_SignOutInASecondTab: signed out in one tab, the admin presses
// Sign out in another, still showing the console. That is signed out too,
// not refused for a missing security token: the ended session has no
// token any more, and nothing of the console's is left to protect.
func TestBrowser_SignOutInASecondTab(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	other, cancel := chromedp.NewContext(ctx) // another tab of the same browser
	defer cancel()
	run(t, other, "signing out in the other tab",
		chromedp.Navigate(p.URL+"/admin/servers"),
		clickTo(`form[action="/admin/signout"] button`, `a[href="/admin/signin"]`),
	)
	run(t, ctx, "signing out in the first tab",
		clickTo(`form[action="/admin/signout"] button`, `main p.lead`),
	)
	if s := text(t, ctx, "main"); !strings.Contains(s, "signed out") {
		t.Errorf("the second sign-out says:\n%s", s)
	}
}
