package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_WarnsOfURLsNoClientSends: tokens carry an issuer and a
// resource as written (the IdP matches a request's up to case and default
// port, internal/urimatch, but a space or an international host not at
// all), and clients write URLs as a URL parser writes them: the TypeScript SDK sends new URL(...).href, with scheme
// and host in lower case, no default port, a space as %20. A resource
// written "HTTPS://MCP.Example.com/mcp" or "https://mcp.example.com:443/mcp"
// passed check and serve, and no token exchange ever matched it
// (invalid_target). check now warns at its line with the spelling to
// write, as it does of the server's issuer (the ID-JAG's aud, which its
// authorization server compares with its own issuer), an alias and the
// IdP's own issuer; a file written so has no warning.
func TestCheck_WarnsOfURLsNoClientSends(t *testing.T) {
	config := `issuer: http://LOCALHOST:80
users: [{username: alice, password: alice}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}]
mcp_servers:
  - id: notes
    issuer: HTTPS://AS.Example.com
    aliases: [urn:example:notes, "https://as.example.com:443/"]
    resources:
      - https://mcp.example.com/mcp
      - HTTPS://MCP.Example.com/mcp
      - https://mcp.example.com:443/v2
      - https://mcp.example.com/my mcp
      - https://mcp.bücher.example/mcp
      - https://mcp.example.com/a/../v3/.
    scopes: [n]
    clients: {c: c}
`
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "check", "--config", file)
	if code != 0 || !strings.Contains(out, ": ok (") {
		t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		file + `:1: warning: issuer "http://LOCALHOST:80" is not written as clients write it; write "http://localhost"`,
		file + `:6: warning: server notes: issuer "HTTPS://AS.Example.com" is not written as clients write it; write "https://as.example.com"`,
		file + `:7: warning: server notes: alias "https://as.example.com:443/" is not written as clients write it; write "https://as.example.com/"`,
		file + `:10: warning: server notes: resource "HTTPS://MCP.Example.com/mcp" is not written as clients write it; write "https://mcp.example.com/mcp"`,
		file + `:11: warning: server notes: resource "https://mcp.example.com:443/v2" is not written as clients write it; write "https://mcp.example.com/v2"`,
		file + `:12: warning: server notes: resource "https://mcp.example.com/my mcp" is not written as clients write it; write "https://mcp.example.com/my%20mcp"`,
		file + `:13: warning: server notes: resource "https://mcp.bücher.example/mcp" is not written as clients write it; write "https://mcp.xn--bcher-kva.example/mcp"`,
		// A URL parser resolves dot segments (RFC 3986 §5.2.4), which the
		// IdP's matching keeps; until 2026-12-06 no warning.
		file + `:14: warning: server notes: resource "https://mcp.example.com/a/../v3/." is not written as clients write it; write "https://mcp.example.com/v3/"`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check's stderr lacks\n%s\n---\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, "warning:"); n != 8 {
		t.Errorf("%d warnings, want 8:\n%s", n, stderr)
	}
}

// TestServe_AdminChangeWarnsOfAResourceNoClientSends: the admin API's PUT
// of an MCP server is checked as the file is: a resource no client sends
// is accepted, and the answer's warnings say what to write.
func TestServe_AdminChangeWarnsOfAResourceNoClientSends(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `users: [{username: alice, password: alice-pw, admin: true}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:1
    resources: [http://127.0.0.1:2/mcp]
    scopes: [n]
    clients: {c: c-at-notes}
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	issuer, _ := startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--config", file)
	issuer = strings.TrimSpace(issuer)
	waitFor(t, stderr, "level=INFO msg=serving")
	if strings.Contains(stderr.String(), "warning:") {
		t.Fatalf("a warning at start:\n%s", stderr)
	}
	body := `{"issuer": "http://127.0.0.1:1", "resources": ["http://127.0.0.1:80/mcp", "HTTP://127.0.0.1:2/mcp"], "scopes": ["n"], "clients": {"c": "c-at-notes"}}`
	req, _ := http.NewRequest(http.MethodPut, issuer+"/admin/api/servers/notes", bytes.NewReader([]byte(body)))
	req.SetBasicAuth("alice", "alice-pw")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct {
		Warnings []struct {
			Line    int    `json:"line"`
			Message string `json:"message"`
		} `json:"warnings"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", resp.StatusCode, raw)
	}
	var got []string
	for _, w := range out.Warnings {
		got = append(got, w.Message)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{`write "http://127.0.0.1/mcp"`, `write "http://127.0.0.1:2/mcp"`} {
		if !strings.Contains(all, want) {
			t.Errorf("the answer's warnings lack %s:\n%s", want, raw)
		}
	}
}

