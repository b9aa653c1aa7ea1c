package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

func TestVersion_NamesModuleRevisionAndGo(t *testing.T) {
	code, out, stderr := runBinary(t, "version")
	if code != 0 {
		t.Fatalf("version: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"module    github.com/xaa-idp/xaa-idp\n", "go        " + runtime.Version() + " ", "revision  "} {
		if !strings.Contains(out, want) {
			t.Errorf("version lacks %q:\n%s", want, out)
		}
	}
	// A build stamped with VCS information names the commit. (The go
	// command may not stamp, e.g. in a linked git worktree; the version
	// then says so.)
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil && !strings.Contains(out, "revision  unknown (built without VCS information)") {
		if rev := strings.TrimSpace(string(head)); !strings.Contains(out, "revision  "+rev) {
			t.Errorf("version does not name HEAD %s:\n%s", rev, out)
		}
	}
}

func TestHelp_ListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, stderr := runBinary(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
		for _, c := range commands() {
			if !strings.Contains(out, "\n  "+c.name+" ") {
				t.Errorf("%v does not list %s:\n%s", args, c.name, out)
			}
		}
	}
	if code, out, stderr := runBinary(t, "help", "login"); code != 0 || !strings.Contains(out, "-print") {
		t.Errorf("help login: exit %d, want login's flags on stdout:\n%s%s", code, out, stderr)
	}
	if code, _, stderr := runBinary(t, "frobnicate"); code != exitUsage || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %s", code, stderr)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		if _, taken := handedOut.LoadOrStore(port, true); taken {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatal("no free port between 20000 and 32000")
	return 0
}

// handedOut holds the ports freePort has returned in this process. It
// picks them below Linux's ephemeral range (32768 and up by default), so
// that a server the test starts with port 0 (the kernel's choice, from
// that range) cannot be given one of them after freePort let it go, and
// never returns one twice.
var handedOut sync.Map

func TestServe_PortInUseSaysWhichAndWhatToDo(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	code, _, stderr := runBinary(t, "serve", "--addr", addr)
	if code != exitFailure || !strings.Contains(stderr, "cannot listen on "+addr+": address already in use") || !strings.Contains(stderr, "--addr") || !strings.Contains(stderr, "another xaa-idp") {
		t.Errorf("serve on a busy port: exit %d, %s", code, stderr)
	}

	// demo: each of its ports, here the MCP server's.
	port := busy.Addr().(*net.TCPAddr).Port
	cfg := minimalConfig(t, "http", freePort(t), port)
	code, _, stderr = runBinary(t, "demo", "--addr", "127.0.0.1:0", "--config", cfg)
	if code != exitFailure || !strings.Contains(stderr, "cannot listen on "+addr+": address already in use") || !strings.Contains(stderr, "notes MCP server") {
		t.Errorf("demo with a busy MCP server port: exit %d, %s", code, stderr)
	}
}

// A malformed --addr or --issuer is bad usage (exit 2, as the contract's
// exit codes say), refused before anything starts and saying what to write;
// only an address that is well formed but cannot be listened on is a
// runtime failure (exit 1, TestServe_PortInUseSaysWhichAndWhatToDo).
func TestServe_MalformedAddrOrIssuerIsBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "nonsense"}, `--addr "nonsense": missing port in address`},
		{[]string{"--addr", "127.0.0.1:99999"}, `--addr "127.0.0.1:99999": invalid port`},
		{[]string{"--addr", "127.0.0.1:0", "--issuer", "notaurl"}, `--issuer: "notaurl" is not an http or https URL`},
		{[]string{"--addr", "127.0.0.1:0", "--issuer", "http://idp.example/?tenant=a"}, "has a query or fragment"},
	} {
		for _, cmd := range []string{"serve", "demo"} {
			code, stdout, stderr := runCLI(t, append([]string{cmd}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("%s %v: exit %d, stdout %q, stderr %q; want exit 2 and %q", cmd, tc.args, code, stdout, stderr, tc.want)
			}
		}
	}
	t.Setenv("XAA_IDP_ISSUER", "ftp://idp.example")
	if code, _, stderr := runCLI(t, "serve", "--addr", "127.0.0.1:0"); code != exitUsage || !strings.Contains(stderr, "--issuer") {
		t.Errorf("XAA_IDP_ISSUER=ftp://idp.example: exit %d, %s", code, stderr)
	}
}

