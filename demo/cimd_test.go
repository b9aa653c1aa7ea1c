package demo_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/demo"
)

// TestStack_AuthorizationServerFetchesWhatTheIdPMay: a demo authorization
// server resolves metadata document clients with the cimd section of the
// tenants that list its MCP server (docs/configuration.md, "`cimd`": the IdP and the
// demo authorization servers accept them), so a client the IdP accepts
// under an allow pattern is accepted there too, and a server whose
// tenants turned metadata documents off neither announces nor fetches
// them.
func TestStack_AuthorizationServerFetchesWhatTheIdPMay(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2 here: %v", err)
	}
	docs := httptest.NewUnstartedServer(nil)
	docs.Listener = ln
	docs.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"client_id": docs.URL + r.URL.Path, "redirect_uris": []string{"http://127.0.0.1/callback"},
			"token_endpoint_auth_method": "none",
		})
	})
	docs.Start()
	t.Cleanup(docs.Close)
	client := docs.URL + "/client.json"

	idp, signer := fakeIdP(t)
	for _, r := range []struct {
		name, cimd string
		want       int
		announced  bool
	}{
		{"allowed by the tenant's pattern", `cimd: {allow: ["http://127.0.0.2:*"]}`, http.StatusOK, true},
		{"metadata documents off", "cimd: {enabled: false}", http.StatusUnauthorized, false},
	} {
		t.Run(r.name, func(t *testing.T) {
			clients := "{app: app}"
			if r.announced {
				clients = fmt.Sprintf("{app: app, %[1]s: %[1]s}", client)
			}
			cfg := parse(t, fmt.Sprintf(`
%s
users:
  - {username: alice, password: alice, sub: u-alice}
clients:
  - {client_id: app, client_secret: app-secret, token_exchange: true, redirect_uris: [http://127.0.0.1/callback]}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:19999
    resources: [http://127.0.0.1:19998/mcp]
    scopes: [notes.read]
    clients: %s
    access:
      - users: [alice]
        scopes: [notes.read]
`, r.cimd, clients))
			stack, err := demo.Stack(cfg, idp.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv := serveAuthorizationServer(t, stack, "notes")

			resp, err := http.Get(srv.URL + "/.well-known/oauth-authorization-server")
			if err != nil {
				t.Fatal(err)
			}
			var meta map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&meta)
			resp.Body.Close()
			if got := meta["client_id_metadata_document_supported"] == true; got != r.announced {
				t.Errorf("metadata client_id_metadata_document_supported %v, want %v", meta["client_id_metadata_document_supported"], r.announced)
			}

			now := time.Now()
			jag, _ := jwt.Signed(signer).Claims(map[string]any{
				"iss": idp.URL, "sub": "u-alice", "aud": "http://127.0.0.1:19999",
				"client_id": client, "resource": "http://127.0.0.1:19998/mcp", "scope": "notes.read",
				"jti": "jti-" + r.name, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
			}).Serialize()
			resp, err = http.PostForm(srv.URL+"/token", url.Values{
				"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}, "client_id": {client},
			})
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != r.want {
				t.Fatalf("JWT bearer grant as %s: HTTP %d %v, want %d", client, resp.StatusCode, body, r.want)
			}
		})
	}
}
