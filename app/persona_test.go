package app_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestTenants_ConductorOneIDJAGShape: the sample's c1 tenant (persona
// conductorone) issues the ID-JAG that C1's "Support enterprise-managed
// authorization in your MCP server" page shows (docs/personas.md): typ
// oauth-id-jag+jwt, ES256 with a key of the JWKS its discovery names, aud
// the authorization server's issuer as a string, the user's email, no
// resource (though the request named one) and no tenant, and 300 seconds
// from iat to exp.
func TestTenants_ConductorOneIDJAGShape(t *testing.T) {
	_, servers, _ := startTenants(t)
	c1 := servers["c1"]
	ctx := context.Background()
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: c1.Issuer(), ClientID: "agent", ClientSecret: "c1-agent-secret",
		Username: "dana", Password: "dana"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: c1.Issuer(), ClientID: "agent", ClientSecret: "c1-agent-secret",
		SubjectToken: tok.IDToken(), Audience: "http://127.0.0.1:9101", Resource: "http://127.0.0.1:9201/mcp"})
	if err != nil {
		t.Fatal(err)
	}
	if res["expires_in"] != float64(300) {
		t.Errorf("expires_in = %v, want 300", res["expires_in"])
	}

	getJSON := func(u string, v any) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", u, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(c1.Issuer()+"/.well-known/openid-configuration", &meta)
	var set jose.JSONWebKeySet
	getJSON(meta.JWKSURI, &set)

	jag, err := jwt.ParseSigned(res["access_token"].(string), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("the ID-JAG is not an ES256 JWT: %v", err)
	}
	h := jag.Headers[0]
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != "oauth-id-jag+jwt" {
		t.Errorf("typ = %v, want oauth-id-jag+jwt", typ)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the JWKS at %s has %d keys of kid %s", meta.JWKSURI, len(keys), h.KeyID)
	}
	var claims map[string]any
	if err := jag.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("the ID-JAG does not verify with its JWKS key: %v", err)
	}
	want := []string{"aud", "auth_time", "client_id", "email", "email_verified", "exp", "iat", "iss", "jti", "scope", "sub"}
	if got := slices.Sorted(maps.Keys(claims)); !slices.Equal(got, want) {
		t.Errorf("claims %v, want exactly %v", got, want)
	}
	for k, v := range map[string]any{
		"iss": c1.Issuer(), "aud": "http://127.0.0.1:9101", "sub": "2kQ7XbV9mRzT1eLc0wHnY4sPdJa",
		"client_id": "agent-client-at-notes", "scope": "notes.read", "email": "dana@acme.example", "email_verified": true,
	} {
		if claims[k] != v {
			t.Errorf("%s = %v, want %v", k, claims[k], v)
		}
	}
	if iat, exp := claims["iat"].(float64), claims["exp"].(float64); exp-iat != 300 {
		t.Errorf("exp - iat = %v, want 300", exp-iat)
	}
}

// TestTenants_OktaIDTokenAudIsAString: the okta tenant's ID tokens, from
// the code grant and from the refresh grant, carry "aud" as a string, as
// Okta's do (docs/personas.md, okta): a client that compares it with its
// client id as a string failed on the one-element array. The token
// verifies with the JWKS key its discovery names, and is still a subject
// token of the token exchange.
func TestTenants_OktaIDTokenAudIsAString(t *testing.T) {
	_, servers, _ := startTenants(t)
	okta := servers["okta"]
	ctx := context.Background()
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	resp, err := http.Get(okta.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	check := func(grant, idToken string) {
		t.Helper()
		tok, err := jwt.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatalf("%s: the ID token is not an RS256 JWT: %v", grant, err)
		}
		resp, err := http.Get(meta.JWKSURI)
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		err = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		keys := set.Key(tok.Headers[0].KeyID)
		if len(keys) != 1 {
			t.Fatalf("%s: the JWKS has %d keys of kid %s", grant, len(keys), tok.Headers[0].KeyID)
		}
		var claims map[string]any
		if err := tok.Claims(keys[0].Key, &claims); err != nil {
			t.Fatalf("%s: the ID token does not verify with its JWKS key: %v", grant, err)
		}
		if claims["aud"] != "0oa-desktop" {
			t.Errorf("%s: ID token aud = %#v, want the string \"0oa-desktop\"", grant, claims["aud"])
		}
		if _, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: okta.Issuer(), ClientID: "0oa-desktop",
			ClientSecret: "okta-desktop-secret", SubjectToken: idToken, Audience: "http://127.0.0.1:9101"}); err != nil {
			t.Errorf("%s: the ID token is refused as a subject token: %v", grant, err)
		}
	}
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: okta.Issuer(), ClientID: "0oa-desktop",
		ClientSecret: "okta-desktop-secret", Username: "alice", Password: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	check("authorization_code", tok.IDToken())
	refreshed, err := idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: okta.Issuer(), ClientID: "0oa-desktop",
		ClientSecret: "okta-desktop-secret", RefreshToken: tok.RefreshToken()})
	if err != nil {
		t.Fatal(err)
	}
	check("refresh_token", refreshed.IDToken())
}
