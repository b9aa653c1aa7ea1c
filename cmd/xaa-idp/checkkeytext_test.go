package main

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
)

// TestCheck_AnUnreadableKeyFileSaysWhatToDo: a signing.key_files entry,
// or a --dpop-key file, whose PEM block does not parse says which block,
// what it holds when that is a key under another label, and the openssl
// command that writes a readable one; it printed Go's x509 and asn1 texts
// ("use ParsePKCS1PrivateKey instead for this key format", "asn1:
// structure error: tags don't match (16 vs {class:0 tag:0 ...}) ...").
func TestCheck_AnUnreadableKeyFileSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, label string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: label, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	damaged := write("damaged.pem", "PRIVATE KEY", []byte{0, 0, 0})
	mislabelled := write("mislabelled.pem", "PRIVATE KEY", sec1)
	config := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(config, []byte("signing:\n  key_files: ["+damaged+", "+mislabelled+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, stderr := runCLI(t, "check", "--config", config)
	_, _, dpopErr := runCLI(t, "dpop-proof", "--dpop-key", mislabelled, "--htu", "http://127.0.0.1/x")
	for _, out := range []string{stderr, dpopErr} {
		for _, leak := range []string{"asn1:", "x509:", "ParsePKCS1PrivateKey", "isCompound"} {
			if strings.Contains(out, leak) {
				t.Errorf("says Go's %q:\n%s", leak, out)
			}
		}
	}
	if !strings.Contains(stderr, damaged+": its PRIVATE KEY block holds no private key that can be read") || !strings.Contains(stderr, "openssl genpkey") {
		t.Errorf("check does not say the damaged block holds no key, nor how to make one:\n%s", stderr)
	}
	for _, out := range []string{stderr, dpopErr} {
		if !strings.Contains(out, "its PRIVATE KEY block holds a key whose PEM label is EC PRIVATE KEY") || !strings.Contains(out, "openssl pkey -in "+mislabelled) {
			t.Errorf("the mislabelled key is not named with its fix:\n%s", out)
		}
	}
}
