package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// askAccess has bob send body, an access request, to the IdP's
// /me/access-requests, as /apps or a script does.
func askAccess(t *testing.T, p *product, body string) {
	t.Helper()
	tokens, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "bob", Password: "bob",
	})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/me/access-requests",
		strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tokens["access_token"].(string))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("bob's request: %v %v", resp, err)
	}
	resp.Body.Close()
}

// requestAccess has bob ask for the tracker at the IdP, as /apps or a
// script does, and returns the request's id.
func requestAccess(t *testing.T, p *product) string {
	t.Helper()
	askAccess(t, p, `{"server": "tracker", "scopes": ["issues.read", "issues.write"], "reason": "triage rota"}`)
	list := p.IdP.AccessRequests().List("pending")
	if len(list) != 1 {
		t.Fatalf("pending: %+v", list)
	}
	return list[0].ID
}

// TestBrowser_ApproveAnAccessRequest: alice sees bob's request on the
// overview, approves it for 8 hours with one of the two scopes, and the
// tracker's page shows the new entry with its time left.
func TestBrowser_ApproveAnAccessRequest(t *testing.T) {
	p := start(t)
	p.IdP.Clock().Freeze()
	id := requestAccess(t, p)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	row := "#request-" + id
	if s := text(t, ctx, row); !strings.Contains(s, "bob") || !strings.Contains(s, "triage rota") {
		t.Fatalf("the overview's pending request:\n%s", s)
	}
	screenshot(t, ctx, "access-requests")
	run(t, ctx, "approving for 8 hours with issues.read only",
		chromedp.SetValue(chromedp.CSS(row+` select[name="expires_in"]`), "8h"),
		click(chromedp.CSS(row+` form.approve input[value="issues.write"]`)),
		clickTo(row+` form.approve button[type="submit"]`, `.flash.ok`),
	)
	if s := text(t, ctx, ".flash.ok"); !strings.Contains(s, "approved") {
		t.Errorf("after approving: %q", s)
	}
	if s := text(t, ctx, "#access-requests"); !strings.Contains(s, "No pending access requests") {
		t.Errorf("the request is still listed:\n%s", s)
	}
	apps, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[string](chromedp.CSS(`#access-requests a.apps`), "href"))
	if err != nil || apps != p.URL+"/apps" {
		t.Errorf("the users' page is linked as %q (%v), want %s", apps, err, p.URL+"/apps")
	}

	run(t, ctx, "opening the tracker", chromedp.Navigate(p.URL+"/admin/servers/tracker"), chromedp.WaitVisible(chromedp.ID("access-form")))
	n := len(p.Store.Config().Server("tracker").Access) - 1
	sel := `input[name="a` + strconv.Itoa(n) + `.expires"]`
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	// Approved a moment ago for 8h, written to the second rounded up.
	now := p.IdP.Now().Add(8 * time.Hour)
	if got, perr := time.Parse("2006-01-02T15:04:05Z", v); err != nil || perr != nil || got.Before(now.Add(-10*time.Second)) || got.After(now.Add(time.Second)) {
		t.Errorf("the new entry's expires: %q (%v), want about %s", v, err, now.UTC().Format(time.RFC3339))
	}
	if s := text(t, ctx, "#access-table .expiry"); s != "expires in 7h 59m" && s != "expires in 8h 0m" {
		t.Errorf("the time left: %q", s)
	}
	screenshot(t, ctx, "access-request-approved")
	if err := exchange(t, p, "bob"); err != nil {
		t.Errorf("bob's exchange after the approval: %v", err)
	}
}

// TestBrowser_FilterTheAuditLogByAccessRequests: the audit page's filter
// offers the access_request type and its outcomes (docs/audit.md), so an
// admin finds bob's request by choosing them, and the form keeps them.
func TestBrowser_FilterTheAuditLogByAccessRequests(t *testing.T) {
	p := start(t)
	requestAccess(t, p)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "filtering the audit log by requested access requests",
		chromedp.Navigate(p.URL+"/admin/audit"),
		chromedp.WaitVisible(chromedp.CSS(`form.filters`)),
		chromedp.SetValue(chromedp.CSS(`select[name="type"]`), "access_request"),
		chromedp.SetValue(chromedp.CSS(`select[name="outcome"]`), "requested"),
		// The filtered page, not the one the form was on.
		clickTo(`form.filters button[type="submit"]`, `#events`),
	)
	for sel, want := range map[string]string{`select[name="type"]`: "access_request", `select[name="outcome"]`: "requested"} {
		if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel))); err != nil || v != want {
			t.Errorf("after filtering, %s shows %q (%v), want %s", sel, v, err, want)
		}
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#events tbody tr")].map(r => r.cells[1].textContent + " " + r.cells[2].textContent + " " + r.cells[3].textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !strings.Contains(rows[0], "access_request") || !strings.Contains(rows[0], "requested") || !strings.Contains(rows[0], "bob") {
		t.Errorf("the filtered audit log shows %q, want bob's one requested access_request", rows)
	}
}

