package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestServe_TenantsWithKeyFilesNewStateDir: a tenant whose key_files
// hold every key it signs with writes no key under --state-dir, and the
// start then stopped (exit 1) writing the tenant's ended-logins.jsonl
// into tenants/<id>/, a directory only the key store had made.
func TestServe_TenantsWithKeyFilesNewStateDir(t *testing.T) {
	dir := t.TempDir()
	keys := writeKeyFiles(t, dir)
	file := filepath.Join(dir, "idp.yaml")
	config := "tenants:\n  - id: acme\n    signing: {id_token_alg: EdDSA, id_jag_alg: EdDSA, key_files: [" + keys["good.pem"] + "]}\n" +
		"    users: [{username: alice, password: alice}]\n"
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	issuer := startServe(t, "--config", file, "--state-dir", state)
	if issuer == "" {
		t.Fatal("serve printed no issuer")
	}
	if _, err := os.Stat(filepath.Join(state, "tenants", "acme", "ended-logins.jsonl")); err != nil {
		t.Errorf("the tenant's record of ended logins: %v", err)
	}
}
