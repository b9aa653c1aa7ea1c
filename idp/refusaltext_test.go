package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// refusalTextYAML: bob is in no group; carol is in eng; chat denies
// every exchange through helper-client; files denies dave outright.
const refusalTextYAML = `
signing: {id_token_alg: ES256, id_jag_alg: ES256, key_files: [KEYFILE]}
groups:
  - name: eng
users:
  - {username: bob, password: bob, sub: u-bob}
  - {username: carol, password: carol, sub: u-carol, groups: [eng]}
  - {username: dave, password: dave, sub: u-dave, groups: [eng]}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: ["http://127.0.0.1/cb"], token_exchange: true}
  - {client_id: helper-client, client_secret: s2, redirect_uris: ["http://127.0.0.1/cb"], token_exchange: true}
mcp_servers:
  - id: chat
    name: Chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read, chat.write]
    clients: {mcp-client: mcp-client-at-chat, helper-client: helper-at-chat}
    access:
      - {groups: [eng], scopes: [chat.read]}
      - {users: [carol], scopes: []}
    deny:
      - {clients: [helper-client]}
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read]
    clients: {mcp-client: mcp-client-at-files}
    access:
      - {groups: [eng], scopes: [files.read]}
    deny:
      - {users: [dave]}
`

// TestExchange_RefusalsSayWhatToChange reads refusals of the ID-JAG
// exchange as their user does: the error_description must say what to
// change, and the audit event's reason (which explain prints too) must read
// as a sentence.
func TestExchange_RefusalsSayWhatToChange(t *testing.T) {
	key, keyFile := ownedES256Key(t)
	cfg, err := policy.Parse([]byte(strings.ReplaceAll(refusalTextYAML, "KEYFILE", keyFile)), "refusals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)

	cases := []struct {
		name, user, client, secret, audience, resource, scope string
		code, description, reason                             string
	}{{
		// A deny entry that names only clients denies the client, not the
		// user: the user may connect through another one.
		name: "deny of a client", user: "carol", client: "helper-client", secret: "s2",
		audience: "https://as.chat.example", resource: "https://mcp.chat.example/mcp",
		code:        "access_denied",
		description: `user 'carol' may not use MCP server 'Chat' (https://as.chat.example) through client 'helper-client': an administrator denied it`,
		reason:      "user carol is denied on chat by chat deny[0] (clients: helper-client)",
	}, {
		name: "deny of a user", user: "dave", client: "mcp-client", secret: "s1",
		audience:    "https://as.files.example",
		code:        "access_denied",
		description: `user 'dave' may not use MCP server 'files' (https://as.files.example): an administrator denied it`,
		reason:      "user dave is denied on files by files deny[0] (users: dave)",
	}, {
		// The client asked for a scope the user has not: leaving scope out
		// gets what the user has.
		name: "no requested scope granted", user: "carol", client: "mcp-client", secret: "s1",
		audience: "https://as.chat.example", scope: "chat.write",
		code:        "invalid_scope",
		description: `none of the requested scopes (chat.write) is granted to user 'carol' for MCP server 'Chat' (https://as.chat.example); request without scope to get the scopes the user is granted there, or ask an administrator for more`,
		reason:      "user carol requested chat.write on chat, which no matching entry allows; assigned: chat.read by chat access[0] (groups: eng), no scopes by chat access[1] (users: carol)",
	}, {
		name: "a user in no group", user: "bob", client: "mcp-client", secret: "s1",
		audience:    "https://as.chat.example",
		code:        "access_denied",
		description: `user 'bob' is not assigned to MCP server 'Chat' (https://as.chat.example); ask an administrator for access`,
		reason:      "user bob is not assigned to server chat (no access entry names the user, who is in no group)",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := time.Now()
			form := url.Values{
				"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
				"subject_token": {mintIDToken(t, key, p.Keys()[0].KID, jose.ES256, map[string]any{
					"iss": p.URL, "sub": "u-" + c.user, "aud": c.client, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
				})},
				"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
				"audience":           {c.audience},
			}
			if c.resource != "" {
				form.Set("resource", c.resource)
			}
			if c.scope != "" {
				form.Set("scope", c.scope)
			}
			resp, body := p.postToken(t, form, basic(c.client, c.secret))
			if resp.StatusCode != http.StatusBadRequest || body["error"] != c.code || body["error_description"] != c.description {
				t.Errorf("answer %d %v\n  error_description %q\n  want              %q", resp.StatusCode, body["error"], body["error_description"], c.description)
			}
			evs := p.Audit.Query(audit.Filter{Type: audit.TypeTokenExchange, Limit: 1})
			if len(evs) != 1 || evs[0].Reason != c.reason {
				t.Fatalf("audit reason\n  %q\n  want %q", evs[0].Reason, c.reason)
			}
			if e := cfg.Explain(policy.Request{Username: c.user, ClientID: c.client, Audience: c.audience, Resource: c.resource, Scopes: strings.Fields(c.scope), AuthTime: now, Now: now}); e.Description != c.description || e.Reason != c.reason {
				t.Errorf("explain says %q / %q", e.Description, e.Reason)
			}
		})
	}
}
