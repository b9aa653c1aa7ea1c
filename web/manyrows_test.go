package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestServers_SaveKeepsEveryRowOfALongList: a server with more than 1,000
// access entries, its page's form sent back as the browser sends it, keeps
// every entry. Before, the editor read at most 1,000 rows and the save
// dropped the others without a word ("Assignments saved"), taking the
// access of every user past the thousandth.
func TestServers_SaveKeepsEveryRowOfALongList(t *testing.T) {
	const entries = 1005
	var b strings.Builder
	b.WriteString("users:\n  - {username: alice, password: alice, admin: true}\n")
	for i := range entries {
		fmt.Fprintf(&b, "  - {username: u%d, password: pw}\n", i)
	}
	b.WriteString(`clients:
  - {client_id: mcp-client, client_secret: mcp-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: tracker
    issuer: https://as.tracker.example
    resources: [https://mcp.tracker.example/mcp]
    scopes: [issues.read]
    clients: {mcp-client: mcp-client}
    access:
`)
	for i := range entries {
		fmt.Fprintf(&b, "      - {users: [u%d], scopes: [issues.read]}\n", i)
	}
	store, err := policy.NewStore([]byte(b.String()), "many.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := serve(t, store)
	br := signedInAt(t, p, "alice")
	page, _, _ := openServer(t, br, "tracker")
	// The access form as a browser sends it: every text input, and each
	// checked box.
	start := strings.Index(page, `id="access-form"`)
	form := page[start : start+strings.Index(page[start:], "</form>")]
	values := url.Values{}
	for _, in := range regexp.MustCompile(`<input ([^>]*)>`).FindAllStringSubmatch(form, -1) {
		name := regexp.MustCompile(`name="([^"]*)"`).FindStringSubmatch(in[1])
		if name == nil || strings.Contains(in[1], `type="checkbox"`) && !strings.Contains(in[1], " checked") {
			continue
		}
		value := ""
		if m := regexp.MustCompile(`value="([^"]*)"`).FindStringSubmatch(in[1]); m != nil {
			value = html.UnescapeString(m[1])
		}
		values.Add(name[1], value)
	}
	resp, body := br.post("/admin/servers/tracker/access", values)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Assignments saved") {
		t.Fatalf("save: %d\n%.2000s", resp.StatusCode, body)
	}
	if n := len(p.Store.Config().Server("tracker").Access); n != entries {
		t.Fatalf("after saving the page unchanged the server has %d access entries, want %d", n, entries)
	}
}
