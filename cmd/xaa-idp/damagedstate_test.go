package main

import (
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
// whether removing the file was safe.
func TestBinary_DamagedStateFileSaysWhatToDo(t *testing.T) {
	good := `{"id":"01a2491e10480000b350cac4","time":"2026-12-06T02:10:30Z","type":"login","outcome":"allowed"}` + "\n"
	for _, c := range []struct {
		name, file, body string
		want, notWant    []string
	}{
		{"empty key", "keys/es256.pem", "", []string{"keys/es256.pem: no PEM block found", "remove it", "no longer verify"}, nil},
		// A key block whose bytes are damaged: the state directory's file
		// is restored or removed, not replaced by a key of another
		// algorithm (until 2026-12-07 the message also said to give an EC
		// P-256 key, made with openssl, for the RS256 file).
		{"damaged RS256 key", "keys/rs256.pem", "-----BEGIN PRIVATE KEY-----\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDNNoRqOn7bojzK\n-----END PRIVATE KEY-----\n",
			[]string{"keys/rs256.pem: its PRIVATE KEY block is not a PKCS #8 private key", "restore the file from a backup", "remove it", "no longer verify"},
			[]string{"openssl genpkey", "give a PEM private key"}},
		{"cut-short retired keys", "keys/previous.json", `{"keys": [{"kid": "es256-x",`, []string{"keys/previous.json", "remove it", "no longer verify"}, nil},
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
