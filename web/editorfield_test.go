package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServers_UnreadableValueIsSaidAtItsField: a login age or an expiry
// the assignment editor cannot read is refused at its row: the field is
// marked invalid (aria-invalid) and described by the reason next to it
// (aria-describedby), and the refusal above the editor names the row and
// the column and links to the field. Before, the refusal was the admin
// API's "the body does not fit: ...; use the configuration's key names",
// naming neither, so the admin had to find the row among many. Nothing is
// saved.
func TestServers_UnreadableValueIsSaidAtItsField(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	before := p.Store.Version()
	form := assignSales(token, etag)
	form.Set("n", "4")
	form.Set("a1.max_auth_age", "soon")
	// A blank row between: the rows shown again are the entries, so the
	// one with the expiry is the third.
	form.Set("a3.users", "bob")
	form.Set("a3.scopes", "issues.read")
	form.Set("a3.expires", "tomorrow")
	resp, page := b.post("/admin/servers/tracker/access", form)
	if resp.StatusCode != http.StatusBadRequest || p.Store.Version() != before {
		t.Fatalf("unreadable values: %d, changed %v\n%s", resp.StatusCode, p.Store.Version() != before, page)
	}
	if strings.Contains(page, "key names") || strings.Contains(page, "body does not fit") {
		t.Errorf("the refusal speaks of the admin API's body:\n%s", page)
	}
	for _, c := range []struct{ field, value, column, row string }{
		{"a1.max_auth_age", "soon", "Login within", "row 2"},
		{"a2.expires", "tomorrow", "Expires", "row 3"},
	} {
		input := regexp.MustCompile(`<input [^>]*name="` + regexp.QuoteMeta(c.field) + `"[^>]*>`).FindString(page)
		if !strings.Contains(input, `value="`+c.value+`"`) || !strings.Contains(input, `aria-invalid="true"`) {
			t.Errorf("%s is not shown again marked invalid: %s", c.field, input)
			continue
		}
		m := regexp.MustCompile(`aria-describedby="([^"]+)"`).FindStringSubmatch(input)
		if m == nil {
			t.Errorf("%s is described by nothing: %s", c.field, input)
			continue
		}
		desc := regexp.MustCompile(`id="` + regexp.QuoteMeta(m[1]) + `"[^>]*>([^<]*)<`).FindStringSubmatch(page)
		if desc == nil || !strings.Contains(html.UnescapeString(desc[1]), `"`+c.value+`"`) {
			t.Errorf("%s's description %v does not say what is wrong with %q", c.field, desc, c.value)
		}
		refusal := page[strings.Index(page, `id="access-refusal"`):]
		refusal = refusal[:strings.Index(refusal, "</div>")]
		id := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(input)
		if id == nil || !strings.Contains(refusal, `href="#`+id[1]+`"`) || !strings.Contains(strings.ToLower(refusal), c.row+", "+strings.ToLower(c.column)) {
			t.Errorf("the refusal does not name %s, %s with a link to the field:\n%s", c.row, c.column, refusal)
		}
	}
}

// TestServers_ZeroLoginAgeIsSaidAtItsField: a login age of 0 (which the
// configuration refuses: a login in this very instant) is refused at its
// field like an unreadable one. Before, the parsers the editor checks with
// took it, and the admin API's refusal came through as "the body does not
// fit: [0].max_auth_age: ...; use the configuration's key names", naming
// the JSON body's index, not the row or the column.
func TestServers_ZeroLoginAgeIsSaidAtItsField(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	before := p.Store.Version()
	for _, zero := range []string{"0", "0s", "0m"} {
		form := assignSales(token, etag)
		form.Set("a1.max_auth_age", zero)
		resp, page := b.post("/admin/servers/tracker/access", form)
		if resp.StatusCode != http.StatusBadRequest || p.Store.Version() != before {
			t.Fatalf("max_auth_age %q: %d, changed %v\n%s", zero, resp.StatusCode, p.Store.Version() != before, page)
		}
		if strings.Contains(page, "key names") || strings.Contains(page, "body does not fit") {
			t.Errorf("max_auth_age %q: the refusal speaks of the admin API's body:\n%s", zero, page)
		}
		input := regexp.MustCompile(`<input [^>]*name="a1.max_auth_age"[^>]*>`).FindString(page)
		if !strings.Contains(input, `aria-invalid="true"`) {
			t.Errorf("max_auth_age %q is not marked invalid at its field: %s", zero, input)
		}
		if !strings.Contains(page, "row 2, login within") && !strings.Contains(strings.ToLower(page), "row 2, login within") {
			t.Errorf("max_auth_age %q: the refusal does not name row 2, Login within", zero)
		}
	}
}

