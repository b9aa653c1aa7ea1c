package admin_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// GET /admin/api/config shows each user's claims as the configuration
// holds them (as the ID token carries them and GET /admin/api/users shows
// them), whatever their names and text: a claim named "<<", which the
// admin API writes quoted, made the whole answer a 500 (yaml.v3 read it
// back as a merge key), and a text that starts with a line break lost it
// ("\nx" was shown as "x"). So does a client's jwks, where a kid that
// starts with a line break made the answer a 500 too. Found by the state
// model test.
func TestAdminAPI_ConfigShowsClaimsAsHeld(t *testing.T) {
	p := editable(t)
	claims := map[string]any{"<<": "x", "k": "\nx", "nl": "\n", "\nkey": 1.0, "nested": map[string]any{"<<": "y", "v": "\n\nz"}}
	if resp, body := p.send(t, http.MethodPatch, "/admin/api/users/bob", "alice", map[string]any{"claims": claims}); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH bob's claims: %d %s", resp.StatusCode, body)
	}
	jwks := map[string]any{"keys": []any{map[string]any{
		"kty": "EC", "crv": "P-256", "kid": "\nk1", "use": "sig", "alg": "ES256", "<<": "x",
		"x": "svjRxvL5dzs-JNmzYIG5wg_E8xvdZ4PxyyIE12FCtpo", "y": "a-Kw9eRRFCn-PoJY2R9-AaoT_0TyiYVNLpps0_SJOxg",
	}}}
	keyed := map[string]any{"client_id": "keyed", "token_exchange": true, "redirect_uris": []string{"http://127.0.0.1/callback"}, "jwks": jwks}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/clients/keyed", "alice", keyed); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT keyed client: %d %s", resp.StatusCode, body)
	}
	resp, body := p.send(t, http.MethodGet, "/admin/api/config", "alice", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/api/config: %d %s", resp.StatusCode, body)
	}
	var cfg struct {
		Users []struct {
			Username string         `json:"username"`
			Claims   map[string]any `json:"claims"`
		} `json:"users"`
		Clients []struct {
			ClientID string         `json:"client_id"`
			JWKS     map[string]any `json:"jwks"`
		} `json:"clients"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, u := range cfg.Users {
		if u.Username == "bob" && !reflect.DeepEqual(u.Claims, claims) {
			t.Errorf("bob's claims in GET /admin/api/config: %q, want %q", u.Claims, claims)
		}
	}
	for _, c := range cfg.Clients {
		if c.ClientID == "keyed" && !reflect.DeepEqual(c.JWKS, jwks) {
			t.Errorf("the client's jwks in GET /admin/api/config: %q, want %q", c.JWKS, jwks)
		}
	}
}
