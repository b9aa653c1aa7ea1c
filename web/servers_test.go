package web_test

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

var etagInput = regexp.MustCompile(`id="access-form"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="etag" value="([^"]+)">`)

// openServer reads the server page and its CSRF token and ETag.
func openServer(t *testing.T, b *browser, id string) (page, token, etag string) {
	t.Helper()
	resp, page := b.get("/admin/servers/" + id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET server %s: %d\n%s", id, resp.StatusCode, page)
	}
	m := etagInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no ETag in the access form:\n%s", page)
	}
	return page, csrf(t, page), strings.ReplaceAll(m[1], "&#34;", `"`)
}

// assignSales is the access form with engineering kept and sales added.
func assignSales(token, etag string) url.Values {
	return url.Values{
		"csrf": {token}, "etag": {etag}, "n": {"2"},
		"a0.groups": {"engineering"}, "a0.scopes": {"issues.read", "issues.write"},
		"a1.groups": {"sales"}, "a1.scopes": {"issues.read"},
	}
}

func TestServers_ListAndPage(t *testing.T) {
	_, b := signedIn(t)
	resp, body := b.get("/admin/servers")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d", resp.StatusCode)
	}
	for _, want := range []string{`href="/admin/servers/tracker"`, "Issue Tracker", "https://as.tracker.example", "group <bdi>engineering</bdi>", "Acme AI Desktop", "confidential"} {
		if !strings.Contains(body, want) {
			t.Errorf("server list lacks %q", want)
		}
	}
	if strings.Contains(body, "mcp-secret") {
		t.Error("the server list shows a client secret")
	}
	page, _, etag := openServer(t, b, "tracker")
	for _, want := range []string{"https://mcp.tracker.example/mcp", "mcp-client-at-tracker", `name="a0.groups" value="engineering"`, `name="a0.scopes" value="issues.write" checked`, `name="a1.groups" value=""`, "Save deny list"} {
		if !strings.Contains(page, want) {
			t.Errorf("server page lacks %q", want)
		}
	}
	if etag == "" {
		t.Error("no ETag")
	}
	resp, _ = b.get("/admin/servers/nope")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown server: %d", resp.StatusCode)
	}
}

func TestServers_SaveAssignments(t *testing.T) {
	p, b := signedIn(t)
	if err := exchange(t, p, "bob"); err == nil {
		t.Fatal("bob's exchange succeeded before the change")
	}
	_, token, etag := openServer(t, b, "tracker")
	resp, body := b.post("/admin/servers/tracker/access", assignSales(token, etag))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Assignments saved") || !strings.Contains(body, `name="a1.groups" value="sales"`) {
		t.Fatalf("save: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if err := exchange(t, p, "bob"); err != nil {
		t.Errorf("bob's exchange after the change: %v", err)
	}
	// In memory (no --config): the banner says so, and the YAML download
	// has the change.
	if !strings.Contains(body, "Edits live in memory") || !strings.Contains(body, `href="/admin/config.yaml"`) {
		t.Error("no in-memory banner with the YAML download")
	}
	resp, yaml := b.get("/admin/config.yaml")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(yaml, "- groups: [sales]") && !strings.Contains(yaml, "sales") {
		t.Errorf("YAML download: %d %v\n%s", resp.StatusCode, resp.Header, yaml)
	}
	// Removing the entry again.
	_, token, etag = openServer(t, b, "tracker")
	form := assignSales(token, etag)
	form.Set("a1.remove", "1")
	resp, body = b.post("/admin/servers/tracker/access", form)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `value="sales"`) {
		t.Errorf("removing: %d\n%s", resp.StatusCode, body)
	}
	if err := exchange(t, p, "bob"); err == nil {
		t.Error("bob's exchange still succeeds after the entry was removed")
	}
}

