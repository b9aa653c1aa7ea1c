package idp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestConformance_ClientWireVariants sends request B as real clients vary
// it (docs/interop.md, "Clients"; docs/http.md, "Token exchange"): empty
// parameters are absent, every single-valued parameter sent twice is
// invalid_request (RFC 6749 section 3.2), and client credentials may come
// with harmless extras. Each row passes only if the IdP reads the form
// the documented way, so a change to the form reader or the client
// authentication shows here by name.
func TestConformance_ClientWireVariants(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	alice := f.alice.IDToken()

	accepted := []grantCase{
		{name: "empty scope= is no scope: the assigned scopes", form: b(alice, set("scope", "")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read chat.write"},
		{name: "empty resource= is no resource", form: b(alice, set("resource", "")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", scope: "chat.read"},
		{name: "scope with extra spaces", form: b(alice, set("scope", " chat.read  chat.write ")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read chat.write"},
		{name: "Basic and the same client_id in the body", form: b(alice, set("client_id", "mcp-client")), header: basicS1,
			sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "Basic and empty client_secret=, client_assertion=, client_assertion_type=",
			form:   b(alice, set("client_secret", ""), set("client_assertion", ""), set("client_assertion_type", "")),
			header: basicS1, sub: "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "Basic with the scheme in lower case (RFC 7235 section 2.1: case-insensitive)", form: b(alice),
			header: http.Header{"Authorization": {strings.Replace(basicS1.Get("Authorization"), "Basic ", "basic ", 1)}},
			sub:    "u-alice", aud: chatAS, clientID: "mcp-client-at-chat", resource: chatMCP, scope: "chat.read"},
		{name: "public client with an empty client_secret=", form: b(f.loginAs(t, "pub-client", "", "alice", "alice-pw").IDToken(),
			set("client_id", "pub-client"), set("client_secret", "")), header: noAuth,
			sub: "u-alice", aud: chatAS, clientID: "pub-client-at-chat", resource: chatMCP, scope: "chat.read"},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) { f.expectIDJAG(t, tc) })
	}

	errored := audit.Error
	refused := []refusal{
		{name: "empty grant_type=", form: b(alice, set("grant_type", "")), code: "invalid_request"},
		{name: "empty audience= is no audience", form: b(alice, set("audience", "")), code: "invalid_request", outcome: errored},
		{name: "empty subject_token=", form: b(alice, set("subject_token", "")), code: "invalid_request", outcome: errored},
		{name: "subject_token twice", form: b(alice, add("subject_token", alice)), code: "invalid_request", outcome: errored},
		{name: "subject_token_type twice", form: b(alice, add("subject_token_type", typeIDToken)), code: "invalid_request", outcome: errored},
		{name: "requested_token_type twice", form: b(alice, add("requested_token_type", typeIDJAG)), code: "invalid_request", outcome: errored},
		{name: "scope twice", form: b(alice, add("scope", "chat.write")), code: "invalid_request", outcome: errored},
		{name: "the same audience twice", form: b(alice, add("audience", chatAS)), code: "invalid_request", outcome: errored},
		{name: "subject_token_type spelled with a hyphen (id-token)", form: b(alice, set("subject_token_type", "urn:ietf:params:oauth:token-type:id-token")),
			code: "invalid_request", outcome: errored},
		{name: "requested_token_type refresh_token for an ID token (SAML only)", form: b(alice, set("requested_token_type", typeRefreshToken)),
			code: "invalid_request", outcome: errored},
		{name: "Basic and another client_id in the body", form: b(alice, set("client_id", "pub-client")), code: "invalid_request", outcome: errored},
		{name: "Basic and a client_assertion", form: b(alice, set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), set("client_assertion", "a.b.c")),
			code: "invalid_request", outcome: errored},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) { f.expectRefusal(t, tc) })
	}
}
