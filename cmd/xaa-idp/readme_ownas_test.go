package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADME_OwnAuthorizationServer follows "Testing your own authorization
// server" as a team would: the README's mcp_servers entry appended to a
// copy of fixtures/demo.yaml, `serve --config` on it (port 0), then the
// README's login and exchange commands with the built binary. The ID-JAG
// they print must carry every header member and claim the README tells
// the team to check, each with the value the README's entry gives it, its
// kid a key of <issuer>/keys with its alg; and each claim must be in the
// claims table of docs/http.md that the README sends the team to.
func TestREADME_OwnAuthorizationServer(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash:", err)
	}
	section := docSection(t, "README.md", "Testing your own authorization server")
	block := func(lang string) string {
		_, b, ok := strings.Cut(section, "```"+lang+"\n")
		if !ok {
			t.Fatalf("the section has no ```%s block", lang)
		}
		b, _, _ = strings.Cut(b, "```\n")
		return b
	}
	_, entry, ok := strings.Cut(block("yaml"), "mcp_servers:\n")
	if !ok {
		t.Fatal("the section's first yaml block has no mcp_servers: entry")
	}
	demo, err := os.ReadFile("../../fixtures/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), append(demo, entry...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(xaaIDPBinary(t), filepath.Join(dir, "xaa-idp")); err != nil {
		t.Fatal(err)
	}
	serve := exec.Command(filepath.Join(dir, "xaa-idp"), "serve", "--config", "mine.yaml", "--addr", "127.0.0.1:0")
	serve.Dir = dir
	var serveErr strings.Builder
	serve.Stderr = &serveErr
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		serve.Wait()
		t.Fatalf("serve --config with the README's entry printed no issuer: %v\n%s", err, serveErr.String())
	}
	issuer := strings.TrimSpace(line)

	cmd := exec.Command(bash, "-euo", "pipefail", "-c", block("sh"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XAA_IDP_ISSUER="+issuer)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the README's login and exchange: %v\n%s", err, out)
	}
	var answer struct {
		Decoded struct {
			Header map[string]any `json:"header"`
			Claims map[string]any `json:"claims"`
		} `json:"decoded"`
	}
	if err := json.Unmarshal(out, &answer); err != nil {
		t.Fatalf("exchange --decode printed no JSON: %v\n%s", err, out)
	}
	h, c := answer.Decoded.Header, answer.Decoded.Claims
	want := map[string]any{
		"iss": issuer, "aud": "https://as.mine.example", "client_id": "client-id-registered-at-mine",
		"sub": "00u-alice", "resource": "https://mcp.mine.example/mcp", "scope": "read",
	}
	for claim, v := range want {
		if c[claim] != v {
			t.Errorf("the ID-JAG's %s is %v, want %v (claims %v)", claim, c[claim], v, c)
		}
	}
	for _, claim := range []string{"exp", "iat"} {
		if _, ok := c[claim].(float64); !ok {
			t.Errorf("the ID-JAG has no numeric %s: %v", claim, c)
		}
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp <= iat {
		t.Errorf("the ID-JAG's exp %v is not after its iat %v", exp, iat)
	}
	if jti, _ := c["jti"].(string); jti == "" {
		t.Errorf("the ID-JAG has no jti: %v", c)
	}
	if h["typ"] != "oauth-id-jag+jwt" {
		t.Errorf("the ID-JAG's typ is %v", h["typ"])
	}
	resp, err := http.Get(issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range jwks.Keys {
		if k["kid"] == h["kid"] {
			found = true
			if k["alg"] != h["alg"] {
				t.Errorf("the key %v of <issuer>/keys has alg %v; the ID-JAG's header says %v", h["kid"], k["alg"], h["alg"])
			}
		}
	}
	if !found {
		t.Errorf("the ID-JAG's kid %v is not in %s/keys", h["kid"], issuer)
	}

	// What the README tells the team to check, each documented where the
	// README says.
	httpDoc, err := os.ReadFile("../../docs/http.md")
	if err != nil {
		t.Fatal(err)
	}
	_, claimsTable, _ := strings.Cut(string(httpDoc), "\n### Token exchange (ID-JAG)\n")
	_, claimsTable, _ = strings.Cut(claimsTable, "| claim | value |")
	claimsTable, _, _ = strings.Cut(claimsTable, "\n\n")
	for _, claim := range []string{"iss", "aud", "client_id", "sub", "exp", "iat", "jti", "resource", "scope"} {
		if !strings.Contains(section, "`"+claim+"`") {
			t.Errorf("the README's section does not name the claim %s", claim)
		}
		if !strings.Contains(claimsTable, "`"+claim+"`") {
			t.Errorf("docs/http.md's ID-JAG claims table has no %s", claim)
		}
	}
}
