package idp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestBrowser_SignOutAsksUnlessTheIdPsOwnButton: in a real browser, an
// end_session without the session's id_token_hint asks before it ends
// anything, however the browser got there: an address the user typed
// (Sec-Fetch-Site: none, which once ended the session at once) or a link
// of another site. "Stay signed in" keeps the session; "Sign out" ends
// it. The "My MCP servers" page's own "Sign out" ends it in one click.
func TestBrowser_SignOutAsksUnlessTheIdPsOwnButton(t *testing.T) {
	p := startConformanceIdP(t)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><title>other site</title><a id="go" href="` + p.URL + `/end_session">a link</a>`))
	}))
	t.Cleanup(other.Close)
	otherURL := "http://localhost:" + other.URL[len("http://127.0.0.1:"):] // another host: another site
	ctx := chromium(t)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(stepCtx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	get := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	signedIn := func() bool {
		t.Helper()
		do("opening My MCP servers", chromedp.Navigate(p.URL+"/apps"), chromedp.WaitReady(chromedp.CSS("body")))
		return get("reading My MCP servers", chromedp.Evaluate[string](`String(document.querySelectorAll('#user').length)`)) == "1"
	}
	signIn := func() {
		t.Helper()
		do("signing alice in at My MCP servers",
			chromedp.Navigate(p.URL+"/apps"),
			chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "alice"),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "alice-pw"),
			chromedp.Click(chromedp.CSS(`input[name="password"] ~ button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.ID("user")),
		)
	}
	question := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		do(what, append(steps, chromedp.WaitVisible(chromedp.CSS(`form[action="end_session"] button`)))...)
		who := get("reading the question", chromedp.Text(chromedp.ID("user")))
		if who != "alice" {
			t.Fatalf("%s: the question names %q, want alice", what, who)
		}
	}

	signIn()
	question("typing the end_session address", chromedp.Navigate(p.URL+"/end_session"))
	do("staying signed in", chromedp.Click(chromedp.ID("stay")), chromedp.WaitReady(chromedp.CSS("body")))
	if !signedIn() {
		t.Fatal("the typed end_session ended the session without asking")
	}
	question("following another site's link", chromedp.Navigate(otherURL), chromedp.Click(chromedp.ID("go")))
	do("answering Sign out", chromedp.Click(chromedp.CSS(`form[action="end_session"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/apps"]`)))
	at := get("reading where sign-out led", chromedp.Location())
	if at != p.URL+"/logged-out" {
		t.Fatalf("Sign out led to %s, want %s/logged-out", at, p.URL)
	}
	if signedIn() {
		t.Fatal("the confirmed sign-out left the session")
	}

	signIn()
	do("clicking My MCP servers' Sign out", chromedp.Click(chromedp.ID("signout")),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/apps"]`)))
	at = get("reading where sign-out led", chromedp.Location())
	if at != p.URL+"/logged-out" {
		t.Fatalf("My MCP servers' Sign out led to %s, want %s/logged-out at once", at, p.URL)
	}
	if signedIn() {
		t.Fatal("My MCP servers' Sign out left the session")
	}
}

// TestBrowser_SignOutQuestionKeepsALongUsernameOnScreen: the sign-out
// question names the signed-in user; a username of 250 characters
// without a space breaks inside it rather than run 2,000 px past the
// page's edge, which scrolled sideways.
func TestBrowser_SignOutQuestionKeepsALongUsernameOnScreen(t *testing.T) {
	long := strings.Repeat("u", 250)
	cfg, err := policy.Parse([]byte(strings.ReplaceAll(strings.ReplaceAll(appsConfig, "[bob]", "["+long+"]"), "username: bob", "username: "+long)), "apps.yaml")
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
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), long),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "bob-pw"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.Navigate(p.URL+"/end_session"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="end_session"] button`)),
	); err != nil {
		t.Fatalf("opening the sign-out question: %v", err)
	}
	width, err := chromedp.Run(stepCtx, chromedp.Evaluate[[2]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
	if err != nil {
		t.Fatal(err)
	}
	if width[0] > width[1] {
		t.Errorf("the sign-out question scrolls sideways: %d px wide in a window of %d", width[0], width[1])
	}
}
