package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADME_CIShellSnippet runs the README's shell snippet for a CI job
// ("Testing your client in CI", "In any language: the binary") as printed,
// on a free port and with the built binary: it must exit 0, stop the IdP
// cleanly, and leave the audit file and the log as JSON lines.
func TestREADME_CIShellSnippet(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash:", err)
	}
	block := readmeShellBlock(t, "In any language: the binary.")

	dir := t.TempDir()
	bin := filepath.Join(dir, "xaa-idp")
	if err := os.Symlink(xaaIDPBinary(t), bin); err != nil {
		t.Fatal(err)
	}
	script := strings.ReplaceAll(block, "127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	cmd := exec.Command(bash, "-e", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's CI snippet: %v\n%s\nscript:\n%s", err, out, script)
	}
	if !strings.Contains(string(out), `"issued_token_type": "urn:ietf:params:oauth:token-type:id-jag"`) {
		t.Errorf("the snippet's exchange printed no ID-JAG:\n%s", out)
	}
	for _, f := range []string{"state/audit.jsonl", "state/idp.log"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		for _, line := range lines {
			if !json.Valid([]byte(line)) {
				t.Errorf("%s: a line is not JSON: %q", f, line)
			}
		}
		if f == "state/audit.jsonl" && len(lines) < 3 {
			t.Errorf("%s: %d events, want the login's and the exchange's", f, len(lines))
		}
	}
}

// readmeShellBlock is the first ```sh block of README.md after the
// paragraph that starts with the bold title.
func readmeShellBlock(t *testing.T, title string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "**"+title+"**")
	if !ok {
		t.Fatalf("README.md has no paragraph %q", title)
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	if !ok {
		t.Fatalf("README.md: no ```sh block after %q", title)
	}
	block, _, _ = strings.Cut(block, "```\n")
	return block
}