// TestServers_UnknownNameIsSaidAtItsField: a name the configuration does
// not know (a mistyped user or group), or a row that names no one, is
// refused at its field, as an unreadable login age is: marked invalid,
// described by the reason, linked from the refusal by row and column.
// Before, the refusal only listed the configuration's problems above the
// editor, as "line 101: mcp_servers[0].access[1].users[0]: ...": the line
// of a file that was never written and the body's index from 0, while the
// editor numbers its rows from 1.
func TestServers_UnknownNameIsSaidAtItsField(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	before := p.Store.Version()
	form := assignSales(token, etag)
	form.Set("n", "4")
	form.Set("a1.users", "bobb")
	form.Set("a2.scopes", "issues.read") // names no one
	form.Set("a0.max_auth_age", "500ms") // read, but under the configuration's 1s
	deny := url.Values{"csrf": {token}, "etag": {etag}, "n": {"2"}, "d0.users": {"bob"}, "d1.groups": {"salse"}}
	for _, c := range []struct {
		path   string
		form   url.Values
		editor string
		fields map[string]string // field: what its error says
		rows   []string
	}{
		{"/admin/servers/tracker/access", form, "access",
			map[string]string{"a1.users": `unknown user "bobb"`, "a2.groups": "names no users or groups", "a0.max_auth_age": "shorter than 1s"},
			[]string{"row 2, users", "row 3, groups", "row 1, login within"}},
		{"/admin/servers/tracker/deny", deny, "deny",
			map[string]string{"d1.groups": `unknown group "salse"`}, []string{"row 2, groups"}},
	} {
		resp, page := b.post(c.path, c.form)
		if resp.StatusCode != http.StatusBadRequest || p.Store.Version() != before {
			t.Fatalf("%s: %d, changed %v\n%s", c.path, resp.StatusCode, p.Store.Version() != before, page)
		}
		refusal := page[strings.Index(page, `id="`+c.editor+`-refusal"`):]
		refusal = html.UnescapeString(strings.ToLower(refusal[:strings.Index(refusal, "</div>")]))
		for field, says := range c.fields {
			input := regexp.MustCompile(`<input [^>]*name="` + regexp.QuoteMeta(field) + `"[^>]*>`).FindString(page)
			if !strings.Contains(input, `id="`+field+`"`) || !strings.Contains(input, `aria-invalid="true"`) || !strings.Contains(input, `aria-describedby="`+field+`-error"`) {
				t.Errorf("%s is not marked invalid and described: %s", field, input)
			}
			desc := regexp.MustCompile(`id="` + regexp.QuoteMeta(field) + `-error"[^>]*>(?:<bdi>)?([^<]*)<`).FindStringSubmatch(page)
			if desc == nil || !strings.Contains(html.UnescapeString(desc[1]), says) {
				t.Errorf("%s's error %v does not say %q", field, desc, says)
			}
			if !strings.Contains(refusal, `href="#`+field+`"`) {
				t.Errorf("the refusal does not link to %s:\n%s", field, refusal)
			}
		}
		for _, row := range c.rows {
			if !strings.Contains(refusal, row) {
				t.Errorf("the refusal does not name %s:\n%s", row, refusal)
			}
		}
		if strings.Contains(refusal, "mcp_servers[") || strings.Contains(refusal, "line ") {
			t.Errorf("the refusal names the file's path or line, not the editor's row:\n%s", refusal)
		}
	}
}

// TestServers_PastExpiryIsSaidAtItsField: an expiry typed that has passed
// on the IdP's clock is refused at its field: saved, the entry would match
// nobody from the start (the row then said "expired", and nothing else
// did). An entry that has expired already keeps its expiry when another
// row is saved: the admin API accepts it, and so does the console.
func TestServers_PastExpiryIsSaidAtItsField(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	now := p.IdP.Now()
	past := now.Add(-time.Hour).UTC().Format(time.RFC3339)
	before := p.Store.Version()
	form := assignSales(token, etag)
	form.Set("a1.expires", past)
	resp, page := b.post("/admin/servers/tracker/access", form)
	if resp.StatusCode != http.StatusBadRequest || p.Store.Version() != before {
		t.Fatalf("an expiry in the past: %d, changed %v\n%s", resp.StatusCode, p.Store.Version() != before, page)
	}
	input := regexp.MustCompile(`<input [^>]*name="a1.expires"[^>]*>`).FindString(page)
	if !strings.Contains(input, `value="`+past+`"`) || !strings.Contains(input, `aria-invalid="true"`) {
		t.Fatalf("the past expiry is not shown again marked invalid: %s", input)
	}
	desc := regexp.MustCompile(`id="a1.expires-error"[^>]*>([^<]*)<`).FindStringSubmatch(page)
	if desc == nil || !strings.Contains(desc[1], "in the past") {
		t.Errorf("the past expiry's field says %v", desc)
	}

	// Saved while still in the future, then passed: saving another row
	// keeps the expired entry as it is.
	form.Set("a1.expires", now.Add(time.Hour).UTC().Format(time.RFC3339))
	if resp, page := b.post("/admin/servers/tracker/access", form); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Assignments saved") {
		t.Fatalf("a future expiry: %d\n%s", resp.StatusCode, page)
	}
	p.IdP.Clock().Set(now.Add(2 * time.Hour))
	page, token, etag = openServer(t, b, "tracker")
	expires := regexp.MustCompile(`name="a1.expires" value="([^"]+)"`).FindStringSubmatch(page)
	if expires == nil {
		t.Fatalf("no expiry on row 2:\n%s", page)
	}
	form = assignSales(token, etag)
	form.Set("a1.expires", expires[1])
	form.Set("a0.scopes", "issues.read")
	if resp, page := b.post("/admin/servers/tracker/access", form); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Assignments saved") {
		t.Fatalf("saving beside an entry expired since: %d\n%s", resp.StatusCode, page)
	}
}
