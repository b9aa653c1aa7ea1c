package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// GET /admin/api/config shows the persona in effect, "generic" for a file
// that names none (README: "defaults filled in"), as it shows id_jag with
// the persona's presets; it showed "persona": "". Read back, the answer
// means what the file does.
func TestAdminAPI_ConfigShowsThePersonaInEffect(t *testing.T) {
	for _, c := range []struct{ persona, want string }{{"", "generic"}, {"persona: okta", "okta"}} {
		text := c.persona + `
users:
  - {username: alice, password: alice-pw, admin: true}
clients:
  - {client_id: app, client_secret: s1, redirect_uris: ["http://127.0.0.1/cb"], token_exchange: true}
`
		base, _ := serveConfig(t, text, "x.yaml")
		resp, body := get(t, base, "/admin/api/config", "alice", "alice-pw")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, body %s", resp.StatusCode, body)
		}
		var top map[string]any
		if err := json.Unmarshal(body, &top); err != nil {
			t.Fatal(err)
		}
		if top["persona"] != c.want {
			t.Errorf("file with %q: persona %#v, want %q", c.persona, top["persona"], c.want)
		}
		top["users"].([]any)[0].(map[string]any)["password"] = "alice-pw"
		back, _ := json.Marshal(top)
		read, err := policy.Parse(back, "back.yaml")
		if err != nil {
			t.Fatalf("the answer read back: %v", err)
		}
		orig, err := policy.Parse([]byte(text), "x.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if read.Knobs() != orig.Knobs() || read.OktaPaths() != orig.OktaPaths() {
			t.Errorf("file with %q read back as %+v (okta paths %v), was %+v (%v)", c.persona, read.Knobs(), read.OktaPaths(), orig.Knobs(), orig.OktaPaths())
		}
	}
}
