package interop_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"
)

// TestScopelessLogin logs alice in without a scope parameter, as OAuth 2.1
// and MCP clients do when they know no scopes (RFC 6749 section 3.3 lets the
// server pick a default; xaa-idp picks openid), through the generic Go
// clients: x/oauth2 with no Scopes, zitadel's relying party (which also
// verifies the ID token), and the CLI's `login --scope ""`. The MCP
// conformance tool's authorization-code-grant does the same
// (conformance_test.go), the TypeScript login in interop/node too.
func TestScopelessLogin(t *testing.T) {
	issuer := startIdP(t)
	// Built before the minute starts: on a loaded machine the build alone
	// can take longer (with -short no earlier test has built it).
	bin := xaaIDPBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("x/oauth2", func(t *testing.T) {
		meta := discover(t, issuer)
		conf := &oauth2.Config{
			ClientID:    "mcp-public",
			Endpoint:    oauth2.Endpoint{AuthURL: meta.AuthorizationEndpoint, TokenURL: meta.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams},
			RedirectURL: redirectURL,
		}
		verifier := oauth2.GenerateVerifier()
		state := rand.Text()
		callback, err := headlessLogin(ctx, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), redirectURL, "alice", "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got := callback.Query().Get("state"); got != state {
			t.Fatalf("state = %q, want %q (callback %s)", got, state, callback)
		}
		tok, err := conf.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		if scope, _ := tok.Extra("scope").(string); scope != "openid" {
			t.Errorf("granted scope = %q, want openid", scope)
		}
		if idToken, _ := tok.Extra("id_token").(string); idToken == "" {
			t.Error("no id_token: a request without scope is an OpenID request for openid")
		}
	})

	t.Run("zitadel rp", func(t *testing.T) {
		party, err := rp.NewRelyingPartyOIDC(ctx, issuer, "mcp-client", "mcp-secret", redirectURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		verifier := oauth2.GenerateVerifier()
		callback, err := headlessLogin(ctx, rp.AuthURL("st", party, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier))), redirectURL, "alice", "alice")
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, callback.Query().Get("code"), party, rp.WithCodeVerifier(verifier))
		if err != nil {
			t.Fatalf("code exchange with ID token verification: %v", err)
		}
		if sub := tokens.IDTokenClaims.Subject; sub != "00u-alice" {
			t.Errorf("ID token sub = %q, want 00u-alice", sub)
		}
	})

	t.Run("CLI login --scope ''", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, bin, "login", "--issuer", issuer,
			"--client-id", "mcp-public", "--username", "alice", "--password", "alice", "--scope", "").Output()
		if err != nil {
			t.Fatalf("xaa-idp login --scope '': %v\n%s", err, stderrOf(err))
		}
		var tok struct {
			Scope   string `json:"scope"`
			IDToken string `json:"id_token"`
		}
		if err := json.Unmarshal(out, &tok); err != nil {
			t.Fatalf("login output is not the token response: %v\n%s", err, out)
		}
		if tok.Scope != "openid" || tok.IDToken == "" {
			t.Errorf("scope %q, id_token %t; want openid and an ID token", tok.Scope, tok.IDToken != "")
		}
	})
}

func stderrOf(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}
