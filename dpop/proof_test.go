package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/dpop"
)

// TestNewProof_Verifies: a proof NewProof makes passes Verify for its
// request, with each kind of key, names the key's thumbprint, drops the
// URL's query and fragment, and carries nonce and ath when given.
func TestNewProof_Verifies(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	for _, key := range []crypto.Signer{ec, rsaKey, ed} {
		proof, err := dpop.NewProof(key, dpop.Params{Method: "GET", URL: "https://u:p@mcp.example/mcp?x=1#f", Nonce: "n-1", AccessToken: "at"})
		if err != nil {
			t.Fatalf("%T: %v", key, err)
		}
		p, err := dpop.Verify(proof, dpop.Want{Method: "GET", URL: "https://mcp.example/mcp", Now: now, AccessToken: "at"})
		if err != nil {
			t.Fatalf("%T: %v", key, err)
		}
		if jkt, _ := dpop.Thumbprint(key); p.JKT != jkt {
			t.Errorf("%T: jkt %q, thumbprint %q", key, p.JKT, jkt)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(proof, ".")[1])
		var c map[string]any
		_ = json.Unmarshal(payload, &c)
		if c["htu"] != "https://mcp.example/mcp" || c["nonce"] != "n-1" {
			t.Errorf("%T: claims %v", key, c)
		}
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, key := range []crypto.Signer{small, p384} {
		if _, err := dpop.NewProof(key, dpop.Params{Method: "POST", URL: "https://as.example/token"}); err == nil {
			t.Errorf("%T: a proof Verify refuses", key)
		}
	}
}