func TestServers_SaveNeedsCSRFToken(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	for name, tok := range map[string]string{"missing": "", "wrong": token + "x"} {
		form := assignSales(tok, etag)
		if tok == "" {
			form.Del("csrf")
		}
		resp, body := b.post("/admin/servers/tracker/access", form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "security token") {
			t.Errorf("%s token: %d\n%s", name, resp.StatusCode, body)
		}
	}
	if s := p.Store.Config().Server("tracker"); len(s.Access) != 1 {
		t.Errorf("a refused request changed the access list: %+v", s.Access)
	}
	// The admin API refuses a session request without the header too: the
	// token protects both paths.
	req, _ := http.NewRequest(http.MethodPut, p.URL+"/admin/api/servers/tracker/access", strings.NewReader(`[]`))
	req.Header.Set("If-Match", etag)
	req.Header.Set("Content-Type", "application/json")
	resp, body := b.do(req)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "csrf") {
		t.Errorf("API PUT by session without X-CSRF-Token: %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest(http.MethodGet, p.URL+"/admin/api/servers/tracker", nil)
	if resp, _ := b.do(req); resp.StatusCode != http.StatusOK {
		t.Errorf("API GET by session: %d", resp.StatusCode)
	}
}

func TestServers_StaleSaveIsRefusedAndSaysSo(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	// Another admin saves first, from another browser.
	other := p.browser(t)
	other.signIn("eve", "eve")
	_, token2, etag2 := openServer(t, other, "tracker")
	if resp, _ := other.post("/admin/servers/tracker/access", assignSales(token2, etag2)); resp.StatusCode != http.StatusOK {
		t.Fatalf("eve's save: %d", resp.StatusCode)
	}
	form := assignSales(token, etag)
	form.Set("a1.groups", "sales, engineering")
	resp, body := b.post("/admin/servers/tracker/access", form)
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("stale save: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"someone else changed this server", `id="reload"`, `value="sales, engineering"`} {
		if !strings.Contains(body, want) {
			t.Errorf("stale save page lacks %q", want)
		}
	}
	if got := p.Store.Config().Server("tracker").Access[1].Groups; len(got) != 1 {
		t.Errorf("the stale save changed the list: %v", got)
	}
}

func TestServers_InvalidEditLeavesFileAndPolicyUntouched(t *testing.T) {
	p, file := startWithFile(t)
	b := p.browser(t)
	b.signIn("alice", "alice")
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, token, etag := openServer(t, b, "tracker")
	form := assignSales(token, etag)
	form.Set("a1.groups", "no-such-group")
	form.Set("a1.max_auth_age", "soon")
	resp, body := b.post("/admin/servers/tracker/access", form)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("invalid save: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "Not saved") || !strings.Contains(body, "invalid duration") || !strings.Contains(body, `value="no-such-group"`) {
		t.Errorf("invalid save page:\n%s", body)
	}
	after, _ := os.ReadFile(file)
	if string(after) != string(before) {
		t.Errorf("the file changed:\n%s", after)
	}
	if n := len(p.IdP.Config().Server("tracker").Access); n != 1 {
		t.Errorf("the running policy changed: %d entries", n)
	}
	// A group that does not exist is reported by name.
	form = assignSales(token, etag)
	form.Set("a1.groups", "no-such-group")
	_, body = b.post("/admin/servers/tracker/access", form)
	if !strings.Contains(body, `id="problems"`) || !strings.Contains(body, "no-such-group") {
		t.Errorf("the problems are not listed:\n%s", body)
	}
}

func TestServers_SaveDenyList(t *testing.T) {
	p, b := signedIn(t)
	page, token, _ := openServer(t, b, "tracker")
	m := regexp.MustCompile(`id="deny-form"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="etag" value="([^"]+)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no deny form")
	}
	resp, body := b.post("/admin/servers/tracker/deny", url.Values{
		"csrf": {token}, "etag": {strings.ReplaceAll(m[1], "&#34;", `"`)}, "n": {"1"}, "d0.users": {"alice"},
	})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Deny list saved") {
		t.Fatalf("deny save: %d\n%s", resp.StatusCode, body)
	}
	if err := exchange(t, p, "alice"); err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Errorf("alice after the deny: %v", err)
	}
}

