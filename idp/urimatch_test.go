package idp_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestExchange_URLMatching: the audience and resource a client sends match
// the configured ones after RFC 3986 section 6.2.2 normalisation (scheme
// and host case, default port, percent-encoding; docs/http.md, "URL
// matching"), and the ID-JAG carries the configured spelling. The path's
// case and the query still count, and a resource repeated with the same
// value is one resource.
func TestExchange_URLMatching(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	alice := f.alice.IDToken()
	chat := func(name string, mods ...func(url.Values)) grantCase {
		form := b(alice)
		for _, m := range mods {
			m(form)
		}
		return grantCase{name: name, form: form, header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"}
	}
	for _, tc := range []grantCase{
		chat("audience scheme and host in upper case", set("audience", "HTTPS://AS.Chat.Example")),
		chat("audience with the default port", set("audience", "https://as.chat.example:443/")),
		chat("resource host in upper case", set("resource", "https://MCP.chat.example/mcp")),
		chat("resource with the default port and a trailing slash", set("resource", "https://mcp.chat.example:443/mcp/")),
		chat("resource with a percent-encoded unreserved character", set("resource", "https://mcp.chat.example/%6dcp")),
		chat("the same resource twice", add("resource", chatMCP)),
		chat("the same resource twice, spelled differently", add("resource", "https://MCP.chat.example:443/mcp")),
	} {
		t.Run(tc.name, func(t *testing.T) { f.expectIDJAG(t, tc) })
	}
	for _, tc := range []refusal{
		{name: "resource path in upper case", form: b(alice, set("resource", "https://mcp.chat.example/MCP")), code: "invalid_target", outcome: audit.Error},
		{name: "resource with a query", form: b(alice, set("resource", chatMCP+"?x=1")), code: "invalid_target", outcome: audit.Error},
		{name: "resource on another port", form: b(alice, set("resource", "https://mcp.chat.example:8443/mcp")), code: "invalid_target", outcome: audit.Error},
		{name: "http for https", form: b(alice, set("audience", "http://as.chat.example")), code: "invalid_target", outcome: audit.Error},
		{name: "two different resources", form: b(alice, add("resource", filesMCP)), code: "invalid_request", outcome: audit.Error,
			after: func(t *testing.T, body map[string]any) {
				if d, _ := body["error_description"].(string); !strings.Contains(d, chatMCP) || !strings.Contains(d, filesMCP) {
					t.Errorf("error_description %q does not say which resources were sent", d)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) { f.expectRefusal(t, tc) })
	}
}

// TestExchange_URLMatching_EmptyPathBeforeQuery: an empty path is "/"
// (docs/http.md, "URL matching"; RFC 3986 section 6.2.3) before a query
// too: a resource configured https://mcp.chat.example?tenant=a is the one
// a client sends as https://mcp.chat.example/?tenant=a, and the other way
// round, and the ID-JAG names the configured spelling.
func TestExchange_URLMatching_EmptyPathBeforeQuery(t *testing.T) {
	for _, tc := range []struct{ configured, presented string }{
		{"https://mcp.chat.example?tenant=a", "https://mcp.chat.example/?tenant=a"},
		{"https://mcp.chat.example/?tenant=a", "https://MCP.chat.example?tenant=a"},
	} {
		t.Run(tc.presented, func(t *testing.T) {
			f := newFixture(t, conformanceConfigWith(t, "resources: [https://mcp.chat.example/mcp]", "resources: [https://mcp.chat.example/mcp, '"+tc.configured+"']"))
			f.expectIDJAG(t, grantCase{name: "resource", form: b(f.alice.IDToken(), set("resource", tc.presented)), header: basicS1,
				sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: tc.configured, scope: "chat.read"})
		})
	}
}
