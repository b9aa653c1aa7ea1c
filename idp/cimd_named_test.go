package idp_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestCIMD_PatternNamingALoopbackHostAllowsIt: an allow pattern whose host
// is an IP literal lets the IdP fetch from that address whatever its range
// (docs/configuration.md, "`cimd`"), a loopback address other than 127.0.0.1
// included: the error tells the user to do exactly that ("make it the
// URL's host and name it in an allow pattern").
func TestCIMD_PatternNamingALoopbackHostAllowsIt(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2 here: %v", err)
	}
	d := startDocServer(t)
	d.Close()
	named := httptest.NewUnstartedServer(d.Config.Handler)
	named.Listener = ln
	named.Start()
	t.Cleanup(named.Close)
	d.Server = named
	id := d.doc("/client.json", map[string]any{"token_endpoint_auth_method": "none"}, nil)

	cfg, err := policy.Parse([]byte(fmt.Sprintf(`
cimd:
  allow: ["http://127.0.0.2:*"]
users:
  - {username: alice, password: alice-pw}
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    clients: {%[1]s: %[1]s}
    access:
      - users: [alice]
        scopes: [chat.read]
`, id)), "named.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := startIdP(t, cfg)
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: f.URL, ClientID: id, Username: "alice", Password: "alice-pw", Scopes: []string{"openid"}})
	if err != nil {
		t.Fatalf("login as %s, which the allow pattern names: %v", id, err)
	}
	form := exchangeForm(tok.IDToken())
	form.Set("client_id", id)
	if resp, body := f.postToken(t, form, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
}