func TestServers_FileChangedOnDiskShowsBanner(t *testing.T) {
	p, file := startWithFile(t)
	b := p.browser(t)
	b.signIn("alice", "alice")
	if err := os.WriteFile(file, []byte("users: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The store loads a change once the file looked the same twice (a file
	// caught mid-write is not reported), as its watcher does.
	p.Store.CheckFile()
	p.Store.CheckFile()
	_, body := b.get("/admin/")
	if !strings.Contains(body, `id="reload-banner"`) || !strings.Contains(body, "previous configuration") || !strings.Contains(body, "invalid file, previous configuration kept") {
		t.Errorf("no reload banner:\n%s", body)
	}
	// Changes are refused until the file is fixed, and the page says why.
	_, token, etag := openServer(t, b, "tracker")
	resp, body := b.post("/admin/servers/tracker/access", assignSales(token, etag))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "changed on disk") {
		t.Errorf("an edit while the file is invalid: %d\n%s", resp.StatusCode, body)
	}
}

// The operator made the configuration file read-only: a save is refused,
// and the page says so, naming the file; the file and the running policy
// stay as they were.
func TestServers_ReadOnlyFileShowsWhy(t *testing.T) {
	p, file := startWithFile(t)
	b := p.browser(t)
	b.signIn("alice", "alice")
	if err := os.Chmod(file, 0o444); err != nil {
		t.Fatal(err)
	}
	before := p.Store.Version()
	_, token, etag := openServer(t, b, "tracker")
	resp, body := b.post("/admin/servers/tracker/access", assignSales(token, etag))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "Not saved") ||
		!strings.Contains(body, "read-only") || !strings.Contains(body, file) {
		t.Errorf("a save to a read-only file: %d\n%s", resp.StatusCode, body)
	}
	if p.Store.Version() != before || len(p.IdP.Config().Server("tracker").Access) != 1 {
		t.Error("the configuration changed")
	}
}

