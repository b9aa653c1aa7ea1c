package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestREADME_CIShellSnippet runs the README's shell snippet for a CI job
// ("Testing your client in CI", "In any language: the binary") as printed
// (port 0), with the built binary: it must exit 0, stop the IdP
// cleanly, and leave the audit file and the log as JSON lines.
func TestREADME_CIShellSnippet(t *testing.T) {
	dir := t.TempDir()
	out, err := runREADMECISnippet(t, dir, func(s string) string { return s })
	if err != nil {
		t.Fatalf("the README's CI snippet: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"issued_token_type": "urn:ietf:params:oauth:token-type:id-jag"`) {
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

// docSection is the text of the repository's markdown file at path (as
// "docs/audit.md") under its heading "## heading", up to the next such
// heading; the test fails when the file has no such section.
func docSection(t *testing.T, path, heading string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("%s has no %q section", path, "## "+heading)
	}
	rest, _, _ = strings.Cut(rest, "\n## ")
	return rest
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

// runREADMECISnippet runs the README's CI snippet as a GitHub Actions
// bash step runs it (set -euo pipefail) in dir, with edit applied to it
// first, and returns its output and exit error.
func runREADMECISnippet(t *testing.T, dir string, edit func(string) string) (string, error) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash:", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "xaa-idp")); err != nil {
		if err := os.Symlink(xaaIDPBinary(t), filepath.Join(dir, "xaa-idp")); err != nil {
			t.Fatal(err)
		}
	}
	script := edit(readmeShellBlock(t, "In any language: the binary."))
	cmd := exec.Command(bash, "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// An IdP that cannot start (here its state directory is held by an IdP an
// earlier step left running) fails the README's CI snippet at once, with
// the IdP's reason in the job's log: the snippet waited 5 s, then its
// login failed with "nothing answers", the reason hidden in state/idp.log
// (or, on a fixed port the earlier IdP held, its tests ran against that
// one).
func TestREADME_CIShellSnippet_IdPThatCannotStartFailsTheStep(t *testing.T) {
	dir := t.TempDir()
	earlier := exec.Command(xaaIDPBinary(t), "serve", "--addr", "127.0.0.1:0", "--state-dir", filepath.Join(dir, "state"))
	stdout, err := earlier.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := earlier.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { earlier.Process.Kill(); earlier.Wait() })
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatalf("the earlier IdP printed no issuer: %v", err)
	}
	start := time.Now()
	out, err := runREADMECISnippet(t, dir, func(s string) string { return s })
	if err == nil {
		t.Fatalf("the snippet passed with its IdP unable to start:\n%s", out)
	}
	if !strings.Contains(out, "is in use by another xaa-idp process") {
		t.Errorf("the step's output does not say why the IdP did not start:\n%s", out)
	}
	if strings.Contains(out, "xaa-idp login") || strings.Contains(out, "issued_token_type") {
		t.Errorf("the snippet ran its client commands after the IdP failed to start:\n%s", out)
	}
	// The snippet's wait for the issuer sleeps 50 times 0.1 s: a snippet
	// that waits it out takes 5 s at least, one that sees the IdP exit does
	// not (3 s, the bound before, was near what a loaded machine takes).
	if d := time.Since(start); d >= 5*time.Second {
		t.Errorf("the snippet took %v to fail; the IdP exits at once", d)
	}
}

// A test of the README's CI snippet that fails ends the step (set -e);
// the IdP the snippet started must not outlive it, holding its port and
// state directory for the next step.
func TestREADME_CIShellSnippet_FailingTestStopsTheIdP(t *testing.T) {
	dir := t.TempDir()
	out, err := runREADMECISnippet(t, dir, func(s string) string {
		i := strings.Index(s, "# ... your client's tests")
		if i < 0 {
			t.Fatalf("the snippet has no line for the client's tests:\n%s", s)
		}
		return s[:i] + "false # a test fails\n" + s[i:]
	})
	if err == nil {
		t.Fatalf("the snippet passed with a failing test:\n%s", out)
	}
	pid, _ := os.ReadFile(filepath.Join(dir, "state", "xaa-idp.lock"))
	issuer, rerr := os.ReadFile(filepath.Join(dir, "state", "issuer"))
	if rerr != nil || len(issuer) == 0 {
		t.Fatalf("no issuer in state/issuer (%v):\n%s", rerr, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(strings.TrimSpace(string(issuer)) + "/healthz")
		if err != nil {
			break // stopped
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			if n, err := strconv.Atoi(strings.TrimSpace(string(pid))); err == nil {
				if p, err := os.FindProcess(n); err == nil {
					p.Kill()
				}
			}
			t.Fatalf("the IdP still answers at %s after the step failed", issuer)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
