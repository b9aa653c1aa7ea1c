package idp_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestPages_SignedOutPagesHaveAHeadingAndFitAPhone: the page a sign-out
// lands on (/logged-out) and the one a request form sent after the
// session ended gets (POST /apps) each have one h1, which a screen
// reader's user jumps to first, a main landmark, and the viewport meta
// the IdP's other pages have: without it a phone lays the page out 980
// px wide and shows it shrunk to a third. Both were a bare paragraph.
func TestPages_SignedOutPagesHaveAHeadingAndFitAPhone(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	get := func() (*http.Response, error) { return http.Get(p.URL + "/logged-out") }
	post := func() (*http.Response, error) {
		return http.PostForm(p.URL+"/apps", url.Values{"server": {"wiki"}, "csrf": {"x"}})
	}
	for name, do := range map[string]func() (*http.Response, error){"GET /logged-out": get, "POST /apps signed out": post} {
		resp, err := do()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		doc, err := html.Parse(strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		var h1, mains int
		viewport := false
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			switch n.Data {
			case "h1":
				h1++
			case "main":
				mains++
			case "meta":
				for _, a := range n.Attr {
					if a.Key == "name" && a.Val == "viewport" {
						viewport = true
					}
				}
			}
		}
		if h1 != 1 || mains != 1 || !viewport {
			t.Errorf("%s: %d h1, %d main, viewport meta %v; want 1, 1, true:\n%s", name, h1, mains, viewport, body)
		}
	}
}

// TestLogin_RefusalIsTheFieldsDescription: after a refused sign-in the
// username and password fields are described by the refusal
// (aria-describedby), so that a screen reader reads it with the field
// the page puts the focus in. The refusal was a role=alert paragraph
// only, which screen readers do not announce when it is on the page as
// it loads: the user heard "Password, required" and nothing of why.
func TestLogin_RefusalIsTheFieldsDescription(t *testing.T) {
	p := startIdP(t, emailLoginConfig(t))
	br := newBrowser(p)
	id, _ := br.pendingLogin(t)
	resp, body := br.postLogin(t, loginForm(id, "alice", "wrong"))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", resp.StatusCode)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*html.Node{}
	var fields []*html.Node
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		for _, a := range n.Attr {
			if a.Key == "id" {
				byID[a.Val] = n
			}
			if a.Key == "name" && (a.Val == "username" || a.Val == "password") && n.Data == "input" {
				fields = append(fields, n)
			}
		}
	}
	if len(fields) != 2 {
		t.Fatalf("%d fields:\n%s", len(fields), body)
	}
	for _, f := range fields {
		described := ""
		for _, a := range f.Attr {
			if a.Key == "aria-describedby" {
				described = a.Val
			}
		}
		var text strings.Builder
		if d := byID[described]; d != nil {
			for c := range d.Descendants() {
				if c.Type == html.TextNode {
					text.WriteString(c.Data)
				}
			}
		}
		if !strings.Contains(text.String(), "password") {
			t.Errorf("%v: described by %q, reading %q; want the refusal:\n%s", f.Attr, described, text.String(), body)
		}
	}
}