func TestServe_UnspecifiedAddressGivesALoopbackIssuer(t *testing.T) {
	issuer, stop := serveWithLogs(t, "--addr", "0.0.0.0:0")
	if !strings.HasPrefix(issuer, "http://127.0.0.1:") {
		t.Errorf("issuer %q, want http://127.0.0.1:PORT", issuer)
	}
	if resp, err := http.Get(issuer + "/.well-known/openid-configuration"); err != nil || resp.StatusCode != 200 {
		t.Errorf("discovery at %s: %v", issuer, err)
	}
	if logs := stop(); !strings.Contains(logs, "the issuer uses loopback") || !strings.Contains(logs, "--issuer") {
		t.Errorf("the log does not say why the issuer is loopback and how to change it:\n%s", logs)
	}
}

func TestServe_StartupLogListsTheUsers(t *testing.T) {
	_, stop := serveWithLogs(t)
	if logs := stop(); !strings.Contains(logs, `users="alice, bob, carol, dave, erin (disabled), mallory"`) {
		t.Errorf("the startup log does not list the users:\n%s", logs)
	}
	if code, out, _ := runCLI(t, "check", "--config", "../../fixtures/samples/minimal.yaml"); code != 0 || !strings.Contains(out, "(1 user, 1 group, 1 client, 1 MCP server)") {
		t.Errorf("check counts: %s", out)
	}
}

func TestLogin_PrintAndRequiredPassword(t *testing.T) {
	issuer := startServe(t)
	base := []string{"login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice"}
	code, out, stderr := runCLI(t, append(base, "--password", "alice", "--print", "id_token")...)
	if code != 0 {
		t.Fatalf("login --print id_token: exit %d: %s", code, stderr)
	}
	idToken := strings.TrimSpace(out)
	if _, claims, err := decodeJWT(idToken); err != nil || claims["sub"] != "00u-alice" || out != idToken+"\n" {
		t.Errorf("login --print id_token printed %q (%v), want the ID token alone", out, err)
	}
	for _, member := range []string{"access_token", "refresh_token"} {
		if code, out, _ := runCLI(t, append(base, "--password", "alice", "--print", member)...); code != 0 || strings.ContainsAny(strings.TrimSpace(out), "{\" \n") {
			t.Errorf("login --print %s: exit %d, %q", member, code, out)
		}
	}
	if code, _, _ := runCLI(t, append(base, "--password", "alice", "--print", "id-token")...); code != exitUsage {
		t.Errorf("login --print id-token: exit %d, want %d", code, exitUsage)
	}
	if code, _, stderr := runCLI(t, base...); code != exitUsage || !strings.Contains(stderr, "--password") {
		t.Errorf("login without --password: exit %d, %s", code, stderr)
	}
}

