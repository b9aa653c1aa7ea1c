package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBinary_DamagedStateFileSaysWhatToDo: a start on a state directory
// whose signing key, retired-key list or audit log is damaged (emptied,
// cut short, a line of garbage) exits 1 naming the file and saying what
// to do about it. Before, it named the file and the parse error alone
// ("keys/es256.pem: no PEM block found"), and left a newcomer to guess
// whether removing the file was safe; until 2026-12-07 it also said
// library words ("idp: signing keys: keys/previous.json: unexpected end
// of JSON input", "key does not fit ES256").
func TestBinary_DamagedStateFileSaysWhatToDo(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaKeyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}))
	good := `{"id":"01a2491e10480000b350cac4","time":"2026-12-06T02:10:30Z","type":"login","outcome":"allowed"}` + "\n"
	for _, c := range []struct {
		name, file, body string
		want, notWant    []string
	}{
		{"empty key", "keys/es256.pem", "", []string{"keys/es256.pem: is empty", "restore the file from a backup", "remove it", "no longer verify"}, libraryWords},
		// A key block whose bytes are damaged: the state directory's file
		// is restored or removed, not replaced by a key of another
		// algorithm (until 2026-12-07 the message also said to give an EC
		// P-256 key, made with openssl, for the RS256 file).
		{"damaged RS256 key", "keys/rs256.pem", "-----BEGIN PRIVATE KEY-----\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDNNoRqOn7bojzK\n-----END PRIVATE KEY-----\n",
			[]string{"keys/rs256.pem: its PRIVATE KEY block holds no private key that can be read", "restore the file from a backup", "remove it", "no longer verify"},
			append([]string{"openssl genpkey", "give an EC P-256 private key"}, libraryWords...)},
		{"cut-short retired keys", "keys/previous.json", `{"keys": [{"kid": "es256-x",`, []string{"keys/previous.json: not the list of keys the IdP wrote there: damaged or cut short", "restore the file from a backup", "remove it", "no longer verify"}, libraryWords},
		{"retired keys of another shape", "keys/previous.json", `[]`, []string{`keys/previous.json: not the list of keys the IdP wrote there: {"keys": [...]}`, "remove it"}, libraryWords},
		{"RSA key where the ES256 key is kept", "keys/es256.pem", rsaKeyPEM, []string{"keys/es256.pem: holds an RSA key of 2048 bits, not the ES256 key (an EC P-256 key) the IdP keeps there", "restore the file from a backup"}, libraryWords},
		{"garbage audit line", "audit.jsonl", good + "garbage\n", []string{"audit.jsonl:2 (byte " + strconv.Itoa(len(good)) + ")", "remove that line"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			if err := os.MkdirAll(filepath.Join(state, "keys"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(state, c.file), []byte(c.body), 0o600); err != nil {
				t.Fatal(err)
			}
			code, stderr := runBinaryFor(t, 20*time.Second, "serve", "--state-dir", state, "--addr", "127.0.0.1:0")
			if code != 1 {
				t.Errorf("exit %d, want 1:\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(stderr, w) {
					t.Errorf("stderr says %q, which is no fix for a file of the state directory:\n%s", w, stderr)
				}
			}
			if b, err := os.ReadFile(filepath.Join(state, c.file)); err != nil || string(b) != c.body {
				t.Errorf("%s was changed: %q (%v)", c.file, b, err)
			}
		})
	}
}
