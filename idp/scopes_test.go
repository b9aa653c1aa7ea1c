package idp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

const scopesYAML = `
groups:
  - name: eng
users:
  - username: alice
    password: alice-pw
    sub: u-alice
    email: alice@example.com
    name: Alice Anderson
    groups: [eng]
    claims: {department: R&D}
clients:
  - client_id: mcp-client
    client_secret: s1
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  - client_id: pub-client
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    include_email: true
    clients: {mcp-client: mcp-client-at-chat, pub-client: pub-client-at-chat}
    access:
      - groups: [eng]
        scopes: [chat.read]
`

// userClaims are the claims a scope may add; the protocol claims (iss,
// aud, exp, ...) are checked by the other tests.
var userClaims = []string{"name", "preferred_username", "department", "email", "email_verified", "groups"}

// TestClaimsFollowScopes logs alice in with each combination of scopes and
// checks the user claims in the ID token and at userinfo (OIDC Core
// section 5.4), and that a request without openid gets no ID token.
func TestClaimsFollowScopes(t *testing.T) {
	cfg, err := policy.Parse([]byte(scopesYAML), "scopes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	profile := []string{"name", "preferred_username", "department"}
	email := []string{"email", "email_verified"}
	cases := []struct {
		name    string
		scopes  []string // nil: no scope parameter
		idToken bool
		want    []string // user claims beside sub, in the ID token (if any) and at userinfo
		granted string   // the scope of the token response
	}{
		{name: "no scope means openid", scopes: nil, idToken: true, granted: "openid"},
		{name: "openid", scopes: []string{"openid"}, idToken: true, granted: "openid"},
		{name: "openid profile", scopes: []string{"openid", "profile"}, idToken: true, want: profile, granted: "openid profile"},
		{name: "openid email", scopes: []string{"openid", "email"}, idToken: true, want: email, granted: "openid email"},
		{name: "openid groups", scopes: []string{"openid", "groups"}, idToken: true, want: []string{"groups"}, granted: "openid groups"},
		{name: "all", scopes: []string{"openid", "profile", "email", "groups"}, idToken: true,
			want: slices.Concat(profile, email, []string{"groups"}), granted: "openid profile email groups"},
		{name: "profile without openid is plain OAuth", scopes: []string{"profile"}, want: profile, granted: "profile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			scopes := tc.scopes
			if scopes == nil {
				scopes = []string{} // idpclient: send no scope parameter
			}
			tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
				Issuer: p.URL, ClientID: "mcp-client", ClientSecret: "s1", Username: "alice", Password: "alice-pw", Scopes: scopes,
			})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if got, _ := tok["scope"].(string); got != tc.granted {
				t.Errorf("token response scope = %q, want %q", got, tc.granted)
			}
			switch raw := tok.IDToken(); {
			case !tc.idToken && raw != "":
				t.Errorf("got an ID token for scopes %v without openid", tc.scopes)
			case tc.idToken && raw == "":
				t.Fatalf("no ID token for scopes %v", tc.scopes)
			case tc.idToken:
				_, claims := p.verifyJWT(t, raw)
				checkUserClaims(t, "ID token", claims, tc.want)
			}
			checkUserClaims(t, "userinfo", p.userinfo(t, tok["access_token"].(string)), tc.want)
		})
	}
}

// TestScopelessLoginExchanges checks that a public client which sends no
// scope at all (the MCP conformance tool, oauth4webapi) gets an ID token
// that the token exchange accepts, and that the ID-JAG still carries the
// email the policy asks for: it reads the user from the policy, not from
// the ID token's claims.
func TestScopelessLoginExchanges(t *testing.T) {
	cfg, err := policy.Parse([]byte(scopesYAML), "scopes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "pub-client", Username: "alice", Password: "alice-pw", Scopes: []string{},
	})
	if err != nil {
		t.Fatalf("scope-less login of a public client: %v", err)
	}
	form := exchangeForm(tok.IDToken())
	form.Set("client_id", "pub-client")
	resp, body := p.postToken(t, form, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
	_, jag := p.verifyJWT(t, body["access_token"].(string))
	if jag["sub"] != "u-alice" || jag["email"] != "alice@example.com" {
		t.Errorf("ID-JAG sub %v email %v, want u-alice alice@example.com", jag["sub"], jag["email"])
	}
}

func checkUserClaims(t *testing.T, where string, claims map[string]any, want []string) {
	t.Helper()
	if claims["sub"] != "u-alice" {
		t.Errorf("%s: sub = %v, want u-alice", where, claims["sub"])
	}
	for _, c := range userClaims {
		if has := claims[c] != nil; has != slices.Contains(want, c) {
			t.Errorf("%s: claim %s present = %v, want %v (claims %v)", where, c, has, !has, claims)
		}
	}
}

func (p *testIdP) userinfo(t *testing.T, accessToken string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %s %v", resp.Status, err)
	}
	return info
}
