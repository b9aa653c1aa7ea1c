package main

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// libraryWords are texts of Go's packages that a refusal of a key file
// printed as they were; none names what is wrong in a user's words.
var libraryWords = []string{"no PEM block", "unexpected end of JSON", "invalid character", "PKCS", "SEC 1", "x509:", "asn1:", "ecdh", "*", "stat ", "idp: signing keys", "does not fit"}

// TestBinary_KeyFileRefusalsSayWhatIsWrongInPlainWords: each way a
// signing.key_files entry can be wrong is refused by check at the entry's
// line, naming the file, what is wrong in plain words and the openssl
// command that makes a key (README, "Signing keys"). Before, an empty or
// cut-short file said "no PEM block found", a missing one "stat FILE: no
// such file or directory", an X25519 key "unsupported private key type
// *ecdh.PrivateKey", an encrypted key in openssl's older form that its
// block was damaged, and an RSA key of 1024 or 512 bits was taken: Go
// refuses to sign with fewer than 1024, so each token request failed.
func TestBinary_KeyFileRefusalsSayWhatIsWrongInPlainWords(t *testing.T) {
	dir := t.TempDir()
	pemOf := func(typ string, der []byte, headers map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der}))
	}
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	xDER, err := x509.MarshalPKCS8PrivateKey(x)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, err := x509.MarshalPKCS8PrivateKey(small)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := ecKeyPEMs(t)
	good := string(pkcs8)
	const makeKey = "give an EC P-256 private key, PEM (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out KEY.pem)"
	for _, c := range []struct {
		name, body string // body "-" : no file
		want       []string
	}{
		{"empty", "", []string{"is empty", makeKey}},
		{"not PEM", "this is not a key\n", []string{"holds no PEM private key (no -----BEGIN PRIVATE KEY----- line)", makeKey}},
		{"cut short", good[:len(good)/2], []string{"holds a PEM block cut short or damaged", makeKey}},
		{"missing", "-", []string{"no such file; correct the path, or " + makeKey}},
		{"X25519 key", pemOf("PRIVATE KEY", xDER, nil), []string{"holds an X25519 key, which is for key agreement and cannot sign", makeKey}},
		{"RSA key of 1024 bits", pemOf("PRIVATE KEY", smallDER, nil), []string{"holds an RSA key of 1024 bits, too small to sign with: RS256 needs 2048 bits or more", "rsa_keygen_bits:2048", makeKey}},
		{"encrypted, openssl's older form", pemOf("RSA PRIVATE KEY", []byte{1, 2, 3}, map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}), []string{"the private key is encrypted; give an unencrypted copy (openssl pkey -in "}},
		{"damaged block", pemOf("PRIVATE KEY", []byte{0, 0, 0}, nil), []string{"its PRIVATE KEY block holds no private key that can be read", makeKey}},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".pem")
			if c.body != "-" {
				if err := os.WriteFile(key, []byte(c.body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			conf := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
			if err := os.WriteFile(conf, []byte("# keys\nsigning:\n  key_files:\n    - "+key+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			code, stderr := runBinaryFor(t, 20*time.Second, "check", "--config", conf)
			if code == 0 {
				t.Fatalf("check took the file:\n%s", stderr)
			}
			if at := conf + ":4: signing.key_files[0]: " + key + ": "; !strings.Contains(stderr, at) {
				t.Errorf("stderr does not name the entry's line and the file (%q):\n%s", at, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, w := range libraryWords {
				if strings.Contains(stderr, w) {
					t.Errorf("stderr says %q:\n%s", w, stderr)
				}
			}
		})
	}
}
