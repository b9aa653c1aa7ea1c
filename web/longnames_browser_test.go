package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// pageWidth is how wide a page is laid out: its document's scrollWidth
// and clientWidth, and the headings of the columns too narrow to read.
type pageWidth struct {
	Scroll, Client int
	Narrow         []string
}

// long is a name of 120 characters without a place to break a line.
func long(prefix string) string { return prefix + strings.Repeat("abcdefghij", 12)[len(prefix):] }

// TestBrowser_LongNamesKeepThePageOnScreen: names of 120 characters
// without a space (a user, a group, a client, an MCP server, its id) break
// inside the name, not the page: at a normal and at a narrow window the
// page does not scroll sideways (its scrollWidth is its clientWidth), so
// the servers' Denied column stays on screen, and every column of every
// table stays readable, not one letter a line. Before, the page scrolled
// sideways and the Denied column was off screen.
func TestBrowser_LongNamesKeepThePageOnScreen(t *testing.T) {
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	user, group, clientID, server := long("user"), long("group"), long("client"), long("server")
	yaml := strings.Replace(string(data), "  - name: sales\n", "  - name: sales\n  - name: "+group+"\n    description: "+long("description")+"\n", 1)
	yaml = strings.Replace(yaml, "\nclients:\n", fmt.Sprintf(`  - username: %s
    password: %[1]s
    name: %s
    email: %s@example.com
    groups: [%s]

clients:
  - client_id: %s
    name: %s
    client_secret: long-secret
    redirect_uris: [http://127.0.0.1/callback, http://127.0.0.1/%s]
    token_exchange: true
`, user, long("name"), user, group, clientID, long("clientname"), long("path")), 1)
	yaml = strings.Replace(yaml, "      mcp-client: mcp-client-at-tracker\n", "      mcp-client: mcp-client-at-tracker\n      "+clientID+": "+long("attracker")+"\n", 1)
	yaml += fmt.Sprintf(`    deny:
      - users: [%s]
      - groups: [%s]
      - clients: [%s]
  - id: %s
    name: %s
    issuer: https://%s.example
    resources: [https://%s.example/mcp]
    scopes: [%s]
    clients:
      %s: %s
    access:
      - groups: [%s]
        users: [%s]
        scopes: [%s]
`, user, group, clientID, server, long("servername"), long("issuer"), long("resource"), long("scope"), clientID, long("atserver"), group, user, long("scope"))
	store, err := policy.NewStore([]byte(yaml), "long.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, yaml)
	}
	p := serve(t, store)
	// A refusal naming them all, for the overview and the audit log.
	tokens, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: p.URL, ClientID: clientID, ClientSecret: "long-secret", Username: user, Password: user})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{Issuer: p.URL, ClientID: clientID, ClientSecret: "long-secret",
		SubjectToken: tokens.IDToken(), Audience: "https://as.tracker.example"}); err == nil {
		t.Fatal("the exchange of the user the tracker denies succeeded")
	}
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	for _, width := range []int64{1280, 800} {
		run(t, ctx, fmt.Sprint("a window ", width, " wide"), chromedp.EmulateViewport(width, 900))
		for i, path := range []string{"/admin/", "/admin/servers", "/admin/servers/" + server, "/admin/servers/tracker", "/admin/users", "/admin/audit", "/admin/audit?type=token_exchange&user=" + user,
			"/admin/explain?user=" + user + "&client=" + clientID + "&server=tracker", "/admin/onboarding"} {
			run(t, ctx, "opening "+path, chromedp.Navigate(p.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
			screenshot(t, ctx, fmt.Sprintf("long-names-%d-%d", width, i))
			m, err := chromedp.Run(ctx, chromedp.Evaluate[pageWidth](`({
				Scroll: document.documentElement.scrollWidth,
				Client: document.documentElement.clientWidth,
				// A column narrower than 4 letters reads a letter or two a line.
				Narrow: [...document.querySelectorAll("main th")].filter(th => th.textContent.trim() !== "" && th.getBoundingClientRect().width < 4 * parseFloat(getComputedStyle(th).fontSize)).map(th => th.textContent.trim() + " " + Math.round(th.getBoundingClientRect().width) + "px"),
			})`))
			if err != nil {
				t.Fatal(err)
			}
			if m.Scroll != m.Client {
				t.Errorf("%s at %d px: the page is %d px wide in a window of %d: it scrolls sideways", path, width, m.Scroll, m.Client)
			}
			if len(m.Narrow) > 0 {
				t.Errorf("%s at %d px: columns too narrow to read: %q", path, width, m.Narrow)
			}
		}
	}
}
