package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// signedIn is a product with alice signed in to the console.
func signedIn(t *testing.T) (*product, *browser) {
	t.Helper()
	p := start(t)
	b := p.browser(t)
	if resp, body := b.signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	return p, b
}

func TestPages_EachPageAnswers(t *testing.T) {
	p, b := signedIn(t)
	if err := exchange(t, p, "bob"); err == nil {
		t.Fatal("bob's exchange succeeded")
	}
	cases := []struct {
		path string
		want []string
	}{
		{"/admin/", []string{"Overview", "MCP servers", "Recent refusals", "user bob is not assigned"}},
		{"/admin/audit", []string{"Audit log", "token_exchange", "Export JSON Lines", "Live tail"}},
		{"/admin/onboarding", []string{"Zero-touch onboarding", "xaa-idp demo", "Issue Tracker"}},
		{"/admin/explain", []string{"Explain a decision", `name="user"`, "Issue Tracker (tracker)"}},
	}
	for _, tc := range cases {
		resp, body := b.get(tc.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", tc.path, resp.StatusCode, body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tc.path, w)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
		}
	}
	resp, body := b.get("/admin/no-such-page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `href="/admin/servers"`) {
		t.Errorf("unknown page: %d, want 404 with the navigation bar\n%s", resp.StatusCode, body)
	}
	resp, _ = b.get("/admin/static/console.css")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// No directory listing: a scanner reports one whatever it lists.
	for _, path := range []string{"/admin/static/", "/admin/static/./"} {
		if resp, body := b.get(path); resp.StatusCode == http.StatusOK || strings.Contains(body, "console.css") {
			t.Errorf("GET %s: %d, lists the directory:\n%s", path, resp.StatusCode, body)
		}
	}
}

func TestAudit_FiltersAndPages(t *testing.T) {
	p, b := signedIn(t)
	log := p.IdP.Audit()
	for i := range 7 {
		if _, err := log.Append(audit.Event{Type: audit.TypeTokenExchange, Outcome: audit.Denied, User: "bob", ClientID: "mcp-client", Server: "tracker", Reason: "test refusal " + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := b.get("/admin/audit?user=bob&outcome=denied&limit=5")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d", resp.StatusCode)
	}
	if n := strings.Count(body, `<tr class="event`); n != 5 {
		t.Errorf("page 1 has %d events, want 5", n)
	}
	if !strings.Contains(body, "test refusal g") || strings.Contains(body, "test refusal b") {
		t.Errorf("page 1 is not the newest five")
	}
	if strings.Contains(body, "client_id=xaa-idp-console") {
		t.Errorf("the filter let other users' events through")
	}
	i := strings.Index(body, `href="/admin/audit?before=`)
	if i < 0 {
		t.Fatalf("no link to older events")
	}
	older := body[i+len(`href="`):]
	older = strings.ReplaceAll(older[:strings.Index(older, `"`)], "&amp;", "&")
	_, body = b.get(older)
	if n := strings.Count(body, `<tr class="event`); n != 2 || !strings.Contains(body, "test refusal a") {
		t.Errorf("page 2 has %d events:\n%s", n, body)
	}
	if strings.Contains(body, `href="/admin/audit?before=`) {
		t.Errorf("the last page links to older events, and there are none")
	}
	// New events would come in above older ones there: the live tail is
	// the newest page's.
	if strings.Contains(body, `id="live"`) || !strings.Contains(body, `id="live-elsewhere"`) {
		t.Errorf("an older page offers the live tail")
	}
	// A page that holds exactly the last events has no link to older ones either.
	_, body = b.get("/admin/audit?user=bob&outcome=denied&limit=7")
	if n := strings.Count(body, `<tr class="event`); n != 7 || strings.Contains(body, `href="/admin/audit?before=`) {
		t.Errorf("all 7 events on one page: %d shown, link to older: %v", n, strings.Contains(body, `href="/admin/audit?before=`))
	}

	resp, body = b.get("/admin/audit?since=yesterday")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "neither a time") {
		t.Errorf("a bad time: %d", resp.StatusCode)
	}
	// A week back in days, as the admin API's since and an approval's
	// expires_in take it (400 until 2026-12-06).
	if resp, body = b.get("/admin/audit?since=7d"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `<tr class="event`) {
		t.Errorf("since=7d: %d, no events", resp.StatusCode)
	}
	_, body = b.get("/admin/audit?since=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
	if !strings.Contains(body, "No events match") {
		t.Errorf("a time range in the future still shows events")
	}
	// The server filter takes an id, which the page offers with the
	// server's name; the name, shown everywhere else in the console,
	// found "No events match".
	_, body = b.get("/admin/audit")
	if !strings.Contains(body, `list="audit-servers"`) || !strings.Contains(body, `<option value="tracker" dir="auto">Issue Tracker</option>`) || !strings.Contains(body, `<option value="mcp-client" dir="auto">`) {
		t.Errorf("the filters do not offer the ids they take:\n%s", body)
	}
	resp, body = b.get("/admin/audit?server=Issue+Tracker")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="server-error"`) || !strings.Contains(body, "the name of MCP server tracker") {
		t.Errorf("a server's name as the filter: %d, not refused at its field with the id:\n%s", resp.StatusCode, body)
	}
	// A To before its From (durations read back from now: from 1h ago
	// to 2h ago) is a range of no time, which answered "No events
	// match" as if there had been none: it is refused at To.
	for _, q := range []string{"since=1h&until=2h", "since=2026-12-06T07:00:00Z&until=2026-12-06T06:00:00Z"} {
		resp, body = b.get("/admin/audit?" + q)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="until-error"`) || !strings.Contains(body, "not later than From") {
			t.Errorf("%s: %d, the refusal is not at To:\n%s", q, resp.StatusCode, body)
		}
	}
}

