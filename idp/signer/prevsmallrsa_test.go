package signer

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoad_SmallRSAKeyInPreviousKeysSaysItsSize: a key a rotation
// replaced, kept in keys/previous.json as RS256 but of 1024 bits (the
// file edited by hand, or written by a program that made small keys),
// is refused at the start saying that RS256 needs 2048 bits. Until
// 2026-12-07 the refusal read "an RSA key of 1024 bits, not the RS256 key
// (an RSA key)", which names no fault.
func TestLoad_SmallRSAKeyInPreviousKeysSaysItsSize(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(small)
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	if err := os.MkdirAll(filepath.Join(state, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"keys": []previousKeyRecord{{
		KID: "rs256-small", Alg: "RS256", RetireAt: time.Now().Add(time.Hour),
		PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}}})
	if err := os.WriteFile(filepath.Join(state, "keys", "previous.json"), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(Options{IDTokenAlg: "ES256", IDJAGAlg: "EdDSA", StateDir: state, Now: time.Now})
	if err == nil {
		t.Fatal("a 1024-bit RS256 key in previous.json was loaded")
	}
	for _, w := range []string{`key "rs256-small"`, "an RSA key of 1024 bits", "2048 bits or more"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal lacks %q: %v", w, err)
		}
	}
}