func TestExchange_AudienceByServerIDWithConfig(t *testing.T) {
	issuer := startServe(t)
	_, idToken, _ := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice", "--print", "id_token")
	args := []string{"exchange", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--id-token", strings.TrimSpace(idToken), "--audience", "tracker", "--decode"}
	code, out, stderr := runCLI(t, append(args, "--config", "../../fixtures/demo.yaml")...)
	if code != 0 {
		t.Fatalf("exchange --audience tracker --config: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"aud": "http://127.0.0.1:8101"`) || !strings.Contains(out, `"resource": "http://127.0.0.1:8201/mcp"`) {
		t.Errorf("the ID-JAG is not for the tracker's authorization server and resource:\n%s", out)
	}
	code, _, stderr = runCLI(t, args...)
	if code != exitFailure || !strings.Contains(stderr, "add --config") {
		t.Errorf("exchange --audience tracker without --config: exit %d, want a hint to add --config: %s", code, stderr)
	}
}

// minimalConfig writes fixtures/samples/minimal.yaml with its MCP server's
// authorization server and MCP server on the given ports and scheme.
func minimalConfig(t *testing.T, scheme string, asPort, mcpPort int) string {
	t.Helper()
	data, err := os.ReadFile("../../fixtures/samples/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(
		"http://127.0.0.1:9101", fmt.Sprintf("%s://127.0.0.1:%d", scheme, asPort),
		"http://127.0.0.1:9201", fmt.Sprintf("%s://127.0.0.1:%d", scheme, mcpPort),
	).Replace(string(data))
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestDemo_BannerAndConnectJSONFollowTheConfiguration: the banner suggests
// a connect command that works for the configuration served, and connect
// --json prints one object per server.
func TestDemo_BannerAndConnectJSONFollowTheConfiguration(t *testing.T) {
	cfg := minimalConfig(t, "http", freePort(t), freePort(t))
	first, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--config", cfg)
	if first != "xaa-idp demo: the IdP and 1 MCP server" {
		t.Errorf("banner starts %q", first)
	}
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer := strings.Fields(banner[strings.Index(banner, "  IdP"):])[1]
	want := "Try: " + xaaIDPBinary(t) + " connect --issuer " + issuer + " --client-id my-mcp-client --client-secret change-me --username dev --password dev\n"
	if !strings.Contains(banner, want) {
		t.Errorf("banner lacks %q:\n%s", want, banner)
	}

	code, out, stderr := runCLI(t, "connect", "--issuer", issuer, "--client-id", "my-mcp-client", "--client-secret", "change-me", "--username", "dev", "--password", "dev", "--json")
	var results []connectResult
	if err := json.Unmarshal([]byte(out), &results); err != nil || code != 0 {
		t.Fatalf("connect --json: exit %d, %v\n%s%s", code, err, out, stderr)
	}
	if len(results) != 1 || !results[0].Connected || results[0].Name != "Notes" || strings.Join(results[0].Scopes, " ") != "notes.read notes.write" {
		t.Errorf("connect --json = %+v", results)
	}
	if code, _, _ := runCLI(t, "connect", "--issuer", issuer, "--client-id", "my-mcp-client", "--username", "dev"); code != exitUsage {
		t.Errorf("connect without --password: exit %d, want %d", code, exitUsage)
	}
}

func TestProgramName(t *testing.T) {
	for arg0, want := range map[string]string{
		"/tmp/go-build123/b001/exe/xaa-idp": "go run ./cmd/xaa-idp",
		// go run's second start of an unchanged program (Go 1.24 and later)
		"/root/.cache/go-build/ba/ba5344397964c042f5685d424842793ade3bb53b42729a913cbd26b1b08e6306-d/xaa-idp": "go run ./cmd/xaa-idp",
		"/home/u/bin/ba/ba5344397964c042f5685d424842793ade3bb53b42729a913cbd26b1b08e6306-d/../xaa-idp":        "/home/u/bin/ba/ba5344397964c042f5685d424842793ade3bb53b42729a913cbd26b1b08e6306-d/../xaa-idp",
		"/opt/ab/abc-d/xaa-idp": "/opt/ab/abc-d/xaa-idp",
		"./xaa-idp":             "./xaa-idp",
		"xaa-idp":               "xaa-idp",
	} {
		if got := programName(arg0); got != want {
			t.Errorf("programName(%q) = %q, want %q", arg0, got, want)
		}
	}
}

// trustOnly is an HTTP client that trusts the CA that `ca` prints, and no
// other.
func trustOnly(t *testing.T, stateDir string) *http.Client {
	t.Helper()
	code, pem, stderr := runBinary(t, "ca", "--state-dir", stateDir)
	if code != 0 || strings.TrimSpace(stderr) == "" || strings.Contains(pem, "PRIVATE") {
		t.Fatalf("ca: exit %d, stderr %q, stdout %q", code, stderr, pem)
	}
	if path := strings.TrimSpace(stderr[strings.LastIndex(strings.TrimSpace(stderr), "\n")+1:]); path != filepath.Join(stateDir, "tls", "ca.pem") {
		t.Errorf("ca printed the path %q", path)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(pem)) {
		t.Fatalf("ca printed no certificate: %q", pem)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestServeTLS_AClientTrustingOnlyTheCALogsInAndExchanges(t *testing.T) {
	state := t.TempDir()
	issuer, _ := startBinary(t, &syncBuffer{}, "serve", "--addr", "127.0.0.1:0", "--tls", "--state-dir", state)
	if !strings.HasPrefix(issuer, "https://127.0.0.1:") {
		t.Fatalf("serve --tls printed %q, want an https issuer", issuer)
	}
	if fi, err := os.Stat(filepath.Join(state, "tls", "ca-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("CA key: %v, mode %v", err, fi.Mode().Perm())
	}
	hc := trustOnly(t, state)
	ctx := context.Background()
	meta, err := idpclient.Discover(ctx, hc, issuer)
	if err != nil || !strings.HasPrefix(meta.TokenEndpoint, "https://") {
		t.Fatalf("discovery: %v %+v", err, meta)
	}
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice", HTTPClient: hc})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	resp, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: tok.IDToken(),
		Audience: "http://127.0.0.1:8101", Resource: "http://127.0.0.1:8201/mcp", HTTPClient: hc})
	if err != nil || resp["issued_token_type"] != "urn:ietf:params:oauth:token-type:id-jag" {
		t.Fatalf("exchange: %v %v", err, resp)
	}

	// The CLI trusts it with --ca-file, and says how when it does not.
	caFile := filepath.Join(state, "tls", "ca.pem")
	if code, out, stderr := runCLI(t, "login", "--issuer", issuer, "--ca-file", caFile, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice", "--print", "id_token"); code != 0 || !strings.HasPrefix(out, "eyJ") {
		t.Errorf("login --ca-file: exit %d %s", code, stderr)
	}
	for _, args := range [][]string{
		{"login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice"},
		{"keys", "list", "--issuer", issuer, "--admin-user", "alice", "--admin-password", "alice"},
		{"load", "--issuer", issuer, "--requests", "1"},
		{"healthcheck", "--url", issuer + "/healthz"},
	} {
		if code, _, stderr := runCLI(t, args...); code != exitFailure || !strings.Contains(stderr, "--ca-file") {
			t.Errorf("%s without --ca-file: exit %d, want a hint: %s", args[0], code, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "healthcheck", "--url", issuer+"/healthz", "--ca-file", caFile); code != 0 {
		t.Errorf("healthcheck --ca-file: exit %d %s", code, stderr)
	}
}

func TestServeTLS_WithoutStateDirUsesATemporaryCA(t *testing.T) {
	logs := &syncBuffer{}
	issuer, _ := startBinary(t, logs, "serve", "--addr", "127.0.0.1:0", "--tls")
	if !strings.HasPrefix(issuer, "https://") || !strings.Contains(logs.String(), "temporary directory") {
		t.Errorf("serve --tls without --state-dir: issuer %s, logs:\n%s", issuer, logs)
	}
	if code, _, stderr := runBinary(t, "serve", "--tls", "--issuer", "http://127.0.0.1:8080", "--addr", "127.0.0.1:0"); code != exitUsage || !strings.Contains(stderr, "https://") {
		t.Errorf("serve --tls with an http issuer: exit %d, %s", code, stderr)
	}
}

func TestDemoTLS_ConnectTrustingTheCA(t *testing.T) {
	state := t.TempDir()
	cfg := minimalConfig(t, "https", freePort(t), freePort(t))
	_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--tls", "--state-dir", state, "--config", cfg)
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	caFile := filepath.Join(state, "tls", "ca.pem")
	issuer := strings.Fields(banner[strings.Index(banner, "  IdP"):])[1]
	if !strings.HasPrefix(issuer, "https://") || !strings.Contains(banner, "--ca-file "+caFile) {
		t.Fatalf("demo --tls banner:\n%s", banner)
	}
	code, out, stderr := runCLI(t, "connect", "--issuer", issuer, "--ca-file", caFile, "--client-id", "my-mcp-client", "--client-secret", "change-me", "--username", "dev", "--password", "dev", "--json")
	var results []connectResult
	if err := json.Unmarshal([]byte(out), &results); err != nil || code != 0 || len(results) != 1 || !results[0].Connected || !strings.HasPrefix(results[0].MCPServer, "https://") {
		t.Fatalf("connect to demo --tls: exit %d %v\n%s%s", code, err, out, stderr)
	}
}

// TestDemoTLS_HTTPFileServedHTTPS: demo --tls serves every loopback URL of
// a --config file that it serves over https (README "HTTPS"), the file
// written with http:// as fixtures/demo.yaml is, and keeps the file as
// its author wrote it through an admin API edit: a server read and put
// back, and its access list changed.
func TestDemoTLS_HTTPFileServedHTTPS(t *testing.T) {
	state := t.TempDir()
	asPort, mcpPort := freePort(t), freePort(t)
	cfg := minimalConfig(t, "http", asPort, mcpPort)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	minimal, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	written := append([]byte("issuer: http://"+addr+"\n"), minimal...)
	if err := os.WriteFile(cfg, written, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", addr, "--tls", "--state-dir", state, "--config", cfg)
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer, as, mcp := "https://"+addr, fmt.Sprintf("https://127.0.0.1:%d", asPort), fmt.Sprintf("https://127.0.0.1:%d/mcp", mcpPort)
	if got := strings.Fields(banner[strings.Index(banner, "  IdP"):])[1]; got != issuer || !strings.Contains(banner, as) || !strings.Contains(banner, mcp) {
		t.Fatalf("demo --tls of an http file: banner with IdP %s, want %s, %s and %s:\n%s", got, issuer, as, mcp, banner)
	}
	caFile := filepath.Join(state, "tls", "ca.pem")
	code, out, stderr := runCLI(t, "connect", "--issuer", issuer, "--ca-file", caFile, "--client-id", "my-mcp-client", "--client-secret", "change-me", "--username", "dev", "--password", "dev", "--json")
	var results []connectResult
	if err := json.Unmarshal([]byte(out), &results); err != nil || code != 0 || len(results) != 1 || !results[0].Connected || results[0].MCPServer != mcp {
		t.Fatalf("connect to demo --tls of an http file: exit %d %v\n%s%s", code, err, out, stderr)
	}

	client, err := httpClient(flag.NewFlagSet("test", flag.ContinueOnError), caFile)
	if err != nil {
		t.Fatal(err)
	}
	admin := func(method, path, body string) []byte {
		t.Helper()
		req, err := http.NewRequest(method, issuer+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("dev", "dev")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", "*")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	notes := admin(http.MethodGet, "/admin/api/servers/notes", "")
	var srv struct {
		Issuer    string   `json:"issuer"`
		Resources []string `json:"resources"`
	}
	if err := json.Unmarshal(notes, &srv); err != nil || srv.Issuer != as || len(srv.Resources) != 1 || srv.Resources[0] != mcp {
		t.Fatalf("GET notes = %s, want issuer %s and resource %s", notes, as, mcp)
	}
	admin(http.MethodPut, "/admin/api/servers/notes", string(notes))
	if now, _ := os.ReadFile(cfg); !bytes.Equal(now, written) {
		t.Errorf("putting back the server read rewrote the file:\n%s", now)
	}
	admin(http.MethodPut, "/admin/api/servers/notes/access", `[{"users": ["dev"], "scopes": ["notes.read"]}]`)
	now, _ := os.ReadFile(cfg)
	if want := fmt.Sprintf("issuer: http://127.0.0.1:%d ", asPort); !bytes.Contains(now, []byte(want)) || !bytes.Contains(now, []byte("users: [dev]")) {
		t.Errorf("after an access edit the file is, without %q:\n%s", want, now)
	}
	if got := admin(http.MethodGet, "/admin/api/servers/notes", ""); !bytes.Contains(got, []byte(`"issuer": "`+as+`"`)) {
		t.Errorf("after an access edit, GET notes = %s, want issuer %s", got, as)
	}
}

// demo --tls without --config serves the embedded configuration with the
// URLs it serves made https, and the rest (redirect URIs, the document
// `connect --cimd` serves over http) as they are.
func TestHTTPSLoopbackURLs_EmbeddedDemo(t *testing.T) {
	store, err := openStore("", true)
	if err != nil {
		t.Fatal(err)
	}
	cfg := store.Config()
	cimdClient := fmt.Sprintf("http://127.0.0.1:%d%s", connect.DefaultMetadataPort, connect.MetadataPath)
	for _, s := range cfg.MCPServers {
		for _, u := range append([]string{s.Issuer}, s.Resources...) {
			if !strings.HasPrefix(u, "https://127.0.0.1:") {
				t.Errorf("server %s: %s is not https", s.ID, u)
			}
		}
		if _, ok := s.Clients[cimdClient]; !ok {
			t.Errorf("server %s does not list %s, the client_id of connect --cimd; its clients: %v", s.ID, cimdClient, s.Clients)
		}
	}
	if got := cfg.Client("mcp-client").RedirectURIs[0]; got != "http://127.0.0.1/callback" {
		t.Errorf("redirect URI rewritten to %s", got)
	}
}

// A tenants file holds nothing at its top level; check used to report it
// as "0 users, 0 groups, 0 clients, 0 MCP servers", as if it were empty.
func TestCheck_CountsEachTenant(t *testing.T) {
	code, out, stderr := runCLI(t, "check", "--config", "../../fixtures/samples/tenants.yaml")
	if code != 0 {
		t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		"tenants.yaml: ok (4 tenants)\n",
		"  acme (/t/acme): 1 user, 0 groups, 1 client, 1 MCP server\n",
		"  okta (/t/okta): ",
		"  anthropic-acme (/issuers/acme): ",
		"  c1 (/t/c1): ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "0 users, 0 groups, 0 clients, 0 MCP servers") {
		t.Errorf("check counts the empty top level:\n%s", out)
	}
}

// TestHelp_KeysListsItsFlags: every other command's -h lists its flags
// with their defaults; keys printed one usage line that wrote --issuer as
// required, though it defaults to http://127.0.0.1:8080 (README,
// "Commands").
func TestHelp_KeysListsItsFlags(t *testing.T) {
	for _, args := range [][]string{{"keys", "-h"}, {"help", "keys"}} {
		code, out, stderr := runBinary(t, args...)
		both := out + stderr
		if code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, both)
		}
		for _, want := range []string{"rotate|list", "[--issuer URL]", "-admin-user", "-admin-password", "-ca-file", `(default "http://127.0.0.1:8080")`} {
			if !strings.Contains(both, want) {
				t.Errorf("%v lacks %q:\n%s", args, want, both)
			}
		}
	}
}
