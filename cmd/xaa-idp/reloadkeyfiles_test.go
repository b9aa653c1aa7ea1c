package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe_ReloadChecksNewKeyFiles: check and the start refuse a
// signing.key_files entry that names no usable key, but a reload of the
// file that added one was loaded and audited as allowed, and the next
// start then refused the file (exit 2). The reload now refuses it as
// check does, at its line, keeping the running configuration, and the
// status says why.
func TestServe_ReloadChecksNewKeyFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	config := "users: [{username: alice, password: alice-pw, admin: true}]\n"
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer := startServe(t, "--config", file)
	missing := filepath.Join(dir, "missing.pem")
	if err := os.WriteFile(file, []byte(config+"signing:\n  key_files: ["+missing+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var status struct {
		Error string `json:"last_reload_error"`
		Last  string `json:"last_reload"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/status", nil)
		req.SetBasicAuth("alice", "alice-pw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&status)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if status.Last != "" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if want := file + ":3: signing.key_files[0]: "; !strings.Contains(status.Error, want) || !strings.Contains(status.Error, "missing.pem") {
		t.Fatalf("after adding a missing key file the status says %+v, want a refused reload with %q", status, want)
	}
	code, _, stderr := runCLI(t, "check", "--config", file)
	if code != 2 || !strings.Contains(stderr, file+":3: signing.key_files[0]: ") {
		t.Errorf("check: exit %d\n%s", code, stderr)
	}
}
