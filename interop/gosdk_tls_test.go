package interop_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/xaa-idp/xaa-idp/fixtures"
)

// TestGoSDK_TLS runs the Go SDK against `xaa-idp demo --tls --config` of
// the demo configuration with its MCP servers moved to free ports and
// written http://, as fixtures/demo.yaml is: the demo serves them https
// (README "HTTPS": every loopback URL of the configuration), trusting
// only the CA that `xaa-idp ca` prints, as the README tells a client to:
// extauth.PerformOIDCLogin, then extauth.EnterpriseHandler connecting to
// the tracker MCP server and calling whoami. Without the CA the SDK is
// refused by TLS at discovery.
func TestGoSDK_TLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped with -short")
	}
	bin := xaaIDPBinary(t)
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Every fixed port of the demo configuration moved to a free one, the
	// file written http:// as the fixture is; the tracker served https.
	var pairs, served []string
	for _, port := range []string{"8101", "8102", "8103", "8104", "8201", "8202", "8203", "8204", "8390"} {
		free := freePort(t)
		pairs = append(pairs, "http://127.0.0.1:"+port, fmt.Sprintf("http://127.0.0.1:%d", free))
		served = append(served, "http://127.0.0.1:"+port, fmt.Sprintf("https://127.0.0.1:%d", free))
	}
	moved := strings.NewReplacer(pairs...)
	config := filepath.Join(t.TempDir(), "demo.yaml")
	written := []byte(moved.Replace(string(fixtures.Demo)))
	if err := os.WriteFile(config, written, 0o600); err != nil {
		t.Fatal(err)
	}
	https := strings.NewReplacer(served...)
	tracker := struct{ as, url string }{https.Replace(trackerIssuer), https.Replace(trackerResource)}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startServe(t, ctx, bin, "demo", "--tls", "--config", config, "--state-dir", state, "--addr", addr)
	issuer := "https://" + addr

	ca := exec.CommandContext(ctx, bin, "ca", "--state-dir", state)
	var caOut, caErr bytes.Buffer
	ca.Stdout, ca.Stderr = &caOut, &caErr
	if err := ca.Run(); err != nil {
		t.Fatalf("xaa-idp ca: %v\n%s", err, caErr.String())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caOut.Bytes()) {
		t.Fatalf("xaa-idp ca printed no certificate: %q", caOut.String())
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool}
	httpClient := &http.Client{Transport: transport, Timeout: 15 * time.Second}
	waitHTTPVia(t, ctx, httpClient, tracker.url[:strings.LastIndex(tracker.url, "/")]+"/.well-known/oauth-protected-resource/mcp")

	creds := &oauthex.ClientCredentials{ClientID: "mcp-client", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}}
	login := func(client *http.Client) (*oauth2.Token, error) {
		return extauth.PerformOIDCLogin(ctx, &extauth.OIDCLoginConfig{
			IssuerURL: issuer, Credentials: creds, RedirectURL: redirectURL,
			Scopes: []string{"openid", "profile", "email"}, HTTPClient: client,
		}, headlessFetcherVia(transport, redirectURL, "alice", "alice"))
	}
	tok, err := login(httpClient)
	if err != nil {
		t.Fatalf("PerformOIDCLogin over https with the CA: %v", err)
	}
	handler, err := extauth.NewEnterpriseHandler(&extauth.EnterpriseHandlerConfig{
		IdPIssuerURL: issuer, IdPCredentials: creds,
		MCPAuthServerURL: tracker.as, MCPResourceURI: tracker.url,
		MCPCredentials: &oauthex.ClientCredentials{ClientID: "mcp-client-at-tracker", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}},
		IDTokenFetcher: func(context.Context) (*oauth2.Token, error) { return tok, nil },
		HTTPClient:     httpClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "xaa-idp-interop-go", Version: "0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: tracker.url, OAuthHandler: handler, HTTPClient: httpClient}, nil)
	if err != nil {
		t.Fatalf("Connect to %s over https: %v", tracker.url, err)
	}
	defer session.Close()
	who := goWhoami(t, session)
	if who["sub"] != "00u-alice" || who["idp_issuer"] != issuer || who["resource"] != tracker.url {
		t.Errorf("whoami = %v, want sub 00u-alice, idp_issuer %s, resource %s", who, issuer, tracker.url)
	}

	if now, err := os.ReadFile(config); err != nil || !bytes.Equal(now, written) {
		t.Errorf("demo --tls changed the file it serves (%v):\n%s", err, now)
	}

	// Without the CA, TLS refuses the IdP: the trust came from the CA.
	if _, err := login(&http.Client{Timeout: 15 * time.Second}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("PerformOIDCLogin without the CA: %v, want a certificate error", err)
	}
}

// waitHTTPVia waits until url answers 200 through client.
func waitHTTPVia(t *testing.T, ctx context.Context, client *http.Client, url string) {
	t.Helper()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never answered 200: %v", url, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
