package web_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestBrowser_AuditPagesBackAndForth: a reader who paged back through the
// audit log with "Older" pages forward again with "Newer", page by page,
// keeping the filters, back to a page with no "Newer" beyond it.
func TestBrowser_AuditPagesBackAndForth(t *testing.T) {
	p := start(t)
	for i := range 8 {
		if _, err := p.IdP.Audit().Append(audit.Event{Type: audit.TypeTokenExchange, Outcome: audit.Denied, User: "bob", Reason: "refusal " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	rows := func(what string) []string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#events tbody tr > td:last-child > bdi")).map(b => b.textContent)`))
		if err != nil {
			t.Fatalf("%s: reading the rows: %v", what, err)
		}
		return got
	}
	links := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("nav.pager a")).map(a => a.textContent).join(" ")`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	run(t, ctx, "opening the audit log", open(p.URL+"/admin/audit?user=bob&limit=3", "#events"))
	pages := [][]string{
		{"refusal 7", "refusal 6", "refusal 5"},
		{"refusal 4", "refusal 3", "refusal 2"},
		{"refusal 1", "refusal 0"},
	}
	if got := rows("the newest page"); !slices.Equal(got, pages[0]) {
		t.Fatalf("the newest page shows %q, want %q", got, pages[0])
	}
	for i := 1; i < len(pages); i++ {
		run(t, ctx, "paging back", clickTo(`nav.pager a[rel="next"]`, "#events"))
		if got := rows("an older page"); !slices.Equal(got, pages[i]) {
			t.Fatalf("older page %d shows %q, want %q", i, got, pages[i])
		}
	}
	if l := links(); !strings.Contains(l, "Newer") || strings.Contains(l, "Older") {
		t.Errorf("the oldest page links %q; want Newer and no Older", l)
	}
	for i := len(pages) - 2; i >= 0; i-- {
		run(t, ctx, "paging forward", clickTo(`nav.pager a[rel="prev"]`, "#events"))
		if got := rows("a newer page"); !slices.Equal(got, pages[i]) {
			t.Fatalf("paging forward to page %d shows %q, want %q", i, got, pages[i])
		}
		if loc := location(t, ctx); !strings.Contains(loc, "user=bob") || !strings.Contains(loc, "limit=3") {
			t.Errorf("Newer led to %s, without the filters", loc)
		}
	}
	if l := links(); strings.Contains(l, "Newer") || !strings.Contains(l, "Older") {
		t.Errorf("the page of the newest events links %q; want Older and no Newer", l)
	}
}
