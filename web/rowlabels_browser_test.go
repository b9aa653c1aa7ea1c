package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// rowLabelProblems lists the assignment and deny editors' row fields whose
// accessible name does not name their row: every row has a groups and a
// users field (and more), and a screen reader user tabbing through them
// heard "groups, groups, groups" with no way to tell the rows apart; the
// scope and client boxes said only "issues.read" (until 2026-12-06).
const rowLabelProblems = `(() => {
	const bad = [];
	for (const id of ["access-table", "deny-table"]) {
		document.querySelectorAll("#" + id + " tbody tr").forEach((tr, i) => {
			tr.querySelectorAll('input[type=text], input[type=checkbox]').forEach((el) => {
				const l = el.getAttribute("aria-label") || "";
				if (!l.endsWith(", row " + (i + 1))) bad.push(id + " " + el.name + ": " + JSON.stringify(l));
			});
		});
	}
	return bad.join("\n");
})()`

// TestBrowser_EditorFieldsNameTheirRow: each field of an assignment or
// deny row is labelled with its row (from 1, as a refused save names
// rows), in the rows the page has and in those "Add a row" adds.
func TestBrowser_EditorFieldsNameTheirRow(t *testing.T) {
	p := start(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "opening the tracker's editors",
		chromedp.Navigate(p.URL+"/admin/servers/tracker"),
		chromedp.WaitVisible(chromedp.CSS(`[data-add-row="access-table"]`)),
	)
	check := func(when string) {
		t.Helper()
		bad, err := chromedp.Run(ctx, chromedp.Evaluate[string](rowLabelProblems))
		if err != nil {
			t.Fatal(err)
		}
		if bad != "" {
			t.Errorf("%s, fields whose label does not end with their row:\n%s", when, bad)
		}
	}
	check("as served")
	run(t, ctx, "adding rows",
		click(chromedp.CSS(`[data-add-row="access-table"]`)),
		click(chromedp.CSS(`[data-add-row="access-table"]`)),
		click(chromedp.CSS(`[data-add-row="deny-table"]`)),
	)
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#access-table tbody tr").length`))
	if err != nil || n < 3 {
		t.Fatalf("after two added rows the access table has %d rows (%v)", n, err)
	}
	check("after Add a row")
}
