package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// pagedUsers serves a file of 250 users (user0, an admin, signs in with
// the password user0), more than a page of the users page.
func pagedUsers(t *testing.T) *product {
	t.Helper()
	data := policytest.Large(policytest.Size{Users: 250, Groups: 10, Servers: 3, Clients: 5})
	store, err := policy.NewStore(data, "company.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, store)
}

var matrixRow = regexp.MustCompile(`<tr>\s*<th scope="row"><a href="#user-(user\d+)">`)

// matrixUsers are the users of the page's matrix, in order.
func matrixUsers(body string) []string {
	var out []string
	for _, m := range matrixRow.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func span(from, to int) string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, fmt.Sprint("user", i))
	}
	return strings.Join(s, " ")
}

func TestUsers_PagedWithNextPreviousAndSearch(t *testing.T) {
	p := pagedUsers(t)
	b := p.browser(t)
	if resp, body := b.signIn("user0", "user0"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %.300s", resp.StatusCode, body)
	}
	for _, c := range []struct {
		path, users, rng, prev, next string
	}{
		{"/admin/users", span(0, 99), "Users 1 to 100 of 250", "", "/admin/users?after=user99"},
		{"/admin/users?after=user99", span(100, 199), "Users 101 to 200 of 250", "/admin/users", "/admin/users?after=user199"},
		{"/admin/users?after=user199", span(200, 249), "Users 201 to 250 of 250", "/admin/users?after=user99", ""},
		{"/admin/users?after=user149", span(150, 249), "Users 151 to 250 of 250", "/admin/users?after=user49", ""},
		{"/admin/users?after=user30", span(31, 130), "Users 32 to 131 of 250", "/admin/users", "/admin/users?after=user130"},
	} {
		resp, body := b.get(c.path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %.300s", c.path, resp.StatusCode, body)
		}
		if got := strings.Join(matrixUsers(body), " "); got != c.users {
			t.Errorf("%s: matrix rows %s, want %s", c.path, got, c.users)
		}
		if !strings.Contains(body, c.rng) || !strings.Contains(body, `id="user-search"`) {
			t.Errorf("%s: no %q or no search form", c.path, c.rng)
		}
		for rel, want := range map[string]string{"prev": c.prev, "next": c.next} {
			m := regexp.MustCompile(`<a href="([^"]*)" rel="` + rel + `">`).FindStringSubmatch(body)
			if got := ""; m != nil {
				got = m[1]
				if got != want {
					t.Errorf("%s: rel=%s %q, want %q", c.path, rel, got, want)
				}
			} else if want != "" {
				t.Errorf("%s: no rel=%s link, want %q", c.path, rel, want)
			}
		}
		// Every cell is filled: user i is in groups i..i+2, which some
		// server grants.
		if n := strings.Count(body, `<td class="yes"`) + strings.Count(body, `<td class="no"`); n != 3*len(matrixUsers(body)) {
			t.Errorf("%s: %d cells for %d users on 3 servers", c.path, n, len(matrixUsers(body)))
		}
	}

	// The search box: one user, and group members elsewhere link to theirs.
	_, body := b.get("/admin/users?user=user123")
	if got := strings.Join(matrixUsers(body), " "); got != "user123" || strings.Contains(body, `rel="next"`) || !strings.Contains(body, `value="user123"`) {
		t.Errorf("user=user123: rows %s\n%.2000s", got, body)
	}
	for _, want := range []string{`<a class="tag" href="#user-user123"><bdi>user123</bdi></a>`, `<a class="tag" href="/admin/users?user=user124#user-user124"><bdi>user124</bdi></a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("user=user123 lacks %s", want)
		}
	}
	// A username with after= too (a hand-edited address): the user, not
	// "There is no user named".
	if _, body = b.get("/admin/users?after=user200&user=user123"); strings.Join(matrixUsers(body), " ") != "user123" || strings.Contains(body, `id="no-user"`) {
		t.Errorf("after=user200&user=user123: rows %s\n%.2000s", strings.Join(matrixUsers(body), " "), body)
	}
	if _, body = b.get("/admin/users?user=nobody"); !strings.Contains(body, `id="no-user"`) || len(matrixUsers(body)) != 0 {
		t.Errorf("user=nobody: %d rows, no message", len(matrixUsers(body)))
	}
	resp, body := b.get("/admin/users?after=nobody")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "no longer in the configuration") || strings.Contains(body, "could not be read") {
		t.Errorf("after=nobody: %d %.2000s", resp.StatusCode, body)
	}
}

// TestUsers_SmallFileIsOnePage: a file of fewer users than a page shows
// them all, as before: no search box, no pager.
func TestUsers_SmallFileIsOnePage(t *testing.T) {
	_, b := signedIn(t)
	_, body := b.get("/admin/users")
	for _, not := range []string{`id="user-search"`, `class="pager"`, `id="page-range"`} {
		if strings.Contains(body, not) {
			t.Errorf("the users page of a small file has %s", not)
		}
	}
}

func TestBrowser_UsersPages(t *testing.T) {
	p := pagedUsers(t)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "user0")
	run(t, ctx, "opening users", chromedp.Navigate(p.URL+"/admin/users"), chromedp.WaitVisible(chromedp.ID("matrix")))
	if s := text(t, ctx, "#page-range"); !strings.Contains(s, "Users 1 to 100 of 250") {
		t.Fatalf("first page: %q", s)
	}
	run(t, ctx, "next page", clickTo(`a[rel="next"]`, `#page-range`))
	if s := text(t, ctx, "#page-range"); !strings.Contains(s, "Users 101 to 200 of 250") {
		t.Fatalf("second page: %q", s)
	}
	run(t, ctx, "next page", clickTo(`a[rel="next"]`, `#page-range`))
	if s := text(t, ctx, "#matrix tbody tr:last-child th"); s != "user249" {
		t.Errorf("the last page ends with %q, want user249", s)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('a[rel="next"]').length`)); err != nil || n != 0 {
		t.Errorf("the last page has %d next links (%v)", n, err)
	}
	run(t, ctx, "previous page", clickTo(`a[rel="prev"]`, `#page-range`))
	if s := text(t, ctx, "#page-range"); !strings.Contains(s, "Users 101 to 200 of 250") {
		t.Fatalf("back to the second page: %q", s)
	}
	screenshot(t, ctx, "users-paged")
	run(t, ctx, "searching for user7",
		chromedp.SetValue(chromedp.CSS(`#user-search input[name="user"]`), "user7"),
		clickTo(`#user-search button[type="submit"]`, `#matrix`))
	if s := text(t, ctx, "#matrix tbody"); !strings.HasPrefix(strings.TrimSpace(s), "user7") || strings.Contains(s, "user8") {
		t.Errorf("user7 alone: %q", s)
	}
	// A group member on no page shown leads to that user's row.
	run(t, ctx, "following a group member", clickTo(`#groups ~ .wide a.tag[href*="user=user9#"]`, `#user-user9`))
	if s := text(t, ctx, "#matrix tbody"); !strings.HasPrefix(strings.TrimSpace(s), "user9") {
		t.Errorf("user9 alone: %q", s)
	}
}

// TestUsers_IntroSaysWhichUsers: the page's intro said the rule and reason
// are "for every user, in the Users table below", though on a paged file
// the table holds one page of users. A file of one page says every user;
// a paged one, each user of this page.
func TestUsers_IntroSaysWhichUsers(t *testing.T) {
	_, small := signedIn(t)
	paged := pagedUsers(t).browser(t)
	if resp, body := paged.signIn("user0", "user0"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %.300s", resp.StatusCode, body)
	}
	for _, c := range []struct {
		name      string
		b         *browser
		path      string
		want, not string
	}{
		{"one page", small, "/admin/users", "for every user, in the", "on this page"},
		{"paged", paged, "/admin/users", "for each user on this page, in the", "for every user"},
		{"paged, a later page", paged, "/admin/users?after=user99", "for each user on this page, in the", "for every user"},
		{"paged, one user", paged, "/admin/users?user=user7", "for each user on this page, in the", "for every user"},
	} {
		resp, body := c.b.get(c.path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, c.want) || strings.Contains(body, c.not) {
			t.Errorf("%s: %d, want %q and not %q in the intro:\n%.600s", c.name, resp.StatusCode, c.want, c.not, body[strings.Index(body, "<h2>"):])
		}
	}
}

// TestServers_EditorHintOfALargeDirectory: the assignment editor's hint
// lists the names to type when they are few; a directory of hundreds of
// users put every username above the editor (5,000 users: the editor
// nine screens down). Then the hint gives the count and leads to the
// users page, which pages and searches them.
func TestServers_EditorHintOfALargeDirectory(t *testing.T) {
	p := pagedUsers(t)
	b := p.browser(t)
	if resp, body := b.signIn("user0", "user0"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	_, list := b.get("/admin/servers")
	m := regexp.MustCompile(`href="/admin/servers/([^"]+)"`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("no server:\n%s", list)
	}
	_, page := b.get("/admin/servers/" + m[1])
	i, j := strings.Index(page, `<h2 id="access">`), strings.Index(page, `id="access-form"`)
	if i < 0 || j < i {
		t.Fatalf("no assignment editor:\n%s", page)
	}
	hint := page[i:j]
	if n := strings.Count(hint, "<bdi>user"); n > 50 {
		t.Errorf("the hint above the editor lists %d usernames", n)
	}
	if !strings.Contains(hint, "250 users") || !strings.Contains(hint, `href="/admin/users"`) {
		t.Errorf("the hint does not give the count and the users page:\n%s", hint)
	}
	if !strings.Contains(hint, "Groups: <bdi>") {
		t.Errorf("the hint no longer lists the 10 groups:\n%s", hint)
	}
}
