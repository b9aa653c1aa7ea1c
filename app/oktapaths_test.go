package app_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// oktaPathsTransport plays a client written for Okta: the discovery
// documents it reads name Okta's org authorization server paths under the
// issuer (/oauth2/v1/authorize, /oauth2/v1/token, ...), as such a client
// builds them without reading discovery.
type oktaPathsTransport struct{ issuer string }

func (o oktaPathsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.Contains(r.URL.Path, "/.well-known/") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var meta map[string]any
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, err
	}
	for k, p := range map[string]string{
		"authorization_endpoint": "/oauth2/v1/authorize", "token_endpoint": "/oauth2/v1/token",
		"jwks_uri": "/oauth2/v1/keys", "userinfo_endpoint": "/oauth2/v1/userinfo",
		"revocation_endpoint": "/oauth2/v1/revoke", "introspection_endpoint": "/oauth2/v1/introspect",
		"end_session_endpoint": "/oauth2/v1/logout",
	} {
		meta[k] = o.issuer + p
	}
	body, _ = json.Marshal(meta)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestTenants_OktaPaths: an okta tenant also serves its endpoints at the
// paths of Okta's org authorization server, /oauth2/v1/... under the
// issuer (docs/personas.md, okta), which a client written for Okta builds
// from the issuer: the code and refresh grants, the token exchange with a
// client assertion whose aud is Okta's token URL and a DPoP proof for that
// URL, the keys, userinfo, introspection, revocation and logout. Until
// then each answered 404. A tenant of another persona does not serve them.
func TestTenants_OktaPaths(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "agent-1", Algorithm: "ES256", Use: "sig"}}})
	store, _ := openTenantsFile(t, fmt.Appendf(nil, `tenants:
  - id: okta
    persona: okta
    users: [{username: alice, password: alice, sub: 00u-alice, email: alice@example.com}]
    clients:
      - {client_id: 0oa-agent, client_secret: agent-secret, jwks: %s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
    mcp_servers:
      - {id: notes, issuer: "http://127.0.0.1:9101", resources: ["http://127.0.0.1:9201/mcp"], scopes: [notes.read],
         clients: {0oa-agent: agent-at-notes}, access: [{users: [alice], scopes: [notes.read]}]}
  - id: acme
    users: [{username: alice, password: alice}]
`, jwks))
	_, servers, _ := startTenantsOf(t, store)
	iss := servers["okta"].Issuer()
	ctx := context.Background()
	hc := &http.Client{Transport: oktaPathsTransport{issuer: iss}, Timeout: 10 * time.Second}

	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: iss, ClientID: "0oa-agent", ClientSecret: "agent-secret",
		Username: "alice", Password: "alice", HTTPClient: hc})
	if err != nil {
		t.Fatalf("login at Okta's paths: %v", err)
	}
	tok, err = idpclient.Refresh(ctx, idpclient.RefreshOptions{TokenEndpoint: iss + "/oauth2/v1/token", ClientID: "0oa-agent",
		ClientSecret: "agent-secret", RefreshToken: tok.RefreshToken()})
	if err != nil {
		t.Fatalf("refresh at Okta's token path: %v", err)
	}

	// The token exchange as Okta documents it: private_key_jwt with aud
	// Okta's token URL, and a DPoP proof for the URL called.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "agent-1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	assertion, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "0oa-agent", Subject: "0oa-agent",
		Audience: jwt.Audience{iss + "/oauth2/v1/token"}, Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
		IssuedAt: jwt.NewNumericDate(now), ID: "assertion-1"}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	dpopKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dpopSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: dpopKey},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	proof, err := jwt.Signed(dpopSigner).Claims(map[string]any{"htm": "POST", "htu": iss + "/oauth2/v1/token",
		"iat": now.Unix(), "jti": "proof-1"}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type":            {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type":  {"urn:ietf:params:oauth:token-type:id-jag"},
		"subject_token":         {tok.IDToken()},
		"subject_token_type":    {"urn:ietf:params:oauth:token-type:id_token"},
		"audience":              {"http://127.0.0.1:9101"},
		"scope":                 {"notes.read"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	req, _ := http.NewRequest(http.MethodPost, iss+"/oauth2/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var jag map[string]any
	err = json.NewDecoder(resp.Body).Decode(&jag)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || jag["issued_token_type"] != "urn:ietf:params:oauth:token-type:id-jag" {
		t.Fatalf("token exchange at Okta's token path: %d %v (%v)", resp.StatusCode, jag, err)
	}
	if cnf, _ := claimsOf(t, jag["access_token"].(string))["cnf"].(map[string]any); cnf["jkt"] == nil {
		t.Errorf("the ID-JAG is not bound to the DPoP key: cnf = %v", cnf)
	}

	do := func(method, path string, form url.Values, bearer string) *http.Response {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("0oa-agent", "agent-secret")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	decode := func(resp *http.Response) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatalf("%s %s: %d, %v", resp.Request.Method, resp.Request.URL, resp.StatusCode, err)
		}
		return m
	}
	if keys := decode(do(http.MethodGet, iss+"/oauth2/v1/keys", nil, ""))["keys"].([]any); len(keys) == 0 {
		t.Error("no keys at Okta's keys path")
	}
	if info := decode(do(http.MethodGet, iss+"/oauth2/v1/userinfo", nil, tok["access_token"].(string))); info["sub"] != "00u-alice" {
		t.Errorf("userinfo at Okta's path: %v", info)
	}
	if in := decode(do(http.MethodPost, iss+"/oauth2/v1/introspect", url.Values{"token": {tok["access_token"].(string)}}, "")); in["active"] != true {
		t.Errorf("introspection at Okta's path: %v", in)
	}
	if resp := do(http.MethodPost, iss+"/oauth2/v1/revoke", url.Values{"token": {tok.RefreshToken()}}, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("revocation at Okta's path: %s", resp.Status)
	}
	logout := iss + "/oauth2/v1/logout?" + url.Values{"id_token_hint": {tok.IDToken()}, "post_logout_redirect_uri": {"http://127.0.0.1/callback"}}.Encode()
	if resp := do(http.MethodGet, logout, nil, ""); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1/callback" {
		t.Errorf("logout at Okta's path: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp := do(http.MethodGet, servers["acme"].Issuer()+"/oauth2/v1/keys", nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a generic tenant serves Okta's paths: %s", resp.Status)
	}
}