// TestConsole_ApprovalWithEveryScopeUnchecked: bob asked for two scopes;
// alice approves with both unchecked. The console refuses (400, saying to
// check a scope or deny), adds no access entry with no scopes, and leaves
// the request pending; the way back is the page it was on.
func TestConsole_ApprovalWithEveryScopeUnchecked(t *testing.T) {
	p, b := signedIn(t)
	id := requestAccess(t, p)
	before := len(p.Store.Config().Server("tracker").Access)
	_, token, etag := openServer(t, b, "tracker")
	resp, page := b.post("/admin/access-requests/"+id+"/approve", url.Values{
		"csrf": {token}, "etag": {etag}, "back": {"/admin/servers/tracker"}, "expires_in": {"1h"},
	})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Check at least one scope") {
		t.Errorf("approval with no scope checked: %d\n%s", resp.StatusCode, page)
	}
	if href, _ := nextStepOf(t, page); href != "/admin/servers/tracker" {
		t.Errorf("next step %q, not the tracker's page", href)
	}
	if n := len(p.Store.Config().Server("tracker").Access); n != before {
		t.Errorf("the tracker has %d access entries, had %d", n, before)
	}
	if len(p.IdP.AccessRequests().List("pending")) != 1 {
		t.Error("the request was decided")
	}
	// With a scope checked, the same form approves.
	resp, page = b.post("/admin/access-requests/"+id+"/approve", url.Values{
		"csrf": {token}, "etag": {etag}, "back": {"/admin/servers/tracker"}, "expires_in": {"1h"}, "scopes": {"issues.read"},
	})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "approved") {
		t.Errorf("approval with issues.read: %d\n%s", resp.StatusCode, page)
	}
}

// TestRequests_ControlsSayWhoseRequest: each control of a pending
// request (its scope boxes, how long, the reason, Approve, Deny) is
// described by whose request for which server it is (aria-describedby),
// so that a screen reader moving through the form controls, or listing
// the buttons, tells one request's Approve from the next one's. Every
// request's controls read the same: "Approve", "Deny", "issues.read".
func TestRequests_ControlsSayWhoseRequest(t *testing.T) {
	p, b := signedIn(t)
	id := requestAccess(t, p)
	for _, path := range []string{"/admin/", "/admin/servers/tracker"} {
		_, page := b.get(path)
		doc, err := html.Parse(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]*html.Node{}
		var row *html.Node
		for n := range doc.Descendants() {
			if v, ok := attr(n, "id"); ok {
				byID[v] = n
				if v == "request-"+id {
					row = n
				}
			}
		}
		if row == nil {
			t.Fatalf("%s: no row for the request:\n%s", path, page)
		}
		controls := 0
		for n := range row.Descendants() {
			if n.Type != html.ElementNode || (n.Data != "input" && n.Data != "select" && n.Data != "button") {
				continue
			}
			if typ, _ := attr(n, "type"); typ == "hidden" {
				continue
			}
			controls++
			described, _ := attr(n, "aria-describedby")
			var text strings.Builder
			if d := byID[described]; d != nil {
				for c := range d.Descendants() {
					if c.Type == html.TextNode {
						text.WriteString(c.Data)
					}
				}
			}
			if !strings.Contains(text.String(), "bob") || !strings.Contains(text.String(), "tracker") {
				name, _ := attr(n, "name")
				t.Errorf("%s: the request's %s %s is described by %q: %q", path, n.Data, name, described, text.String())
			}
		}
		if controls != 6 { // two scope boxes, how long, Approve, reason, Deny
			t.Errorf("%s: %d controls in the request's row, want 6", path, controls)
		}
	}
}
