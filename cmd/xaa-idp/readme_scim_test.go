package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADME_SCIMSnippet runs the README's SCIM snippet ("SCIM
// provisioning") as printed against the real binary serving a copy of the
// demo configuration: the user is created, found, and deprovisioned, and
// the file holds it.
func TestREADME_SCIMSnippet(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash:", err)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl:", err)
	}
	block := readmeShellBlock(t, "SCIM provisioning.")
	demo, err := os.ReadFile("../../fixtures/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, demo, 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	issuer, _ := startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--config", file)
	waitFor(t, stderr, "level=INFO msg=serving")
	script := strings.ReplaceAll(block, "http://127.0.0.1:8080", issuer)
	out, err := exec.Command(bash, "-e", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("the README's SCIM snippet: %v\n%s", err, out)
	}
	if strings.Count(string(out), `"userName": "frank"`) != 3 || !strings.Contains(string(out), `"totalResults": 1`) || !strings.Contains(string(out), `"active": false`) {
		t.Errorf("the snippet's output:\n%s", out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, frank, ok := strings.Cut(string(data), "username: frank")
	if !ok || !strings.Contains(frank, "disabled: true") || !strings.Contains(frank, "password_bcrypt:") || strings.Contains(string(data), "frank-pw-2026") {
		t.Errorf("the file after the snippet:\n%s", data)
	}
}
