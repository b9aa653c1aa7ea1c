package web_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// consolePages are the console's pages as an admin reads them, with a
// refusal and a pending access request to show.
var consolePages = []string{"/admin/", "/admin/servers", "/admin/servers/tracker", "/admin/users", "/admin/audit",
	"/admin/explain?user=bob&client=mcp-client&server=tracker", "/admin/onboarding"}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// TestPages_TableHeadersSayWhatTheyHead: every header cell of the
// console's tables says whether it heads a column or a row (scope), and
// none is empty, so that a screen reader names a cell's column, and in
// the users' matrix its user, as it reads the cell. The matrix's user
// was an ordinary cell: moving along a row, a screen reader said
// "issues.read issues.write" and the server, never whose access it was;
// and the editors' last column, of the remove boxes, had an empty header.
func TestPages_TableHeadersSayWhatTheyHead(t *testing.T) {
	p, b := signedIn(t)
	_ = exchange(t, p, "bob")
	requestAccess(t, p)
	for _, path := range consolePages {
		_, body := b.get(path)
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode || n.Data != "th" {
				continue
			}
			var text strings.Builder
			for c := range n.Descendants() {
				if c.Type == html.TextNode {
					text.WriteString(c.Data)
				}
			}
			scope, _ := attr(n, "scope")
			inBody := n.Parent != nil && n.Parent.Parent != nil && n.Parent.Parent.Data == "tbody"
			switch {
			case strings.TrimSpace(text.String()) == "":
				t.Errorf("%s: an empty header cell", path)
			case inBody && scope != "row", !inBody && scope != "col":
				t.Errorf("%s: header %q has scope %q", path, strings.TrimSpace(text.String()), scope)
			}
		}
		if path == "/admin/users" {
			for n := range doc.Descendants() {
				if id, _ := attr(n, "id"); id == "matrix" {
					rows, th := 0, 0
					for r := range n.Descendants() {
						if r.Type == html.ElementNode && r.Data == "tr" && r.Parent.Data == "tbody" {
							rows++
							if c := r.FirstChild; c != nil {
								for c != nil && c.Type != html.ElementNode {
									c = c.NextSibling
								}
								if c != nil && c.Data == "th" {
									th++
								}
							}
						}
					}
					if rows == 0 || th != rows {
						t.Errorf("the matrix has %d rows, %d led by a row header (the user)", rows, th)
					}
				}
			}
		}
	}
}

// TestPages_NavigationsAreNamed: each navigation of a console page (the
// header's menu, the audit log's and the users' pages) has a name, so
// that a screen reader's list of landmarks tells them apart: the audit
// log's read "navigation, navigation".
func TestPages_NavigationsAreNamed(t *testing.T) {
	_, b := signedIn(t)
	for _, path := range consolePages {
		_, body := b.get(path)
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode || n.Data != "nav" {
				continue
			}
			name, _ := attr(n, "aria-label")
			if name == "" || seen[name] {
				t.Errorf("%s: a navigation named %q (named before: %v)", path, name, seen[name])
			}
			seen[name] = true
		}
	}
}
