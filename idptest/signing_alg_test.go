package idptest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestSigningAlg_KeyIsPublishedFirstAndRotates: the key of a server's own
// signing_alg is in the JWKS from the start, before any ID-JAG it signs
// (an authorization server that fetched the JWKS once finds it), and a
// key rotation replaces it with the others, the old one staying
// published for the overlap.
func TestSigningAlg_KeyIsPublishedFirstAndRotates(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(`
users: [{username: alice, password: alice}]
clients: [{client_id: app, client_secret: s, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}]
mcp_servers:
  - id: ed
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [read]
    signing_alg: EdDSA
    clients: {app: app-at-ed}
    access: [{users: [alice], scopes: [read]}]
`))
	jwks := func() map[string]string { // kid -> alg
		t.Helper()
		resp, err := http.Get(srv.Issuer() + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set jose.JSONWebKeySet
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, k := range set.Keys {
			out[k.KeyID] = k.Algorithm
		}
		return out
	}
	header := func(raw string) jose.Header {
		t.Helper()
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Headers[0]
	}
	before := jwks()
	first := header(srv.IDJAG("alice", "ed"))
	if before[first.KeyID] != "EdDSA" {
		t.Fatalf("the first EdDSA ID-JAG has kid %s, which the JWKS fetched before it (%v) lacks", first.KeyID, before)
	}

	rotations, err := srv.IdP().RotateKeys("test")
	if err != nil {
		t.Fatal(err)
	}
	var ed []string
	for _, r := range rotations {
		if r.Alg == "EdDSA" {
			ed = append(ed, r.OldKID, r.NewKID)
			if !slices.Contains(r.Use, "id_jag") {
				t.Errorf("the EdDSA rotation's use is %v, want id_jag", r.Use)
			}
		}
	}
	if len(ed) != 2 || ed[0] != first.KeyID {
		t.Fatalf("rotations %+v do not replace the EdDSA key %s", rotations, first.KeyID)
	}
	after := jwks()
	if _, ok := after[ed[0]]; !ok {
		t.Errorf("the replaced EdDSA key left the JWKS at once: %v", after)
	}
	if got := header(srv.IDJAG("alice", "ed")).KeyID; got != ed[1] || after[got] != "EdDSA" {
		t.Errorf("after the rotation the ID-JAG has kid %s, want the new %s published (%v)", got, ed[1], after)
	}
	var current []string
	for _, k := range srv.IdP().Keys() {
		if k.Status == "current" {
			current = append(current, k.Alg)
		}
	}
	if !slices.Contains(current, "EdDSA") {
		t.Errorf("Keys() lists current keys of %v, want the EdDSA key too", current)
	}
}
