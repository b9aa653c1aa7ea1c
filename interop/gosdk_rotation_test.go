package interop_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestGoSDK_EnterpriseHandlerAcrossAKeyRotation: the Go SDK's
// EnterpriseHandler connects to a demo MCP server, the IdP's keys are
// rotated (POST /admin/api/keys/rotate, README "Operations", "Key
// rotation") between the next login and its connection, and that
// connection succeeds without a restart of anything: the ID token signed
// by the rotated-out key is still exchanged, and the demo authorization
// server, which cached the IdP's JWKS at the first connection, fetches it
// again for the ID-JAG's new kid. The IdP's clock is stopped, as an
// admin's PUT /admin/api/clock does: until 2026-12-07 the demo
// authorization server paced that refetch on it and never made it (and,
// with the clock running, refused a new kid within 5 seconds of its last
// fetch), "ID-JAG kid ... is not in the IdP JWKS".
func TestGoSDK_EnterpriseHandlerAcrossAKeyRotation(t *testing.T) {
	srv := idptest.New(t)
	demo := srv.StartDemoServers()
	issuer := srv.Issuer()
	srv.Clock().Freeze()
	c := handlerCase{
		user:   "alice",
		idp:    &oauthex.ClientCredentials{ClientID: "mcp-client", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}},
		mcp:    &oauthex.ClientCredentials{ClientID: "mcp-client-at-tracker", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "mcp-secret"}},
		server: demo["tracker"],
	}
	session, err := connectEnterprise(t, issuer, c, nil)
	if err != nil {
		t.Fatalf("Connect before the rotation: %v", err)
	}
	if who := goWhoami(t, session); who["sub"] != "00u-alice" {
		t.Fatalf("whoami before the rotation = %v", who)
	}

	rotate := func() {
		req, _ := http.NewRequest(http.MethodPost, issuer+"/admin/api/keys/rotate", nil)
		req.SetBasicAuth("alice", "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("rotate: HTTP %d %s", resp.StatusCode, body)
		}
	}
	session, err = connectEnterprise(t, issuer, c, rotate)
	if err != nil {
		t.Fatalf("Connect with an ID token of the rotated-out key, right after the rotation: %v", err)
	}
	if who := goWhoami(t, session); who["sub"] != "00u-alice" {
		t.Errorf("whoami after the rotation = %v", who)
	}
}
