package idptest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
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

// TestSigningAlg_AChangedIDJAGAlgIsUsed: a change of signing.id_jag_alg
// (a reload of the file, the admin API) was taken and audited as loaded,
// and every ID-JAG went on being signed with the algorithm of the start:
// the IdP compared a server's algorithm with the new configuration's
// rather than with its key's, so that a server with signing_alg: EdDSA
// beside id_jag_alg: EdDSA got ES256 ID-JAGs too. Each ID-JAG now has
// its server's algorithm, whatever the start had, and the key is in the
// JWKS before the first ID-JAG it signs.
func TestSigningAlg_AChangedIDJAGAlgIsUsed(t *testing.T) {
	config := `
users: [{username: alice, password: alice}]
clients: [{client_id: app, client_secret: s, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}]
mcp_servers:
  - id: plain
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [read]
    clients: {app: app-at-plain}
    access: [{users: [alice], scopes: [read]}]
  - id: ed
    issuer: http://127.0.0.1:9102
    resources: [http://127.0.0.1:9202/mcp]
    scopes: [read]
    clients: {app: app-at-ed}
    access: [{users: [alice], scopes: [read]}]
`
	srv := idptest.New(t, idptest.WithConfigYAML(config))
	alg := func(raw string) string {
		t.Helper()
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Headers[0].Algorithm
	}
	if got := alg(srv.IDJAG("alice", "plain")); got != "ES256" {
		t.Fatalf("at start the ID-JAG is %s, want ES256", got)
	}
	srv.SetConfig("signing: {id_jag_alg: EdDSA}\n" + strings.Replace(config, "    clients: {app: app-at-ed}", "    signing_alg: EdDSA\n    clients: {app: app-at-ed}", 1))
	resp, err := http.Get(srv.Issuer() + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	err = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	published := slices.ContainsFunc(set.Keys, func(k jose.JSONWebKey) bool { return k.Algorithm == "EdDSA" })
	if !published {
		t.Errorf("after the change the JWKS has no EdDSA key before the first EdDSA ID-JAG")
	}
	for _, server := range []string{"plain", "ed"} {
		if got := alg(srv.IDJAG("alice", server)); got != "EdDSA" {
			t.Errorf("after id_jag_alg: EdDSA, server %s's ID-JAG is %s, want EdDSA", server, got)
		}
	}
}

// TestSigningAlg_AChangedIDTokenAlgIsUsed: a change of
// signing.id_token_alg while running (a reload, the admin API) was loaded
// and audited, and ID tokens kept the start's algorithm until a restart,
// discovery naming it too. The next ID token has the new algorithm, its
// key in the JWKS first, and an ID token of the old key still verifies
// (its exchange for an ID-JAG goes on working).
func TestSigningAlg_AChangedIDTokenAlgIsUsed(t *testing.T) {
	config := `
users: [{username: alice, password: alice}]
clients: [{client_id: app, client_secret: s, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}]
mcp_servers:
  - id: crm
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [read]
    clients: {app: app-at-crm}
    access: [{users: [alice], scopes: [read]}]
`
	srv := idptest.New(t, idptest.WithConfigYAML(config))
	getJSON := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(srv.Issuer() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	header := func(raw string) jose.Header {
		t.Helper()
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Headers[0]
	}
	old := srv.Login("alice")
	if got := header(old.IDToken).Algorithm; got != "RS256" {
		t.Fatalf("at start the ID token is %s, want RS256", got)
	}
	srv.SetConfig("signing: {id_token_alg: EdDSA}\n" + config)
	var set jose.JSONWebKeySet
	getJSON("/keys", &set)
	var disc struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	getJSON("/.well-known/openid-configuration", &disc)
	if !slices.Equal(disc.Algs, []string{"EdDSA"}) {
		t.Errorf("after id_token_alg: EdDSA, discovery's id_token_signing_alg_values_supported = %v", disc.Algs)
	}
	h := header(srv.Login("alice").IDToken)
	if h.Algorithm != "EdDSA" {
		t.Errorf("after id_token_alg: EdDSA, the ID token is %s", h.Algorithm)
	}
	if !slices.ContainsFunc(set.Keys, func(k jose.JSONWebKey) bool { return k.KeyID == h.KeyID }) {
		t.Errorf("the JWKS before the first EdDSA ID token has not its key %s", h.KeyID)
	}
	if _, err := srv.Exchange(old, "crm", "read"); err != nil {
		t.Errorf("the RS256 ID token of before the change no longer exchanges: %v", err)
	}
}
