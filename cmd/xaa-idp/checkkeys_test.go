package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeKeyFiles writes, in dir, one file of each kind key_files can
// hold by mistake, and a good Ed25519 key; it returns their paths by name.
func writeKeyFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalECPrivateKey(p384)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotAfter: time.Now().Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, edKey.Public(), edKey)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"good.pem":      pemOf("PRIVATE KEY", edDER),
		"notpem.pem":    []byte("this is not PEM\n"),
		"encrypted.pem": pemOf("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}),
		"cert.pem":      pemOf("CERTIFICATE", certDER),
		"p384.pem":      pemOf("EC PRIVATE KEY", p384DER),
	}
	paths := map[string]string{"missing.pem": filepath.Join(dir, "missing.pem"), "dir.pem": filepath.Join(dir, "dir.pem")}
	if err := os.Mkdir(paths["dir.pem"], 0o700); err != nil { // cannot be read as a file, even by root
		t.Fatal(err)
	}
	for name, data := range files {
		paths[name] = filepath.Join(dir, name)
		if err := os.WriteFile(paths[name], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// The key files check reports are those serve refuses, each at the line
// of its key_files entry and with serve's own words, in a file with
// tenants too.
func TestBinary_CheckOpensKeyFiles(t *testing.T) {
	dir := t.TempDir()
	keys := writeKeyFiles(t, dir)
	bad := []string{"missing.pem", "dir.pem", "notpem.pem", "encrypted.pem", "cert.pem", "p384.pem"}
	var single strings.Builder
	single.WriteString("signing:\n  key_files:\n    - " + keys["good.pem"] + "\n")
	for _, name := range bad {
		single.WriteString("    - " + keys[name] + "\n")
	}
	singleFile := filepath.Join(dir, "single.yaml")
	if err := os.WriteFile(singleFile, []byte(single.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBinary(t, "check", "--config", singleFile)
	if code != exitUsage {
		t.Fatalf("check of bad key files: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
	for i, name := range bad {
		// Each bad file alone: what check says at the entry's line (line
		// 1 is signing:, 2 key_files:, 3 the good key), serve says of it,
		// at its line too, and exits 2 as for any configuration error.
		prefix := fmt.Sprintf("%s:%d: signing.key_files[%d]: ", singleFile, 4+i, 1+i)
		msg := lineAfter(stderr, prefix)
		if !strings.Contains(msg, keys[name]) {
			t.Fatalf("check lacks %q naming %s:\n%s", prefix, keys[name], stderr)
		}
		one := filepath.Join(dir, "one-"+name+".yaml")
		if err := os.WriteFile(one, []byte("signing:\n  key_files: ["+keys[name]+"]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"serve", "demo"} {
			code, _, serveErr := runBinary(t, cmd, "--config", one, "--addr", "127.0.0.1:0")
			want := one + ":2: signing.key_files[0]: " + msg
			if code != exitUsage || !strings.Contains(serveErr, want) {
				t.Errorf("%s with %s: exit %d, want %d and %q:\n%s", cmd, name, code, exitUsage, want, serveErr)
			}
		}
	}
	if strings.Contains(stderr, keys["good.pem"]) {
		t.Errorf("check reports the good key:\n%s", stderr)
	}

	tenants := filepath.Join(dir, "tenants.yaml")
	body := "tenants:\n  - id: acme\n    signing:\n      key_files: [" + keys["good.pem"] + "]\n" +
		"  - id: beta\n    signing:\n      key_files:\n        - " + keys["cert.pem"] + "\n"
	if err := os.WriteFile(tenants, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runBinary(t, "check", "--config", tenants)
	want := tenants + ":8: tenants[1].signing.key_files[0]: " + keys["cert.pem"] + ": no private key, only CERTIFICATE"
	if code != exitUsage || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("check of a tenant's certificate: exit %d, want %d and %q:\n%s", code, exitUsage, want, stderr)
	}
}

// lineAfter is the rest of the line of out that starts with prefix, "" if
// none does.
func lineAfter(out, prefix string) string {
	for l := range strings.Lines(out) {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			return strings.TrimSuffix(rest, "\n")
		}
	}
	return ""
}

// A relative key file is taken from the directory check runs in, as
// serve takes it, not from the configuration file's directory.
func TestBinary_CheckTakesRelativeKeyFilesFromTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	writeKeyFiles(t, dir) // dir/good.pem is a good key
	confDir := filepath.Join(dir, "conf")
	if err := os.Mkdir(confDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "good.pem"), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(confDir, "idp.yaml")
	if err := os.WriteFile(conf, []byte("signing:\n  key_files: [good.pem]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := binaryIn(t, dir, "check", "--config", conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("check from the key's directory: %v\n%s", err, out)
	}
	cmd = binaryIn(t, confDir, "check", "--config", conf)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), conf+":2: signing.key_files[0]: good.pem: holds no PEM private key") {
		t.Errorf("check from the configuration's directory, where good.pem is no key: %v\n%s", err, out)
	}
}

// binaryIn is the real binary's command run in dir.
func binaryIn(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(xaaIDPBinary(t), args...)
	cmd.Dir = dir
	return cmd
}
