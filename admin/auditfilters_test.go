package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

const filtersConfig = `
groups: [{name: eng}]
users:
  - {username: alice, password: alice-pw, groups: [eng], admin: true}
  - {username: bob, password: bob-pw}
clients:
  - {client_id: c1, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
  - {client_id: c2, client_secret: s2, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    clients: {c1: c1-at-chat, c2: c2-at-chat}
    access: [{users: [bob], scopes: [chat.read]}]
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read]
    clients: {c1: c1-at-files, c2: c2-at-files}
    access: [{groups: [eng], scopes: [files.read]}]
`

// TestAdminAPI_AuditEachFilterOfTheContract holds section 4 of the
// contract, GET /admin/api/audit?type=&user=&client=&server=&outcome=&since=&limit=
// answering "audit events, newest first, JSON array", through the real
// handlers: every parameter selects by its own field (client by client_id,
// server by the MCP server's id), and the answer is newest first.
func TestAdminAPI_AuditEachFilterOfTheContract(t *testing.T) {
	base, _ := serveConfig(t, filtersConfig, "filters.yaml")
	ctx := context.Background()
	login := func(user, client, secret string) string {
		t.Helper()
		tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: base, ClientID: client, ClientSecret: secret, Username: user, Password: user + "-pw"})
		if err != nil {
			t.Fatalf("login %s through %s: %v", user, client, err)
		}
		return tok.IDToken()
	}
	exchange := func(idToken, client, secret, server string) {
		t.Helper()
		_, _ = idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: base, ClientID: client, ClientSecret: secret,
			SubjectToken: idToken, Audience: "https://as." + server + ".example", Resource: "https://mcp." + server + ".example/mcp"})
	}
	bob := login("bob", "c1", "s1")
	alice := login("alice", "c2", "s2")
	exchange(bob, "c1", "s1", "chat") // allowed
	// A minute on the IdP's clock (the events' time) parts the first
	// exchange from the others, for since= below.
	if resp, body := call(t, http.MethodPut, base+"/admin/api/clock", "alice", "alice-pw", `{"advance": "1m"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("advancing the clock: %d %s", resp.StatusCode, body)
	}
	exchange(bob, "c1", "s1", "files")   // denied: bob is not in eng
	exchange(alice, "c2", "s2", "files") // allowed

	type event struct {
		ID, Time, Type, Outcome, Error, User, Server string
		ClientID                                     string `json:"client_id"`
	}
	query := func(q string) ([]event, *http.Response) {
		t.Helper()
		resp, body := get(t, base, "/admin/api/audit?"+q, "alice", "alice-pw")
		var evs []event
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &evs) != nil {
			t.Fatalf("audit?%s: %d %s", q, resp.StatusCode, body)
		}
		return evs, resp
	}
	// what names each event of a page, newest first.
	what := func(evs []event) []string {
		var s []string
		for _, e := range evs {
			s = append(s, strings.Join([]string{e.Type, e.Outcome, e.User, e.ClientID, e.Server}, " "))
		}
		return s
	}

	all, _ := query("limit=1000")
	for i := 1; i < len(all); i++ {
		if all[i].Time > all[i-1].Time {
			t.Fatalf("not newest first: %v", what(all))
		}
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"type=token_exchange", []string{
			"token_exchange allowed alice c2 files", "token_exchange denied bob c1 files", "token_exchange allowed bob c1 chat"}},
		{"server=files", []string{"token_exchange allowed alice c2 files", "token_exchange denied bob c1 files"}},
		{"client=c2", []string{"token_exchange allowed alice c2 files", "token allowed alice c2 ", "login allowed alice c2 "}},
		{"user=bob&type=token_exchange", []string{"token_exchange denied bob c1 files", "token_exchange allowed bob c1 chat"}},
		{"outcome=denied", []string{"token_exchange denied bob c1 files"}},
		{"type=token_exchange&outcome=allowed&server=chat&client=c1&user=bob", []string{"token_exchange allowed bob c1 chat"}},
		{"type=token_exchange&limit=1", []string{"token_exchange allowed alice c2 files"}},
	} {
		got, _ := query(c.q)
		if !slices.Equal(what(got), c.want) {
			t.Errorf("audit?%s:\n got  %q\n want %q", c.q, what(got), c.want)
		}
	}

	// since: the events at or after the time, newest first.
	exchanges, _ := query("type=token_exchange")
	if len(exchanges) != 3 {
		t.Fatalf("%d exchanges audited, want 3", len(exchanges))
	}
	got, _ := query("type=token_exchange&since=" + url.QueryEscape(exchanges[1].Time))
	if !slices.Equal(what(got), what(exchanges[:2])) {
		t.Errorf("since=%s: got %q, want the two newest exchanges", exchanges[1].Time, what(got))
	}
	// limit: a page, and a Link to the next.
	page, resp := query("type=token_exchange&limit=2")
	if !slices.Equal(what(page), what(exchanges[:2])) || !strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
		t.Errorf("limit=2: %q, Link %q", what(page), resp.Header.Get("Link"))
	}
}
