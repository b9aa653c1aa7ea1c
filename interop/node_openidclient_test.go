package interop_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// rpConfig is a newcomer's configuration for a generic OpenID Connect
// relying party: a client_secret_basic client whose secret has characters
// form encoding changes, a client_secret_post client, a private_key_jwt
// client with an Ed25519 key (its JWK Set replaces ED_JWKS), and EdDSA ID
// tokens (the tenants of the second run sign with RS256 and ES256).
const rpConfig = `
signing: {id_token_alg: EdDSA}
groups: [{name: staff}]
users:
  - {username: ann, password: ann, sub: u-ann, email: ann@corp.example, name: Ann Lee, groups: [staff]}
clients:
  - {client_id: rp-basic, client_secret: "basic s3cret+%", redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
  - {client_id: rp-post, client_secret: post-secret, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
  - {client_id: rp-ed, jwks: ED_JWKS, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
mcp_servers:
  - id: notes
    name: Notes
    issuer: https://as.notes.example
    resources: [https://mcp.notes.example/mcp]
    scopes: [notes.read]
    clients: {rp-basic: rp-basic-at-notes, rp-post: rp-post-at-notes, rp-ed: rp-ed-at-notes}
    access: [{groups: [staff], scopes: [notes.read]}]
`

// TestOpenIDClient runs interop/node/openidclient.mjs: openid-client
// (panva's certified OpenID Connect relying party, v6), unchanged, against
// `xaa-idp serve` with rpConfig (an issuer at the root), then against two
// tenants of fixtures/samples/tenants.yaml (issuers with a path, found by
// RFC 8414 path insertion too): discovery, code + PKCE login, the code
// redeemed with client_secret_basic and with client_secret_post, the ID
// token validated by openid-client, userinfo, refresh, an ID-JAG through
// genericGrantRequest, and RP-initiated logout; at the root, private_key_jwt
// and DPoP with Ed25519 keys, which openid-client signs as alg Ed25519.
func TestOpenIDClient(t *testing.T) {
	requireTypeScriptClient(t)
	if _, err := os.Stat("node/node_modules/openid-client"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("interop/node has no openid-client: .ci/run runs npm ci there")
		}
		t.Skip("interop/node has no openid-client: run npm ci in interop/node")
	}
	bin := xaaIDPBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "ed-1", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	privJWK, err := json.Marshal(jose.JSONWebKey{Key: priv})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rp.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(rpConfig, "ED_JWKS", string(jwks), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	root := startServe(t, ctx, bin, "serve", "--config", file, "--addr", "127.0.0.1:0")
	tenant := startServe(t, ctx, bin, "serve", "--config", "../fixtures/samples/tenants.yaml", "--addr", "127.0.0.1:0")
	base := tenant[:strings.Index(tenant[len("http://"):], "/")+len("http://")]

	type client struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		Auth         string `json:"auth"`
	}
	both := func(id, secret string) []client {
		return []client{{id, secret, "client_secret_basic"}, {id, secret, "client_secret_post"}}
	}
	for _, tc := range []struct {
		name, issuer, user, audience, resource string
		clients                                []client
		env                                    []string
	}{
		{"root", root, "ann", "https://as.notes.example", "https://mcp.notes.example/mcp",
			[]client{{"rp-basic", "basic s3cret+%", "client_secret_basic"}, {"rp-post", "post-secret", "client_secret_post"}},
			[]string{"XAA_IDP_ED_CLIENT=rp-ed", "XAA_IDP_ED_KEY=" + string(privJWK)}},
		{"tenant /t/acme", base + "/t/acme", "alice", "http://127.0.0.1:9101", "http://127.0.0.1:9201/mcp", both("desktop", "acme-desktop-secret"), nil},
		{"tenant /issuers/acme", base + "/issuers/acme", "bob", "http://127.0.0.1:9101", "http://127.0.0.1:9201/mcp", both("claude", "claude-secret"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clients, err := json.Marshal(tc.clients)
			if err != nil {
				t.Fatal(err)
			}
			env := append([]string{"XAA_IDP_ISSUER=" + tc.issuer, "XAA_IDP_USER=" + tc.user, "XAA_IDP_AUDIENCE=" + tc.audience,
				"XAA_IDP_RESOURCE=" + tc.resource, "XAA_IDP_CLIENTS=" + string(clients)}, tc.env...)
			if err := runNodeTest(t, ctx, "openidclient.mjs", env...); err != nil {
				t.Fatalf("openid-client failed against %s: %v", tc.issuer, err)
			}
		})
	}
}