// A save whose form lost the page's version is refused (428), not applied
// over whatever is current: concurrent edits never silently overwrite.
func TestServers_SaveWithoutVersionIsRefused(t *testing.T) {
	p, b := signedIn(t)
	_, token, _ := openServer(t, b, "tracker")
	resp, body := b.post("/admin/servers/tracker/access", assignSales(token, ""))
	if resp.StatusCode != http.StatusPreconditionRequired || !strings.Contains(body, "had no version") {
		t.Fatalf("save without etag: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if err := exchange(t, p, "bob"); err == nil {
		t.Error("the save without a version was applied: bob's exchange succeeds")
	}
}

// Group and user names may hold spaces ("Platform Team"); the editor
// separates names by commas, as the page says. Saving a server whose
// assignments name such a group keeps the group, rather than splitting it
// into "Platform" and "Team" (unknown groups: nothing could be saved; or,
// were there groups of those names, silently other groups).
func TestServers_NamesWithSpacesSurviveASave(t *testing.T) {
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("name: sales", "name: Platform Team", "groups: [sales]", "groups: [Platform Team]").Replace(string(data))
	store, err := policy.NewStore([]byte(cfg), "spaces.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := serve(t, store)
	b := p.browser(t)
	if resp, body := b.signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	_, token, etag := openServer(t, b, "tracker")
	form := url.Values{
		"csrf": {token}, "etag": {etag}, "n": {"2"},
		"a0.groups": {"engineering"}, "a0.scopes": {"issues.read", "issues.write"},
		"a1.groups": {"Platform Team"}, "a1.users": {"alice, bob"}, "a1.scopes": {"issues.read"},
	}
	resp, body := b.post("/admin/servers/tracker/access", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Assignments saved") {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	got := p.Store.Config().Server("tracker").Access
	if len(got) != 2 || !slices.Equal(got[1].Groups, []string{"Platform Team"}) || !slices.Equal(got[1].Users, []string{"alice", "bob"}) {
		t.Fatalf("access after the save: %+v; want the group Platform Team and the users alice and bob", got)
	}
	if !strings.Contains(body, `name="a1.groups" value="Platform Team"`) {
		t.Error("the page does not show the group Platform Team in the saved row")
	}
}

// TestServers_PageShowsIDJAGReuse: the server page says whether the
// server's demo authorization server redeems an ID-JAG again
// (allow_id_jag_reuse), as the admin API reports it.
func TestServers_PageShowsIDJAGReuse(t *testing.T) {
	p, b := signedIn(t)
	fact := regexp.MustCompile(`<dt>ID-JAG reuse</dt><dd id="id-jag-reuse">([^<]*)`)
	m := fact.FindStringSubmatch(func() string { page, _, _ := openServer(t, b, "tracker"); return page }())
	if m == nil || !strings.Contains(m[1], "refused") {
		t.Fatalf("by default: %q, want refused", m)
	}
	s := *p.Store.Config().Server("tracker")
	s.AllowIDJAGReuse = true
	if _, err := p.Store.PutServer(s, "*"); err != nil {
		t.Fatal(err)
	}
	m = fact.FindStringSubmatch(func() string { page, _, _ := openServer(t, b, "tracker"); return page }())
	if m == nil || !strings.Contains(m[1], "accepted again") {
		t.Fatalf("with allow_id_jag_reuse: %q, want accepted again", m)
	}
}

// TestServers_OverlongNameInTheEditorIsRefusedWithItsBound: a name in the
// assignment editor longer than a name may be (256 bytes,
// docs/configuration.md "Bounds") is refused with its length and the
// bound, as the file and the admin API refuse it, and changes nothing.
func TestServers_OverlongNameInTheEditorIsRefusedWithItsBound(t *testing.T) {
	p, file := startWithFile(t)
	b := p.browser(t)
	b.signIn("alice", "alice")
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, token, etag := openServer(t, b, "tracker")
	form := assignSales(token, etag)
	form.Set("a1.groups", strings.Repeat("g", 300))
	resp, body := b.post("/admin/servers/tracker/access", form)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "300 bytes; it may have at most 256 bytes") {
		t.Fatalf("save of a 300-byte group name: %d\n%s", resp.StatusCode, body)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Errorf("the file changed:\n%s", after)
	}
	if n := len(p.IdP.Config().Server("tracker").Access); n != 1 {
		t.Errorf("the running policy changed: %d entries", n)
	}
}

// The operator made the configuration file read-only: every page says so
// before a save is tried, naming the file, and does not say the IdP runs
// without a configuration store (the banner GET /admin/api/status's
// editable false gave until then).
func TestServers_ReadOnlyFileBanner(t *testing.T) {
	p, file := startWithFile(t)
	b := p.browser(t)
	b.signIn("alice", "alice")
	if _, body := b.get("/admin/"); strings.Contains(body, "read-only") {
		t.Fatalf("a writable file: the page says read-only\n%s", body)
	}
	if err := os.Chmod(file, 0o444); err != nil {
		t.Fatal(err)
	}
	_, body := b.get("/admin/")
	if !strings.Contains(body, `id="readonly-file-banner"`) || !strings.Contains(body, file) || strings.Contains(body, "without a configuration store") {
		t.Errorf("a read-only file: want its banner naming %s\n%s", file, body)
	}
}

// TestServers_RowsNameTheirRule: each saved row of the editors shows the
// rule name that explain, the audit log and the users page give the entry
// ("tracker access[1]", counted from 0), so that an admin who reads there
// which rule let a user in edits that row. The rows are numbered from 1
// for the fields' labels, and nothing on the page said that "access[1]"
// is the second row: the first one, "row 1", was the natural guess.
func TestServers_RowsNameTheirRule(t *testing.T) {
	_, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	if resp, body := b.post("/admin/servers/tracker/access", assignSales(token, etag)); resp.StatusCode != http.StatusOK {
		t.Fatalf("saving: %d\n%s", resp.StatusCode, body)
	}
	page, token, etag := openServer(t, b, "tracker")
	if resp, body := b.post("/admin/servers/tracker/deny", url.Values{"csrf": {token}, "etag": {etag}, "n": {"1"}, "d0.users": {"eve"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("saving the deny list: %d\n%s", resp.StatusCode, body)
	}
	_, explained := b.get("/admin/explain?user=bob&client=mcp-client&server=tracker")
	if !strings.Contains(explained, "tracker access[1]") {
		t.Fatalf("explain does not name bob's rule tracker access[1]:\n%s", explained)
	}
	page, _, _ = openServer(t, b, "tracker")
	row := func(field string) string {
		for _, tr := range strings.Split(page, "<tr") {
			if strings.Contains(tr, `name="`+field+`"`) {
				return tr
			}
		}
		return ""
	}
	for field, rule := range map[string]string{"a0.groups": "access[0]", "a1.groups": "access[1]", "d0.groups": "deny[0]"} {
		if tr := row(field); !strings.Contains(tr, ">"+rule+"<") {
			t.Errorf("the row of %s does not name its rule %s:\n%s", field, rule, tr)
		}
	}
	if tr := row("a2.groups"); strings.Contains(tr, "access[2]") {
		t.Errorf("the blank row names a rule that does not exist:\n%s", tr)
	}
}
