package admin_test

import (
	"net/http"
	"testing"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestUserAccess_MetadataDocumentClientIsNoUnknownClient: the demo lists
// the metadata document client of `connect --cimd` on every server, and a
// user's access was decided for it as for an unregistered client: every
// server a user is not assigned to said "client http://...json is not
// registered" (invalid_client) in the user's access and the console's
// matrix, instead of that the user is not assigned. Such a client is
// decided as the token exchange decides it once its document resolves.
func TestUserAccess_MetadataDocumentClientIsNoUnknownClient(t *testing.T) {
	store, err := policy.NewStore([]byte(`users:
  - {username: alice, password: alice-pw, admin: true}
  - {username: bob, password: bob-pw}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:1
    resources: [http://127.0.0.1:2/mcp]
    scopes: [n]
    clients: {mcp-client: mcp-client, "http://127.0.0.1:8390/client-metadata.json": "http://127.0.0.1:8390/client-metadata.json"}
    access: [{users: [alice], scopes: [n]}]
`), "idp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := serveStore(t, store, "")
	for user, want := range map[string]struct {
		allowed  bool
		decision string
	}{"bob": {false, "access_denied"}, "alice": {true, "allowed"}} {
		resp, body := p.send(t, http.MethodGet, "/admin/api/users/"+user, "alice", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", user, resp.Status, body)
		}
		v := decode[admin.UserView](t, body)
		if len(v.Access) != 1 || v.Access[0].Allowed != want.allowed || v.Access[0].Decision != want.decision {
			t.Fatalf("%s's access: %+v, want %s", user, v.Access, want.decision)
		}
		for _, c := range v.Access[0].ByClient {
			if c.Allowed != want.allowed || c.Error == policy.ErrInvalidClient {
				t.Errorf("%s through %s: %+v", user, c.ClientID, c)
			}
		}
	}
}
