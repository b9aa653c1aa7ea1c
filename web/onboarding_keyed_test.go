package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestOnboarding_OffersNoPrivateKeyJWTClient: the zero-touch run (and the
// terminal command the page shows) logs in with a client secret or as a
// public client, as xaa-idp connect does; a client with jwks and no
// secret authenticates only with a client assertion, so every run with
// it failed at the login (invalid_client). The page offers the clients a
// run can use, as the demo banner and the landing page do, and its
// command names one of them.
func TestOnboarding_OffersNoPrivateKeyJWTClient(t *testing.T) {
	store, err := policy.NewStore([]byte(`
users:
  - {username: alice, password: alice, admin: true}
clients:
  - client_id: keyed
    jwks: {keys: [{kty: EC, crv: P-256, x: svjRxvL5dzs-JNmzYIG5wg_E8xvdZ4PxyyIE12FCtpo, y: a-Kw9eRRFCn-PoJY2R9-AaoT_0TyiYVNLpps0_SJOxg}]}
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  - {client_id: desk, client_secret: desk-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
`), "keyed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b := serve(t, store).browser(t)
	b.signIn("alice", "alice")
	resp, page := b.get("/admin/onboarding")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, `<option value="keyed"`) {
		t.Error("the page offers the private_key_jwt client keyed, with which no run can log in")
	}
	if !strings.Contains(page, `<option value="desk"`) || !strings.Contains(page, "--client-id desk --client-secret &lt;secret&gt;") {
		t.Errorf("the page does not offer desk, or its command does not name it:\n%s", page)
	}
}
