package main

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/policy"
)

// printDemoOf is the demo's banner of the configuration config, with the
// services of stack, at http://127.0.0.1:8080.
func printDemoOf(t *testing.T, config string, stack []demo.Service) string {
	t.Helper()
	cfg, err := policy.Parse([]byte(config), "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	printDemo(&out, cfg, stack, demoBanner{base: "http://127.0.0.1:8080", program: "xaa-idp"})
	return out.String()
}

// TestTryConnect_SurvivesAShell: the banner's command is pasted into a
// shell, so every value in it reaches connect as one argument, as
// configured, whatever characters a secret or a path holds.
func TestTryConnect_SurvivesAShell(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
users:
  - {username: dev, password: "it's a p&ss"}
clients:
  - {client_id: my-client, client_secret: "s3cr&t;$(touch x) y", redirect_uris: ["http://127.0.0.1/cb"], token_exchange: true}
mcp_servers:
  - id: chat
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [chat.read]
    clients: {my-client: my-client}
    access: [{users: [dev], scopes: [chat.read]}]
`), "try.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cmd := tryConnect(cfg, "http://127.0.0.1:8080", demoBanner{program: "xaa-idp", caFile: "/tmp/my state/ca.pem"})
	if cmd == "" {
		t.Fatal("no command")
	}
	// The shell splits the command as a user's would, and prints each argument on a line.
	sh := exec.Command("sh", "-c", `set -- `+strings.TrimPrefix(cmd, "xaa-idp ")+`; printf '%s\n' "$@"`)
	sh.Dir = t.TempDir() // where an unquoted $(touch x) would run
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := []string{"connect", "--issuer", "http://127.0.0.1:8080", "--ca-file", "/tmp/my state/ca.pem",
		"--client-id", "my-client", "--client-secret", "s3cr&t;$(touch x) y", "--redirect-uri", "http://127.0.0.1/cb",
		"--username", "dev", "--password", "it's a p&ss"}
	if !slices.Equal(got, want) {
		t.Errorf("the shell reads %q\nfrom %s\nwant %q", got, cmd, want)
	}
}

// TestPrintDemo_AServerWithoutAName: the banner names a server by its id
// alone when it has no name, not "files ()".
func TestPrintDemo_AServerWithoutAName(t *testing.T) {
	out := printDemoOf(t, `
mcp_servers:
  - id: files
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
  - id: chat
    name: Chat
    issuer: http://127.0.0.1:9102
    resources: [http://127.0.0.1:9202/mcp]
`, []demo.Service{
		{Server: "files", Role: "authorization server", URL: "http://127.0.0.1:9101"},
		{Server: "files", Role: "MCP server", URL: "http://127.0.0.1:9201/mcp"},
		{Server: "chat", Role: "authorization server", URL: "http://127.0.0.1:9102"},
		{Server: "chat", Role: "MCP server", URL: "http://127.0.0.1:9202/mcp"},
	})
	if strings.Contains(out, "()") || !strings.Contains(out, "  files  ") || !strings.Contains(out, "  chat (Chat)  ") {
		t.Errorf("banner:\n%s\nwant files alone and chat (Chat)", out)
	}
}

// TestPrintPeople_UserWithoutGroups: the tenants demo's users have no
// groups; the banner printed "groups" and a blank before "admin", which
// reads as a group named admin.
func TestPrintPeople_UserWithoutGroups(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
groups: [{name: eng}]
users:
  - {username: alice, password: alice, admin: true}
  - {username: bob, password: bob, groups: [eng]}
`), "people.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printPeople(&out, cfg)
	for _, want := range []string{"  alice  password alice  no groups   admin\n", "  bob    password bob    groups eng\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
}

// TestPrintPeople_NoTrailingSpaces: a user without notes (not admin, not
// disabled) ended their line with the padding of the empty notes column,
// which the README's copy of the banner does not show.
func TestPrintPeople_NoTrailingSpaces(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
groups: [{name: engineering}, {name: sales}]
users:
  - {username: alice, password: alice, groups: [engineering], admin: true}
  - {username: bob, password: bob, groups: [sales]}
  - {username: erin, password: erin, groups: [engineering], disabled: true}
  - {username: mallory, password: mallory}
`), "people.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printPeople(&out, cfg)
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("line %q ends with spaces:\n%s", line, out.String())
		}
	}
	if !strings.Contains(out.String(), "  alice    password alice    groups engineering  admin\n") {
		t.Errorf("the notes column lost its alignment:\n%s", out.String())
	}
}

// TestPrintDemo_TenantsWithTheSameServerID: two tenants may each have an
// MCP server "chat" at an issuer of its own; the demo serves both, and the
// banner lists both, not the last one alone under a count of one.
func TestPrintDemo_TenantsWithTheSameServerID(t *testing.T) {
	out := printDemoOf(t, `
tenants:
  - id: acme
    mcp_servers:
      - {id: chat, name: Acme Chat, issuer: "http://127.0.0.1:9101", resources: ["http://127.0.0.1:9201/mcp"]}
  - id: globex
    mcp_servers:
      - {id: chat, name: Globex Chat, issuer: "http://127.0.0.1:9102", resources: ["http://127.0.0.1:9202/mcp"]}
`, []demo.Service{
		{Server: "chat", Role: "authorization server", URL: "http://127.0.0.1:9101"},
		{Server: "chat", Role: "MCP server", URL: "http://127.0.0.1:9201/mcp"},
		{Server: "chat", Role: "authorization server", URL: "http://127.0.0.1:9102"},
		{Server: "chat", Role: "MCP server", URL: "http://127.0.0.1:9202/mcp"},
	})
	for _, want := range []string{"2 tenants and 2 MCP servers",
		"  chat (Acme Chat)    http://127.0.0.1:9101  http://127.0.0.1:9201/mcp\n",
		"  chat (Globex Chat)  http://127.0.0.1:9102  http://127.0.0.1:9202/mcp\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
}

// TestPrintDemo_NamesCannotDriveTheTerminal: a server's name is free text
// the demo prints to the operator's terminal: an escape sequence in it
// (OSC 52 writes the clipboard, others retitle the window or clear the
// screen) or a bidi override is printed escaped. The file's check refuses
// such a name (since 2026-12-06); the banner escapes it all the same, so
// the name here is set past the check.
func TestPrintDemo_NamesCannotDriveTheTerminal(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
mcp_servers:
  - id: chat
    name: Chat
    issuer: http://127.0.0.1:9102
    resources: [http://127.0.0.1:9202/mcp]
`), "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MCPServers[0].Name = "Chat\x1b]52;c;cm0gLXJmIH4=\a\x1b[2J\u202e"
	var b strings.Builder
	printDemo(&b, cfg, []demo.Service{
		{Server: "chat", Role: "authorization server", URL: "http://127.0.0.1:9102"},
		{Server: "chat", Role: "MCP server", URL: "http://127.0.0.1:9202/mcp"},
	}, demoBanner{base: "http://127.0.0.1:8080", program: "xaa-idp"})
	out := b.String()
	if strings.ContainsAny(out, "\x1b\a\u202e") || !strings.Contains(out, `chat (Chat\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\u202e)`) {
		t.Errorf("banner:\n%q\nwant the server's name with its control and bidi characters escaped", out)
	}
}

// TestPrintPeople_KeyClientIsNotPublic: a client with jwks authenticates
// with private_key_jwt (docs/configuration.md, clients[]); the banner
// called it "public", which sends its user to log in with client_id alone
// and meet invalid_client.
func TestPrintPeople_KeyClientIsNotPublic(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
clients:
  - client_id: keys
    jwks: {keys: [{kty: OKP, crv: Ed25519, x: 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo}]}
  - client_id: both
    client_secret: s
    jwks: {keys: [{kty: OKP, crv: Ed25519, x: 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo}]}
  - client_id: open
`), "clients.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printPeople(&out, cfg)
	for _, want := range []string{"  keys (private_key_jwt)\n", "  both (secret s, or private_key_jwt)\n", "  open (public)\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
}

// TestTryConnect_SkipsAKeyClient: connect authenticates with a secret or
// none; the command it suggested for a client with jwks alone was
// refused invalid_client.
func TestTryConnect_SkipsAKeyClient(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
users:
  - {username: dev, password: dev}
clients:
  - client_id: keys
    redirect_uris: ["http://127.0.0.1/callback"]
    token_exchange: true
    jwks: {keys: [{kty: OKP, crv: Ed25519, x: 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo}]}
  - {client_id: desk, client_secret: s, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
mcp_servers:
  - id: chat
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [chat.read]
    clients: {keys: keys, desk: desk}
    access: [{users: [dev], scopes: [chat.read]}]
`), "try.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cmd := tryConnect(cfg, "http://127.0.0.1:8080", demoBanner{program: "xaa-idp"}); !strings.Contains(cmd, "--client-id desk ") {
		t.Errorf("command %q, want the secret client desk's", cmd)
	}
}

// TestTryConnect_NotToAServerAtTheIdPsOwnIssuer: the banner suggests no
// connect command for a server the exchange refuses as the IdP's own
// issuer (its issuer given by --issuer, which the file cannot know).
func TestTryConnect_NotToAServerAtTheIdPsOwnIssuer(t *testing.T) {
	cfg, err := policy.Parse([]byte(`
users:
  - {username: dev, password: dev}
clients:
  - {client_id: desk, client_secret: s, redirect_uris: ["http://127.0.0.1/callback"], token_exchange: true}
mcp_servers:
  - id: chat
    issuer: http://127.0.0.1:8080
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [chat.read]
    clients: {desk: desk}
    access: [{users: [dev], scopes: [chat.read]}]
`), "try.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cmd := tryConnect(cfg, "http://127.0.0.1:8080", demoBanner{program: "xaa-idp"}); cmd != "" {
		t.Errorf("command %q for a server at the IdP's own issuer", cmd)
	}
}
