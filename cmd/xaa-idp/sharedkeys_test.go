package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// twoTenants is a file of two tenants, each with the key files given.
func twoTenants(t *testing.T, acmeKeys, betaKeys string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tenants.yaml")
	body := "tenants:\n  - id: acme\n    signing:\n      key_files: [" + acmeKeys + "]\n" +
		"  - id: beta\n    signing:\n      key_files: [" + betaKeys + "]\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// ecKeyPEMs is a new EC P-256 key as PKCS #8 and as SEC 1 PEM: one key
// in two forms.
func ecKeyPEMs(t *testing.T) (pkcs8, sec1 []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	der1, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der8}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der1})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBinary_TenantsSharingAKeyFileAreRefused: two tenants whose
// signing.key_files hold one key, as one file or as two files of two
// forms, are refused by check and by serve at the second entry's line,
// naming the first: each tenant has keys of its own (README, "Several
// issuers"). Before, both started, publishing one kid, so that a
// resource server picking the key by kid took one tenant's tokens for
// the other's, and check said ok.
func TestBinary_TenantsSharingAKeyFileAreRefused(t *testing.T) {
	dir := t.TempDir()
	pkcs8, sec1 := ecKeyPEMs(t)
	a, b := filepath.Join(dir, "a.pem"), filepath.Join(dir, "b.pem")
	writeFile(t, a, pkcs8)
	writeFile(t, b, sec1)
	for _, c := range []struct{ name, acme, beta string }{
		{"one file", a, a},
		{"one key in two files", a, b},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := twoTenants(t, c.acme, c.beta)
			want := file + ":7: tenants[1].signing.key_files[0]: " + c.beta + " holds the same key as tenants[0].signing.key_files[0] (line 4)"
			out, err := exec.Command(xaaIDPBinary(t), "check", "--config", file).CombinedOutput()
			if err == nil || !strings.Contains(string(out), want) || !strings.Contains(string(out), "a key file of its own") {
				t.Errorf("check: %v, want a refusal with %q:\n%s", err, want, out)
			}
			code, stderr := runBinaryFor(t, 20*time.Second, "serve", "--config", file, "--addr", "127.0.0.1:0")
			if code != 2 || !strings.Contains(stderr, want) {
				t.Errorf("serve: exit %d, want 2 with %q:\n%s", code, want, stderr)
			}
		})
	}
}

// TestBinary_TenantsSharingAStateKeyAreRefused: a tenant's signing key
// copied into another tenant's keys under --state-dir is refused at start,
// exit 1, naming both files and what to do, and no file is changed.
// Before, both tenants signed with it and published one kid.
func TestBinary_TenantsSharingAStateKeyAreRefused(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	pkcs8, _ := ecKeyPEMs(t)
	acme := filepath.Join(state, "tenants", "acme", "keys", "es256.pem")
	beta := filepath.Join(state, "tenants", "beta", "keys", "es256.pem")
	writeFile(t, acme, pkcs8)
	writeFile(t, beta, pkcs8)
	file := twoTenants(t, "", "")
	code, stderr := runBinaryFor(t, 20*time.Second, "serve", "--config", file, "--state-dir", state, "--addr", "127.0.0.1:0")
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, stderr)
	}
	for _, w := range []string{"tenants acme and beta hold the same signing key", acme, beta, "remove " + beta} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	for _, f := range []string{acme, beta} {
		if b, err := os.ReadFile(f); err != nil || string(b) != string(pkcs8) {
			t.Errorf("%s was changed (%v)", f, err)
		}
	}
}
