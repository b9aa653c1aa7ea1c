package authserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

// TestEnterpriseHandler_EndToEnd runs the Go SDK's own EMA client
// (extauth.EnterpriseHandler) against the authorization server and the
// tracker MCP server, which has this server verify its access tokens:
// 401 → token exchange at the (fake) IdP → JWT bearer grant here → whoami.
// The IdP side is a stub that mints an ID-JAG for whatever it is asked,
// after checking the request has the shape the SDK promises.
func TestEnterpriseHandler_EndToEnd(t *testing.T) {
	e := newEnv(t)
	tracker, err := mcpserver.New(mcpserver.Config{
		ID: "tracker", Resource: e.mcpURL, Verifier: e.as,
		AuthServerIssuer: e.asURL, Scopes: e.as.Scopes(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.setMCP(tracker)
	const (
		idpClient = "mcp-client"
		idpSecret = "mcp-secret"
		idToken   = "id-token-of-alice"
	)
	var exchanges atomic.Int32
	e.idp.exchange = func(w http.ResponseWriter, r *http.Request) {
		exchanges.Add(1)
		if err := r.ParseForm(); err != nil {
			t.Errorf("token exchange form: %v", err)
		}
		want := map[string]string{
			"grant_type":           "urn:ietf:params:oauth:grant-type:token-exchange",
			"requested_token_type": oauthex.TokenTypeIDJAG,
			"subject_token":        idToken,
			"subject_token_type":   oauthex.TokenTypeIDToken,
			"audience":             e.asURL,
			"resource":             e.mcpURL,
			"client_id":            idpClient,
			"client_secret":        idpSecret,
		}
		for k, v := range want {
			if got := r.PostForm.Get(k); got != v {
				t.Errorf("token exchange %s = %q, want %q", k, got, v)
			}
		}
		c := e.idp.claims(r.PostForm.Get("audience"), r.PostForm.Get("resource"))
		c["scope"] = r.PostForm.Get("scope")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issued_token_type": oauthex.TokenTypeIDJAG,
			"access_token":      e.idp.mint(t, c),
			"token_type":        "N_A",
			"expires_in":        300,
			"scope":             c["scope"],
		})
	}

	handler, err := extauth.NewEnterpriseHandler(&extauth.EnterpriseHandlerConfig{
		IdPIssuerURL:     e.idp.issuer,
		IdPCredentials:   &oauthex.ClientCredentials{ClientID: idpClient, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: idpSecret}},
		MCPAuthServerURL: e.asURL,
		MCPResourceURI:   e.mcpURL,
		MCPCredentials:   &oauthex.ClientCredentials{ClientID: confidentialClient, ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: confidentialSecret}},
		MCPScopes:        []string{"issues.read"},
		IDTokenFetcher: func(context.Context) (*oauth2.Token, error) {
			return (&oauth2.Token{AccessToken: "idp-access-token"}).WithExtra(map[string]any{"id_token": idToken}), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "ema-client", Version: "0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: e.mcpURL, OAuthHandler: handler}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })

	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	var who mcpserver.WhoAmI
	if raw, err := json.Marshal(res.StructuredContent); err != nil || json.Unmarshal(raw, &who) != nil {
		t.Fatalf("whoami structured content %v: %v", res.StructuredContent, err)
	}
	if who.Subject != alice || who.ClientID != confidentialClient || !slices.Equal(who.Scopes, []string{"issues.read"}) {
		t.Errorf("whoami %+v", who)
	}
	if n := exchanges.Load(); n != 1 {
		t.Errorf("%d token exchanges, want 1", n)
	}

	// The write tool is refused with 403 insufficient_scope; the handler
	// re-runs the flow once, gets the same scope from the IdP, and the
	// call fails with the scope named.
	_, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "create_issue", Arguments: map[string]any{"title": "x"}})
	if err == nil || !strings.Contains(err.Error(), "insufficient_scope") {
		t.Errorf("create_issue: err = %v, want insufficient_scope", err)
	}
	if n := exchanges.Load(); n != 2 {
		t.Errorf("%d token exchanges after the scope challenge, want 2", n)
	}
}
