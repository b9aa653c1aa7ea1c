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

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
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

// TestSigning_KeyFilesAsOpenSSLWritesThem gives key_files in the shapes the
// usual openssl commands write, and checks that the JWKS publishes the
// file's key (so it is the one that signs), or that the start fails naming
// the file and the fix, never falling back to a generated key in silence.
func TestSigning_KeyFilesAsOpenSSLWritesThem(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, blocks ...*pem.Block) string {
		var data []byte
		for _, b := range blocks {
			data = append(data, pem.EncodeToMemory(b)...)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	config := func(keyFile string) *policy.Config {
		cfg, err := policy.Parse([]byte("signing: {id_token_alg: ES256, id_jag_alg: ES256, key_files: ["+keyFile+"]}\nusers: [{username: dora, password: pw}]\n"), "keys.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}

	// openssl ecparam -name prime256v1 -genkey -out ec.pem: the curve's
	// parameters (its OID) come first, then the SEC 1 key.
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(p256)
	prime256v1 := []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	ecparam := write("ecparam.pem", &pem.Block{Type: "EC PARAMETERS", Bytes: prime256v1}, &pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})
	p := startIdP(t, config(ecparam))
	set := p.jwks(t)
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want the one of %s", len(set.Keys), ecparam)
	}
	if pub, ok := set.Keys[0].Key.(*ecdsa.PublicKey); !ok || !pub.Equal(&p256.PublicKey) {
		t.Errorf("the JWKS key is not the one of %s (openssl ecparam -genkey)", ecparam)
	}

	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	sec1384, _ := x509.MarshalECPrivateKey(p384)
	spki, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	for _, tc := range []struct{ file, want string }{
		{write("p384.pem", &pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1384}), "ES256 needs P-256"},
		{write("encrypted.pem", &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x00}}), "is encrypted"},
		{write("public.pem", &pem.Block{Type: "PUBLIC KEY", Bytes: spki}), "no private key, only PUBLIC KEY"},
	} {
		log, err := audit.Open(audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := idp.New(idp.Options{Config: config(tc.file), Issuer: "http://127.0.0.1:1", Audit: log})
		if err == nil {
			srv.Close()
			t.Errorf("%s: the IdP started, signing with a key of its own", tc.file)
			continue
		}
		if !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want the file and %q", tc.file, err, tc.want)
		}
	}
}
