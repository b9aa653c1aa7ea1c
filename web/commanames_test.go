package web_test

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestServers_NamesWithCommasSurviveASave: a group or user name may hold a
// comma ("R&D, Berlin", "Smith, John": the configuration takes them), but
// commas separate the names of an editor field. The page shows such a name
// in double quotes, and the field reads a quoted name as one, so the rows
// the page shows, sent back unchanged, save as they were. Before, the name
// was split at its comma into names no one has, and the server's
// assignments could not be saved at all.
func TestServers_NamesWithCommasSurviveASave(t *testing.T) {
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer(
		"name: sales", `name: "R&D, Berlin"`, "groups: [sales]", `groups: ["R&D, Berlin"]`,
		"username: bob", `username: "Baker, Bob"`,
	).Replace(string(data))
	cfg = strings.Replace(cfg, "      - groups: [engineering]\n", "      - groups: [engineering, \"R&D, Berlin\"]\n        users: [\"Baker, Bob\"]\n", 1)
	store, err := policy.NewStore([]byte(cfg), "commas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := serve(t, store)
	b := signedInAt(t, p, "alice")
	page, token, etag := openServer(t, b, "tracker")
	field := func(page, name string) string {
		m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no field %s on the page", name)
		}
		return html.UnescapeString(m[1])
	}
	// The row as the page shows it, sent back unchanged, with a new row
	// typed by the admin: the quoted name and another.
	form := url.Values{
		"csrf": {token}, "etag": {etag}, "n": {"2"},
		"a0.groups": {field(page, "a0.groups")}, "a0.users": {field(page, "a0.users")},
		"a0.scopes": {"issues.read", "issues.write"},
		"a1.users":  {`"Baker, Bob", alice`}, "a1.scopes": {"issues.read"},
	}
	resp, body := b.post("/admin/servers/tracker/access", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Assignments saved") {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	got := p.Store.Config().Server("tracker").Access
	if len(got) != 2 ||
		!slices.Equal(got[0].Groups, []string{"engineering", "R&D, Berlin"}) || !slices.Equal(got[0].Users, []string{"Baker, Bob"}) ||
		!slices.Equal(got[1].Users, []string{"Baker, Bob", "alice"}) {
		t.Fatalf("access after the save: %+v", got)
	}
	if f := field(body, "a1.users"); f != `"Baker, Bob", alice` {
		t.Errorf("the saved row shows users %q", f)
	}
}
