package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestClientView_KeyedClientIsConfidential: a client with jwks and no
// client_secret authenticates with private_key_jwt, and is refused
// without its assertion (docs/configuration.md, clients[]): GET
// /admin/api/clients, and the console's list from it, showed it as
// public ("confidential": false), as if its client_id alone signed in.
func TestClientView_KeyedClientIsConfidential(t *testing.T) {
	p := editable(t)
	keyed := map[string]any{
		"client_id": "keyed", "token_exchange": true, "redirect_uris": []string{"http://127.0.0.1/callback"},
		"jwks": map[string]any{"keys": []any{map[string]any{
			"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
			"x": "svjRxvL5dzs-JNmzYIG5wg_E8xvdZ4PxyyIE12FCtpo", "y": "a-Kw9eRRFCn-PoJY2R9-AaoT_0TyiYVNLpps0_SJOxg",
		}}},
	}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/clients/keyed", "alice", keyed); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT keyed client: %d %s", resp.StatusCode, body)
	}
	public := map[string]any{"client_id": "open", "redirect_uris": []string{"http://127.0.0.1/callback"}}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/clients/open", "alice", public); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT public client: %d %s", resp.StatusCode, body)
	}
	for id, want := range map[string]bool{"keyed": true, "open": false, "mcp-client": true} {
		resp, body := p.send(t, http.MethodGet, "/admin/api/clients/"+id, "alice", nil)
		var c map[string]any
		if err := json.Unmarshal(body, &c); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", id, resp.StatusCode, body)
		}
		if c["confidential"] != want {
			t.Errorf("GET %s: confidential %v, want %v", id, c["confidential"], want)
		}
	}
	resp, body := p.send(t, http.MethodGet, "/admin/api/clients", "alice", nil)
	var list []map[string]any
	if err := json.Unmarshal(body, &list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET clients: %d %s", resp.StatusCode, body)
	}
	for _, c := range list {
		if c["client_id"] == "keyed" && c["confidential"] != true {
			t.Errorf("GET clients lists keyed as %v", c)
		}
	}
}
