package idp_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAccessRequests_WhatTheUserHasIsNoRequest: bob holds wiki.read for
// good, crm.read until an expiry and sales.read through one client only.
// A request for what he holds for good is refused (409, nothing recorded:
// an approval would add an entry that changes nothing); a request for more
// scopes, a renewal of time-bound access and access through another client
// are requests.
func TestAccessRequests_WhatTheUserHasIsNoRequest(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
users:
  - {username: bob, password: bob-pw, sub: u-bob}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
  - {client_id: other, client_secret: s2, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: wiki
    issuer: https://as.wiki.example
    scopes: [wiki.read, wiki.write]
    access:
      - {users: [bob], scopes: [wiki.read]}
  - id: crm
    issuer: https://as.crm.example
    scopes: [crm.read]
    access:
      - {users: [bob], scopes: [crm.read], expires: "2261-01-01T00:00:00Z"}
  - id: sales
    issuer: https://as.sales.example
    scopes: [sales.read]
    clients: {mcp-client: m, other: o}
    access:
      - {users: [bob], scopes: [sales.read], clients: [other]}
`), "assigned.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	tok, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"server": "wiki", "scopes": ["wiki.read"]}`, http.StatusConflict},
		{`{"server": "wiki"}`, http.StatusConflict},
		{`{"server": "wiki", "scopes": ["wiki.read", "wiki.write"]}`, http.StatusCreated},
		{`{"server": "crm", "scopes": ["crm.read"]}`, http.StatusCreated},
		{`{"server": "sales", "scopes": ["sales.read"]}`, http.StatusCreated},
	} {
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/me/access-requests", strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.body, resp.StatusCode, b, tc.want)
		}
		if tc.want == http.StatusConflict && !strings.Contains(string(b), `"error":"conflict"`) {
			t.Errorf("%s: %s, want the conflict error", tc.body, b)
		}
	}
	if n := len(p.AccessRequests().List("")); n != 3 {
		t.Errorf("%d requests recorded, want 3", n)
	}
}