// TestServe_IssuerFlagNotWrittenAsClientsWriteIsWarned: --issuer is the
// issuer: key given on the command line (policy.CheckIssuer), and a
// spelling that check warns of in the file is warned of at start too:
// every token's iss carries it as given.
func TestServe_IssuerFlagNotWrittenAsClientsWriteIsWarned(t *testing.T) {
	stderr := &syncBuffer{}
	startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--issuer", "https://IdP.Example.com:443")
	waitFor(t, stderr, "level=INFO msg=serving")
	want := `level=WARN msg="--issuer \"https://IdP.Example.com:443\" is not written as clients write it; write \"https://idp.example.com\"`
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("the log lacks\n%s\n---\n%s", want, stderr)
	}
}

// TestCheck_WarnsOfIPLiteralsNoClientSends: a URL parser writes an IP
// address host in one form (the WHATWG URL standard, which the TypeScript
// SDK's new URL follows): IPv6 compressed in lower case (RFC 5952), IPv4
// as four decimal numbers, whatever shorthand was typed (127.1, 0x7f.0.0.1,
// 127.000.000.001). The IdP compares hosts as written, up to case, so a
// resource written otherwise matched no request a client made from the
// protected-resource metadata; until 2026-12-06 check said nothing.
func TestCheck_WarnsOfIPLiteralsNoClientSends(t *testing.T) {
	config := `users: [{username: alice, password: alice}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}]
mcp_servers:
  - id: notes
    issuer: http://[0:0::1]:8101
    resources:
      - http://127.1:8201/mcp
      - http://0x7f.0.0.1:8202/mcp
      - http://127.000.000.001:8203/mcp
      - http://[::1]:8204/mcp
      - http://10.0.0.1:8205/mcp
      - http://[::ffff:7f00:1]:8206/mcp
      - http://[2001:DB8:0:0:1:0:0:1]:8207/mcp
      - http://v1.example/mcp
    scopes: [n]
    clients: {c: c}
`
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "check", "--config", file)
	if code != 0 || !strings.Contains(out, ": ok (") {
		t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		file + `:5: warning: server notes: issuer "http://[0:0::1]:8101" is not written as clients write it; write "http://[::1]:8101"`,
		file + `:7: warning: server notes: resource "http://127.1:8201/mcp" is not written as clients write it; write "http://127.0.0.1:8201/mcp"`,
		file + `:8: warning: server notes: resource "http://0x7f.0.0.1:8202/mcp" is not written as clients write it; write "http://127.0.0.1:8202/mcp"`,
		file + `:9: warning: server notes: resource "http://127.000.000.001:8203/mcp" is not written as clients write it; write "http://127.0.0.1:8203/mcp"`,
		file + `:13: warning: server notes: resource "http://[2001:DB8:0:0:1:0:0:1]:8207/mcp" is not written as clients write it; write "http://[2001:db8::1:0:0:1]:8207/mcp"`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check's stderr lacks\n%s\n---\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, "warning:"); n != 5 {
		t.Errorf("%d warnings, want 5:\n%s", n, stderr)
	}
}