func TestAudit_DetailsAreDecodedAndEscaped(t *testing.T) {
	p, b := signedIn(t)
	if _, err := p.IdP.Audit().Append(audit.Event{
		Type: audit.TypeAdminChange, Outcome: audit.Allowed, Admin: "alice", Server: "tracker",
		Reason: "<img src=x onerror=alert(1)>", Details: map[string]any{"before": []string{"engineering"}, "after": []string{"engineering", "sales"}},
	}); err != nil {
		t.Fatal(err)
	}
	_, body := b.get("/admin/audit?type=admin_change")
	if strings.Contains(body, "<img src=x") {
		t.Fatal("an event's reason is rendered as HTML")
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "<dt>admin</dt><dd><bdi>alice</bdi></dd>", "&#34;after&#34;", "sales"} {
		if !strings.Contains(body, want) {
			t.Errorf("the decoded event lacks %q", want)
		}
	}
}

func TestAudit_ExportIsJSONLines(t *testing.T) {
	_, b := signedIn(t)
	resp, body := b.get("/admin/audit/export?type=login")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), ".jsonl") {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("no events exported")
	}
	for _, l := range lines {
		var e audit.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Type != audit.TypeLogin {
			t.Errorf("line %q: %v", l, err)
		}
	}
}

// TestAudit_ExportPagesPastTheQueryCap checks that the export holds every
// event asked for, although one audit query answers at most
// audit.MaxQueryLimit of them.
func TestAudit_ExportPagesPastTheQueryCap(t *testing.T) {
	p, b := signedIn(t)
	for i := range audit.MaxQueryLimit + 200 {
		if _, err := p.IdP.Audit().Append(audit.Event{Type: audit.TypeConfigReload, Outcome: audit.Allowed, Reason: fmt.Sprint("reload ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := b.get("/admin/audit/export?type=config_reload")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d", resp.StatusCode)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != audit.MaxQueryLimit+200 {
		t.Fatalf("exported %d events, want %d", len(lines), audit.MaxQueryLimit+200)
	}
	seen := make(map[string]bool)
	for _, l := range lines {
		var e audit.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil || seen[e.ID] {
			t.Fatalf("line %q: %v (or a duplicate)", l, err)
		}
		seen[e.ID] = true
	}
}

// TestAudit_ExportAfterAnEventPagesForward: an export address with the
// cursor of a newer page (after=, as the audit page's Newer link has)
// holds every event newer than that one, in order, past the query cap:
// not the first query's page alone.
func TestAudit_ExportAfterAnEventPagesForward(t *testing.T) {
	p, b := signedIn(t)
	var first string
	for i := range audit.MaxQueryLimit + 201 {
		e, err := p.IdP.Audit().Append(audit.Event{Type: audit.TypeConfigReload, Outcome: audit.Allowed, Reason: fmt.Sprint("reload ", i)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = e.ID
		}
	}
	_, body := b.get("/admin/audit/export?type=config_reload&after=" + first)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != audit.MaxQueryLimit+200 {
		t.Fatalf("exported %d events, want %d", len(lines), audit.MaxQueryLimit+200)
	}
	for i, l := range lines {
		var e audit.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Reason != fmt.Sprint("reload ", i+1) {
			t.Fatalf("line %d is %q (%v); want reload %d, oldest first", i, l, err, i+1)
		}
	}
}

func TestAudit_LiveTailStreamsNewEvents(t *testing.T) {
	p, b := signedIn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/admin/audit/stream?user=bob", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil { // retry:
		t.Fatal(err)
	}
	// An event of another user is filtered out; bob's arrives, escaped.
	p.IdP.Audit().Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Allowed, User: "carol"})
	p.IdP.Audit().Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, User: "bob", Reason: "<b>wrong password</b>"})
	var got strings.Builder
	inEvent := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v after %q", err, got.String())
		}
		if line == "event: audit\n" {
			inEvent = true
		}
		if inEvent {
			got.WriteString(line)
			if line == "\n" {
				break
			}
		}
	}
	s := got.String()
	if strings.Contains(s, "carol") || !strings.Contains(s, "bob") || !strings.Contains(s, "&lt;b&gt;wrong password&lt;/b&gt;") {
		t.Errorf("stream:\n%s", s)
	}
}

