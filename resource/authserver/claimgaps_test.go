package authserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestTokenEndpoint_RefusesAnIDJAGWithoutIat: an ID-JAG's lifetime (exp
// less iat) is bounded (docs/http.md, "Demo authorization servers"), so
// one without iat is refused, never taken as issued now, which would let
// an ID-JAG of any age through that bound and the replay floor.
func TestTokenEndpoint_RefusesAnIDJAGWithoutIat(t *testing.T) {
	e := newEnv(t)
	r := e.post(t, grant(e.jag(t, func(c map[string]any) { delete(c, "iat") })))
	if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "no iat") {
		t.Fatalf("an ID-JAG without iat: HTTP %d %s, want 400 invalid_grant naming iat", r.status, r.raw)
	}
	if _, ok := r.body["access_token"]; ok {
		t.Errorf("an ID-JAG without iat got an access token: %s", r.raw)
	}
}

// TestTokenEndpoint_ResourceMustBeOneTheIDJAGGrants: at an authorization
// server of two MCP servers, an ID-JAG the IdP issued for one of them
// redeems no access token for the other, even when the client asks for it
// by the resource parameter: the resource must be "allowed by the
// ID-JAG" (docs/http.md, "Demo authorization servers"), since the IdP's
// policy decided which server the user may reach.
func TestTokenEndpoint_ResourceMustBeOneTheIDJAGGrants(t *testing.T) {
	const wiki = "http://127.0.0.1:9/wiki/mcp"
	e := newEnv(t, func(c *authserver.Config) { c.Resources = append(c.Resources, wiki) })

	req := grant(e.jag(t, nil)) // resource: the tracker
	req.form.Set("resource", wiki)
	r := e.post(t, req)
	if r.status != http.StatusBadRequest || r.str("error") != "invalid_target" || !strings.Contains(r.str("error_description"), "not granted by the ID-JAG") {
		t.Fatalf("an ID-JAG for the tracker, redeemed for the wiki: HTTP %d %s, want 400 invalid_target", r.status, r.raw)
	}
	if _, ok := r.body["access_token"]; ok {
		t.Fatalf("an ID-JAG for the tracker got an access token for the wiki: %s", r.raw)
	}

	// The same request for the resource the ID-JAG names is granted.
	req = grant(e.jag(t, nil))
	req.form.Set("resource", e.mcpURL)
	if r := e.post(t, req); r.status != http.StatusOK {
		t.Fatalf("an ID-JAG for the tracker, redeemed for the tracker: HTTP %d %s", r.status, r.raw)
	}
}

// TestTokenEndpoint_PublicClientWithAPasswordIsRefused: a public client
// has no secret (docs/http.md, "Demo authorization servers": "no secret
// for a public client"), so Basic credentials with a password are wrong
// ones, refused as a wrong secret is, not taken as client_id alone.
func TestTokenEndpoint_PublicClientWithAPasswordIsRefused(t *testing.T) {
	e := newEnv(t)
	jag := func() string { return e.jag(t, func(c map[string]any) { c["client_id"] = publicClient }) }

	req := grant(jag())
	req.basic = &[2]string{publicClient, "guess"}
	r := e.post(t, req)
	if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
		t.Fatalf("a public client with a password: HTTP %d %s, want 401 invalid_client", r.status, r.raw)
	}
	if _, ok := r.body["access_token"]; ok {
		t.Fatalf("a public client with a password got an access token: %s", r.raw)
	}

	// With an empty password (golang.org/x/oauth2's none), it is granted.
	req = grant(jag())
	req.basic = &[2]string{publicClient, ""}
	if r := e.post(t, req); r.status != http.StatusOK {
		t.Fatalf("a public client with an empty password: HTTP %d %s", r.status, r.raw)
	}
}

// TestTokenEndpoint_RefusesAnIDJAGWithoutAud: aud is this authorization
// server (docs/http.md, "Demo authorization servers"); an ID-JAG without
// one is for no server in particular, and is refused, not redeemed here.
func TestTokenEndpoint_RefusesAnIDJAGWithoutAud(t *testing.T) {
	e := newEnv(t)
	for name, aud := range map[string]any{"no aud": nil, "an empty array": []string{}} {
		t.Run(name, func(t *testing.T) {
			r := e.post(t, grant(e.jag(t, func(c map[string]any) {
				if aud == nil {
					delete(c, "aud")
				} else {
					c["aud"] = aud
				}
			})))
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "no aud") {
				t.Fatalf("an ID-JAG with %s: HTTP %d %s, want 400 invalid_grant naming aud", name, r.status, r.raw)
			}
			if _, ok := r.body["access_token"]; ok {
				t.Fatalf("an ID-JAG with %s got an access token: %s", name, r.raw)
			}
		})
	}
}
