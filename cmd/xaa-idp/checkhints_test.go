package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_CheckSuggestsOnlyKeysAllowedWhereTheTypoIs: a misspelt key's
// "known keys" and "did you mean" name only keys that may stand there.
// The top level of a file and a tenant entry share one schema, but id and
// path belong to a tenant only, and issuer and tenants to the top level
// only: suggesting "path" for a top-level "pth" (or "issuer" for a tenant's
// "isuer") sends the user from one error to the next.
func TestCLI_CheckSuggestsOnlyKeysAllowedWhereTheTypoIs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	top := write("top.yaml", "pth: /x\nusers: [{username: a, password: a}]\n")
	code, _, stderr := runCLI(t, "check", "--config", top)
	if code != exitUsage || !strings.Contains(stderr, "top.yaml:1: unknown key \"pth\"") {
		t.Fatalf("check: exit %d, %s", code, stderr)
	}
	if strings.Contains(stderr, "did you mean \"path\"") || strings.Contains(stderr, " id, ") || strings.Contains(stderr, " path, ") {
		t.Errorf("a top-level typo is offered tenant-only keys:\n%s", stderr)
	}

	tenant := write("tenant.yaml", "tenants:\n  - id: acme\n    isuer: http://x.example\n")
	code, _, stderr = runCLI(t, "check", "--config", tenant)
	if code != exitUsage || !strings.Contains(stderr, "tenant.yaml:3: unknown key \"isuer\"") {
		t.Fatalf("check: exit %d, %s", code, stderr)
	}
	if strings.Contains(stderr, "did you mean \"issuer\"") || strings.Contains(stderr, "known keys: issuer,") || strings.Contains(stderr, ", tenants") {
		t.Errorf("a tenant's typo is offered top-level-only keys:\n%s", stderr)
	}
	if !strings.Contains(stderr, "path") {
		t.Errorf("a tenant's known keys should list path:\n%s", stderr)
	}
}