// A CR in an event's text (a username typed at the login page) cannot end
// a line of the live tail: the EventSource would read what follows as
// fields of its own, such as event:, and drop or cut the row.
func TestAudit_LiveTailKeepsCRInsideData(t *testing.T) {
	p, b := signedIn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/admin/audit/stream", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil { // retry:
		t.Fatal(err)
	}
	p.IdP.Audit().Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, User: "mallory\revent: hidden\r\rdata: x", Reason: "unknown username"})
	var got strings.Builder
	inEvent := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v after %q", err, got.String())
		}
		if line == "event: audit\n" {
			inEvent = true
		}
		if inEvent {
			got.WriteString(line)
			if line == "\n" {
				break
			}
		}
	}
	if s := got.String(); strings.Contains(s, "\r") || !strings.Contains(s, "unknown username") {
		t.Errorf("the event's lines carry a CR, or the row was cut:\n%q", s)
	}
}

// A live tail opened before sign-out ends with the session: it streams no
// event appended after it (a copy of the cookie is refused from sign-out
// on, and an open stream is no exception), and the server lets it go.
func TestAudit_LiveTailEndsWithTheSession(t *testing.T) {
	p, b := signedIn(t)
	_, page := b.get("/admin/")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/admin/audit/stream?user=bob", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil { // retry:
		t.Fatal(err)
	}
	if resp, _ := b.post("/admin/signout", url.Values{"csrf": {csrf(t, page)}}); resp.Request.URL.Path != "/admin/signed-out" {
		t.Fatalf("sign-out led to %s", resp.Request.URL)
	}
	p.IdP.Audit().Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, User: "bob", Reason: "after sign-out"})
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("the tail did not end after sign-out: %v after %q", err, rest)
	}
	if strings.Contains(string(rest), "after sign-out") {
		t.Errorf("the tail streamed an event after sign-out:\n%s", rest)
	}
}

var exportLink = regexp.MustCompile(`href="([^"]*)">Export JSON Lines`)

// TestAudit_ExportLinkKeepsTheFilters follows the audit page's "Export JSON
// Lines" link of a filtered view: the file holds the events the page
// shows, not the whole log.
func TestAudit_ExportLinkKeepsTheFilters(t *testing.T) {
	p, b := signedIn(t)
	if err := exchange(t, p, "bob"); err == nil {
		t.Fatal("bob's exchange succeeded")
	}
	_, page := b.get("/admin/audit?type=login&user=alice")
	m := exportLink.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no export link on the page:\n%s", page)
	}
	link := html.UnescapeString(m[1])
	resp, body := b.get(link)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", link, resp.StatusCode)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if lines[0] == "" {
		t.Fatalf("GET %s exported nothing; alice's login should be in it", link)
	}
	for _, l := range lines {
		var e audit.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Type != audit.TypeLogin || e.User != "alice" {
			t.Errorf("GET %s exported %q (%v); the page shows only alice's logins", link, l, err)
		}
	}
}

// A change that names several users in details.users (a SCIM change of a
// group's members) has no user of its own; the console's filter by user
// finds it for each of them, on the page and in the live tail.
func TestAudit_UserFilterFindsDetailsUsers(t *testing.T) {
	p, b := signedIn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/admin/audit/stream?user=bob", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil { // retry:
		t.Fatal(err)
	}
	p.IdP.Audit().Append(audit.Event{Type: audit.TypeAdminChange, Outcome: audit.Allowed, Admin: "scim", Reason: "carol-only", Details: map[string]any{"users": []string{"carol"}}})
	p.IdP.Audit().Append(audit.Event{Type: audit.TypeAdminChange, Outcome: audit.Allowed, Admin: "scim", Reason: "members-changed", Details: map[string]any{"users": []string{"alice", "bob"}}})
	var got strings.Builder
	for !strings.Contains(got.String(), "members-changed") {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v after %q", err, got.String())
		}
		got.WriteString(line)
	}
	if strings.Contains(got.String(), "carol-only") {
		t.Errorf("stream:\n%s", got.String())
	}
	_, body := b.get("/admin/audit?user=bob")
	if !strings.Contains(body, "members-changed") || strings.Contains(body, "carol-only") {
		t.Errorf("the audit page filtered by bob:\n%s", body)
	}
}
