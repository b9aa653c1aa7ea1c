package idp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestBrowser_AppsLongTextsKeepThePageOnScreen: /apps with a server name
// of 250 characters without a space (assigned, and another one to
// request) and an administrator's denial reason of 1,000 does not scroll
// sideways: the texts break inside, as the login page's and the
// console's do. The page was 12,500 px wide, its header bar ending at
// the window's edge, and the request form's button off screen.
func TestBrowser_AppsLongTextsKeepThePageOnScreen(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for j := range cfg.MCPServers {
		cfg.MCPServers[j].Name = strings.Repeat(cfg.MCPServers[j].Name, 250)[:250]
	}
	p := startIdP(t, cfg)
	p.Clock().Freeze()
	p.Clock().Set(time.Date(2030, 1, 1, 0, 1, 0, 0, time.UTC))
	q, err := p.AccessRequests().Create(access.Request{User: "bob", Server: "wiki", Scopes: []string{"wiki.read"}, Reason: "docs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AccessRequests().Decide(q.ID, access.Decision{Status: access.Denied, Admin: "alice", Reason: strings.Repeat("D", 1000)}); err != nil {
		t.Fatal(err)
	}
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
	); err != nil {
		t.Fatalf("signing bob in at /apps: %v", err)
	}
	width, err := chromedp.Run(stepCtx, chromedp.Evaluate[[2]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
	if err != nil {
		t.Fatal(err)
	}
	if width[0] > width[1] {
		t.Errorf("/apps scrolls sideways: %d px wide in a window of %d", width[0], width[1])
	}
}

// TestBrowser_LoginErrorKeepsALongUsernameOnScreen: the login page's
// refusal that names the user who signed in (an application's
// id_token_hint named another) breaks a username of 250 characters
// without a space inside the page, which scrolled sideways.
func TestBrowser_LoginErrorKeepsALongUsernameOnScreen(t *testing.T) {
	long := strings.Repeat("u", 250)
	cfg, err := policy.Parse([]byte(strings.Replace(appsConfig, "sub: u-bob}\n", "sub: u-bob}\n  - {username: "+long+", password: long-pw}\n", 1)), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	bob, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: p.URL, ClientID: "mcp-client", ClientSecret: "s1", Username: "bob", Password: "bob-pw"})
	if err != nil {
		t.Fatal(err)
	}
	_, challenge := pkce()
	params := authParams("http://127.0.0.1/callback", challenge)
	params.Set("id_token_hint", bob.IDToken())
	ctx := chromium(t)
	stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(stepCtx,
		chromedp.Navigate(p.URL+"/authorize?"+params.Encode()),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), long),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "long-pw"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.err`)),
	); err != nil {
		t.Fatalf("signing in as the long username for bob's hint: %v", err)
	}
	type shown struct {
		Err              string
		ScrollW, ClientW int
	}
	got, err := chromedp.Run(stepCtx, chromedp.Evaluate[shown](`({Err: document.querySelector("p.err").textContent,
		ScrollW: document.documentElement.scrollWidth, ClientW: document.documentElement.clientWidth})`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Err, long) {
		t.Fatalf("the refusal does not name the user: %q", got.Err)
	}
	if got.ScrollW > got.ClientW {
		t.Errorf("the login page's refusal scrolls sideways: %d px wide in a window of %d", got.ScrollW, got.ClientW)
	}
}
