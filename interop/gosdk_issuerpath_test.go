package interop_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestGoSDK_IssuerWithAPath: the Go SDK discovers (RFC 8414 path
// insertion at the root), logs in and exchanges at a single IdP whose
// issuer has a path (serve --issuer http://HOST/idp), served as serve
// serves it (app.New). Its endpoints answered 404 under the path they were
// advertised at.
func TestGoSDK_IssuerWithAPath(t *testing.T) {
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String() + "/idp"
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.New(app.Options{IdP: srv})
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close() })

	meta := discover(t, issuer)
	creds := &oauthex.ClientCredentials{ClientID: "mcp-client", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}}
	idToken := sdkLogin(t, issuer, creds, "alice", "alice")
	tok, err := oauthex.ExchangeToken(context.Background(), meta.TokenEndpoint,
		trackerRequest(idToken, trackerIssuer, "issues.read"), creds, &http.Client{Timeout: 15 * time.Second})
	if err != nil {
		t.Fatalf("ExchangeToken at %s: %v", meta.TokenEndpoint, err)
	}
	_, claims := verifyJWT(t, tok.AccessToken, fetchJWKS(t, meta.JWKSURI))
	wantString(t, claims, "iss", issuer)
	wantString(t, claims, "sub", "00u-alice")
}
