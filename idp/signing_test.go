package idp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestSigning_ConfiguredAlgorithmsAndKeyFiles runs a login and an exchange
// for each pairing of configured algorithms, and checks that a key given in
// key_files is the one that signs, and that a bcrypt password logs in.
func TestSigning_ConfiguredAlgorithmsAndKeyFiles(t *testing.T) {
	dir := t.TempDir()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(ecKey)
	keyFile := filepath.Join(dir, "es256.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("hunter2"), bcrypt.MinCost)
	for _, algs := range [][2]string{{"RS256", "ES256"}, {"ES256", "EdDSA"}, {"EdDSA", "RS256"}} {
		t.Run(algs[0]+"+"+algs[1], func(t *testing.T) {
			yaml := `
signing:
  id_token_alg: ` + algs[0] + `
  id_jag_alg: ` + algs[1] + `
  key_files: [` + keyFile + `]
groups: [{name: eng}]
users:
  - {username: dora, password_bcrypt: "` + string(hash) + `", groups: [eng]}
clients:
  - {client_id: app, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    clients: {app: app-at-chat}
    access: [{groups: [eng], scopes: [chat.read]}]
`
			cfg, err := policy.Parse([]byte(yaml), "signing.yaml")
			if err != nil {
				t.Fatal(err)
			}
			p := startIdP(t, cfg)
			tok := p.login(t, "app", "s", "dora", "hunter2", "openid")
			hdr, claims := p.verifyJWT(t, tok.IDToken())
			if hdr.Algorithm != algs[0] || claims["sub"] != "u-dora" {
				t.Errorf("ID token alg %s sub %v, want %s u-dora", hdr.Algorithm, claims["sub"], algs[0])
			}
			form := exchangeForm(tok.IDToken())
			form.Set("client_id", "app")
			form.Set("client_secret", "s")
			resp, body := p.postToken(t, form, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("exchange: %d %v", resp.StatusCode, body)
			}
			jagHdr, _ := p.verifyJWT(t, body["access_token"].(string))
			if jagHdr.Algorithm != algs[1] {
				t.Errorf("ID-JAG alg %s, want %s", jagHdr.Algorithm, algs[1])
			}
			// The ES256 key comes from key_files wherever ES256 is used.
			for _, h := range []struct{ alg, kid string }{{hdr.Algorithm, hdr.KeyID}, {jagHdr.Algorithm, jagHdr.KeyID}} {
				if h.alg != "ES256" {
					continue
				}
				set := p.jwks(t)
				keys := set.Key(h.kid)
				if len(keys) != 1 {
					t.Fatalf("kid %s not in JWKS", h.kid)
				}
				if pub, ok := keys[0].Key.(*ecdsa.PublicKey); !ok || !pub.Equal(&ecKey.PublicKey) {
					t.Errorf("the ES256 key is not the one of key_files")
				}
			}
			if !strings.HasPrefix(hdr.KeyID, strings.ToLower(algs[0])) {
				t.Errorf("kid %q does not name its algorithm", hdr.KeyID)
			}
		})
	}
}
