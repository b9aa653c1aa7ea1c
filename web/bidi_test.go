package web_test

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
	"github.com/xaa-idp/xaa-idp/policy"
)

// startBidi serves the console's test company with a U+202E (RIGHT-TO-LEFT OVERRIDE), left
// unbalanced, in every text a person or a client can choose that the console shows: a group's
// description, an access request's reason, and the user name of a failed login (in the audit
// log). Display names (a user's, a client's, a server's) with a bidi override are refused by the
// file's check since 2026-12-06, so they are no longer among them.
func startBidi(t *testing.T) *product {
	t.Helper()
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := string(data)
	for old, hostile := range map[string]string{
		"description: Builds the product": `description: "Builds \u202ethe product"`,
	} {
		if !strings.Contains(yaml, old) {
			t.Fatalf("testdata/console.yaml has no %q", old)
		}
		yaml = strings.Replace(yaml, old, hostile, 1)
	}
	store, err := policy.NewStore([]byte(yaml), "testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := serve(t, store)
	// A failed login under a hostile name, audited as typed.
	p.browser(t).signIn("mallory\u202eexe.txt", "wrong")
	// bob asks for the tracker with a hostile reason.
	askAccess(t, p, `{"server": "tracker", "scopes": ["issues.read"], "reason": "triage \u202erota, approve"}`)
	return p
}

// bidiPages are the console pages that show the hostile texts of startBidi, each with one of
// them that it must show.
var bidiPages = []struct{ path, shows string }{
	{"/admin/", "triage \u202erota"},
	{"/admin/users", "Builds \u202ethe product"},
	{"/admin/servers/tracker", "triage \u202erota"},
	{"/admin/audit", "mallory\u202eexe"},
	{"/admin/audit?type=access_request", "triage \u202erota"},
}

// TestConsole_UserTextIsBidiIsolated: on every page, each text holding a bidi control or
// another invisible character sits alone in a <bdi>, or in an element with dir="auto" (an
// <option>, a <pre>), which isolates it: its override cannot reorder the text around it.
func TestConsole_UserTextIsBidiIsolated(t *testing.T) {
	p := startBidi(t)
	b := p.browser(t)
	b.signIn("alice", "alice")
	for _, pg := range bidiPages {
		_, body := b.get(pg.path)
		if !strings.Contains(body, pg.shows) {
			t.Errorf("%s does not show %q", pg.path, pg.shows)
			continue
		}
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.TextNode && strings.ContainsFunc(n.Data, jsonstr.Invisible) {
				if !isolated(n) {
					t.Errorf("%s: %q is not alone in a <bdi> or an element with dir=auto (in <%s>)", pg.path, n.Data, n.Parent.Data)
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
	}
}

// isolated reports whether the text node n is the only content of a <bdi> or of an element
// with dir="auto".
func isolated(n *html.Node) bool {
	p := n.Parent
	if p == nil || p.FirstChild != n || n.NextSibling != nil {
		return false
	}
	if p.Data == "bdi" {
		return true
	}
	for _, a := range p.Attr {
		if a.Key == "dir" && a.Val == "auto" {
			return true
		}
	}
	return false
}

// bidiSpills finds, in the page's <body>, each text holding U+202E; it returns those whose
// element the browser does not lay out as a bidi isolate (computed unicode-bidi), those whose
// block is not left to right, and those followed in their block, on their line, by a text that
// the browser lays out right to left (its first character right of its last) or that starts
// left of the end of the hostile text; and how many it checked.
const bidiSpills = `(() => {
	const blockOf = (n) => {
		for (let e = n.parentElement; e; e = e.parentElement) {
			if (getComputedStyle(e).display !== "inline") return e;
		}
		return document.body;
	};
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	const texts = [];
	for (let n = walker.nextNode(); n; n = walker.nextNode()) texts.push(n);
	const bad = [];
	let checked = 0;
	texts.forEach((n, i) => {
		if (!n.data.includes("\u202e")) return;
		if (n.parentElement.closest("select, details:not([open]) > :not(summary)")) return; // not laid out inline
		checked++;
		const ub = getComputedStyle(n.parentElement).unicodeBidi;
		if (!["isolate", "isolate-override", "plaintext"].includes(ub)) bad.push(JSON.stringify(n.data) + " is in a <" + n.parentElement.localName + "> with unicode-bidi " + ub);
		const block = blockOf(n);
		if (getComputedStyle(block).direction !== "ltr") bad.push(JSON.stringify(n.data) + " turns its <" + block.localName + "> right to left");
		const whole = document.createRange();
		whole.selectNodeContents(n);
		const hostile = whole.getBoundingClientRect();
		for (const next of texts.slice(i + 1)) {
			if (blockOf(next) !== block && !block.contains(next)) break;
			const s = next.data.trim();
			if (s.length < 3 || /[\u202a-\u202e\u2066-\u2069]/.test(next.data) || next.parentElement.closest("details:not([open]) > :not(summary)")) continue;
			const start = next.data.indexOf(s);
			const rect = (k) => { const r = document.createRange(); r.setStart(next, k); r.setEnd(next, k + 1); return r.getBoundingClientRect(); };
			const first = rect(start), last = rect(start + s.length - 1);
			if (first.width === 0 || last.width === 0 || Math.abs(first.top - last.top) > 2) continue;
			if (Math.abs(first.top - hostile.top) > 2) break; // another line
			if (first.left > last.left) bad.push(JSON.stringify(n.data) + " turns " + JSON.stringify(s) + " right to left");
			if (first.left < hostile.right - 1) bad.push(JSON.stringify(n.data) + " draws " + JSON.stringify(s) + " inside it");
			break;
		}
	});
	return {bad: bad, checked: checked};
})()`

// TestBrowser_BidiOverrideStaysInItsValue: in Chromium, every value holding an unbalanced
// U+202E is laid out as a bidi isolate, its block stays left to right, and a text that follows
// it on its line runs left to right after it.
func TestBrowser_BidiOverrideStaysInItsValue(t *testing.T) {
	p := startBidi(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	type result struct {
		Bad     []string `json:"bad"`
		Checked int      `json:"checked"`
	}
	total := 0
	for _, pg := range bidiPages {
		run(t, ctx, "opening "+pg.path, chromedp.Navigate(p.URL+pg.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		r, err := chromedp.Run(ctx, chromedp.Evaluate[result](bidiSpills))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range r.Bad {
			t.Errorf("%s: %s", pg.path, b)
		}
		total += r.Checked
	}
	if total < len(bidiPages) {
		t.Fatalf("%d hostile values checked on %d pages", total, len(bidiPages))
	}
}
