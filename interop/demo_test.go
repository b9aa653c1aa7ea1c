// Interop test of the zero-touch pieces as a user runs them: the built
// binary's `xaa-idp demo` (the IdP plus, for every MCP server of the embedded
// demo configuration, its authorization server and the MCP server on their
// fixed loopback ports) and `xaa-idp connect` (log in once, connect to every
// assigned MCP server through the Go SDK's extauth handler, call whoami).
//
// The demo's ports are fixed by the configuration, so only one demo runs at a
// time: the tests of this package that start one (this file and
// node_test.go) do not call t.Parallel, and lockDemoPorts serializes them
// with other processes running the same tests.
package interop_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
)

// demoPorts are the fixed loopback addresses of the demo configuration: each
// MCP server's authorization server (its issuer) and MCP endpoint.
func demoPorts(t *testing.T) []string {
	t.Helper()
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatalf("demo config: %v", err)
	}
	var addrs []string
	for _, s := range cfg.MCPServers {
		for _, raw := range append([]string{s.Issuer}, s.Resources[:1]...) {
			u, err := url.Parse(raw)
			if err != nil || u.Port() == "" {
				t.Fatalf("demo config: server %s: %q has no explicit port", s.ID, raw)
			}
			addrs = append(addrs, u.Host)
		}
	}
	return addrs
}

// busyDemoPorts lists the demo addresses that cannot be bound now.
func busyDemoPorts(addrs []string) []string {
	var busy []string
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			busy = append(busy, fmt.Sprintf("%s (%v)", a, err))
			continue
		}
		ln.Close()
	}
	return busy
}

// requireDemoPortsFree fails the test clearly when another demo (or
// anything else) holds one of the demo's fixed ports.
func requireDemoPortsFree(t *testing.T) {
	t.Helper()
	if busy := busyDemoPorts(demoPorts(t)); len(busy) > 0 {
		t.Fatalf("the demo's fixed ports are busy: %s\n"+
			"another `xaa-idp demo` is probably running (a terminal, a docker compose, another test run): stop it and rerun",
			strings.Join(busy, "; "))
	}
}

// syncBuffer is an io.Writer safe for the exec copier and the test to share;
// ready is closed once the banner's IdP line has been written.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	issuer string
	ready  chan struct{}
}

// idpLine is the banner line "  IdP   http://127.0.0.1:PORT".
var idpLine = regexp.MustCompile(`(?m)^\s+IdP\s+(https?://\S+)\s*$`)

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.ready != nil && b.issuer == "" {
		if m := idpLine.FindSubmatch(b.buf.Bytes()); m != nil {
			b.issuer = string(m[1])
			close(b.ready)
		}
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// demoProc is a running `xaa-idp demo`.
type demoProc struct {
	cmd            *exec.Cmd
	issuer         string
	stdout, stderr *syncBuffer
	done           chan struct{} // closed when the process has exited
	waitErr        error         // valid after done
}

// startDemo runs `xaa-idp demo --addr 127.0.0.1:0` and waits for its
// banner. The demo is stopped (SIGINT) when the test ends, unless the test
// stopped it already.
func startDemo(t *testing.T) *demoProc {
	t.Helper()
	lockDemoPorts(t)
	requireDemoPortsFree(t)
	d, err := launchDemo(t)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.stdout.ready:
		d.issuer = d.stdout.issuer
	case <-d.done:
		t.Fatalf("xaa-idp demo exited (%v) before printing its banner\nstdout:\n%s\nstderr:\n%s", d.waitErr, d.stdout, d.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("xaa-idp demo printed no \"IdP <url>\" line within a minute\nstdout:\n%s\nstderr:\n%s", d.stdout, d.stderr)
	}
	t.Logf("xaa-idp demo: IdP at %s", d.issuer)
	return d
}

// launchDemo starts the process, with a cleanup that stops it.
func launchDemo(t *testing.T) (*demoProc, error) {
	t.Helper()
	d := &demoProc{
		stdout: &syncBuffer{ready: make(chan struct{})},
		stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	d.cmd = exec.Command(xaaIDPBinary(t), "demo", "--addr", "127.0.0.1:0")
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	d.cmd.SysProcAttr = childProcAttr()
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start xaa-idp demo: %v", err)
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
			return
		default:
		}
		d.cmd.Process.Signal(os.Interrupt)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
			t.Errorf("xaa-idp demo did not stop within 10s of SIGINT; killed\nstderr:\n%s", d.stderr)
		}
	})
	return d, nil
}

// stop sends sig and returns the exit code.
func (d *demoProc) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
		t.Fatalf("xaa-idp demo did not stop within 15s of %v; killed\nstderr:\n%s", sig, d.stderr)
	}
	return exitCode(d.waitErr)
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// connectLine is one line of `xaa-idp connect`'s output.
type connectLine struct {
	Status string // "connected" or "refused"
	Name   string // the MCP server's name
	URL    string // its MCP endpoint
	Sub    string // connected: the user the MCP server sees
	Scopes string // connected: the scopes, sorted, space-separated
	Reason string // refused: the error
}

var (
	connectLineRE = regexp.MustCompile(`^(connected|refused)\s{2,}(\S.*?)\s{2,}(https?://\S+)\s{2,}(\S.*)$`)
	connectedRE   = regexp.MustCompile(`^as (\S+), scopes ?(.*)$`)
)

// runConnect runs `xaa-idp connect --issuer ISSUER args...` and parses its
// output, one connectLine per MCP endpoint.
func runConnect(t *testing.T, issuer string, args ...string) (lines map[string]connectLine, code int, stdout string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, xaaIDPBinary(t), append([]string{"connect", "--issuer", issuer}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = exitCode(err)
	stdout = out.String()
	t.Logf("xaa-idp connect %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, errb.String())
	if code < 0 {
		t.Fatalf("xaa-idp connect: %v", err)
	}
	lines = map[string]connectLine{}
	for _, raw := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
		if raw == "" {
			continue
		}
		m := connectLineRE.FindStringSubmatch(raw)
		if m == nil {
			t.Errorf("unexpected output line of connect: %q", raw)
			continue
		}
		l := connectLine{Status: m[1], Name: m[2], URL: m[3]}
		if l.Status == "connected" {
			c := connectedRE.FindStringSubmatch(m[4])
			if c == nil {
				t.Errorf("connected line without \"as SUB, scopes ...\": %q", raw)
				continue
			}
			sc := strings.Fields(c[2])
			slices.Sort(sc)
			l.Sub, l.Scopes = c[1], strings.Join(sc, " ")
		} else {
			l.Reason = m[4]
		}
		if _, dup := lines[l.URL]; dup {
			t.Errorf("connect printed %s twice", l.URL)
		}
		lines[l.URL] = l
	}
	return lines, code, stdout
}

// The demo's MCP endpoints and names.
const (
	trackerMCP = "http://127.0.0.1:8201/mcp"
	wikiMCP    = "http://127.0.0.1:8202/mcp"
	designMCP  = "http://127.0.0.1:8203/mcp"
	crmMCP     = "http://127.0.0.1:8204/mcp"
)

var mcpNames = map[string]string{
	trackerMCP: "Issue Tracker",
	wikiMCP:    "Wiki",
	designMCP:  "Design Studio",
	crmMCP:     "CRM",
}

// want is the expected outcome for one MCP endpoint: scopes when connected,
// a pattern the reason must match when refused.
type want struct {
	scopes  string // connected with these scopes (sorted)
	refused *regexp.Regexp
}

func connected(scopes string) want { return want{scopes: scopes} }
func refused(pattern string) want  { return want{refused: regexp.MustCompile(pattern)} }

// checkConnect compares connect's lines with exactly the expected endpoints.
func checkConnect(t *testing.T, lines map[string]connectLine, sub string, expect map[string]want) {
	t.Helper()
	for u, w := range expect {
		l, ok := lines[u]
		if !ok {
			t.Errorf("%s (%s): no line; want %s", u, mcpNames[u], describe(w))
			continue
		}
		if l.Name != mcpNames[u] {
			t.Errorf("%s: name %q, want %q", u, l.Name, mcpNames[u])
		}
		switch {
		case w.refused == nil && l.Status != "connected":
			t.Errorf("%s (%s): refused (%s); want connected with scopes %s", u, l.Name, l.Reason, w.scopes)
		case w.refused == nil:
			if l.Sub != sub {
				t.Errorf("%s (%s): connected as %q, want %q", u, l.Name, l.Sub, sub)
			}
			if l.Scopes != w.scopes {
				t.Errorf("%s (%s): scopes %q, want %q", u, l.Name, l.Scopes, w.scopes)
			}
		case l.Status != "refused":
			t.Errorf("%s (%s): connected as %s with %s; want refused (%s)", u, l.Name, l.Sub, l.Scopes, w.refused)
		case !w.refused.MatchString(l.Reason):
			t.Errorf("%s (%s): refused with %q; want it to match %s", u, l.Name, l.Reason, w.refused)
		}
	}
	for u, l := range lines {
		if _, ok := expect[u]; !ok {
			t.Errorf("unexpected line for %s: %+v", u, l)
		}
	}
}

func describe(w want) string {
	if w.refused != nil {
		return "refused (" + w.refused.String() + ")"
	}
	return "connected with " + w.scopes
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on fixed ports: skipped with -short")
	}
	xaaIDPBinary(t)

	// A demo that cannot bind one of its ports says which and exits 1,
	// leaving nothing behind.
	t.Run("busy port", func(t *testing.T) {
		lockDemoPorts(t)
		requireDemoPortsFree(t)
		ln, err := net.Listen("tcp", "127.0.0.1:8203")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		d, err := launchDemo(t)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-d.done:
		case <-time.After(20 * time.Second):
			t.Fatalf("xaa-idp demo still runs with 127.0.0.1:8203 taken\nstdout:\n%s", d.stdout)
		}
		if code := exitCode(d.waitErr); code != 1 {
			t.Errorf("exit %d (%v), want 1", code, d.waitErr)
		}
		if msg := d.stderr.String(); !strings.Contains(msg, "127.0.0.1:8203") || !strings.Contains(msg, "address already in use") {
			t.Errorf("stderr does not name the busy address: %q", msg)
		}
		ln.Close()
		if busy := busyDemoPorts(demoPorts(t)); len(busy) > 0 {
			t.Errorf("ports still taken after the failed demo: %v", busy)
		}
	})
	if t.Failed() {
		return
	}

	d := startDemo(t)
	issuer := d.issuer
	const secret = "mcp-secret"

	t.Run("banner", func(t *testing.T) {
		// The IdP line comes first; wait for the rest of the banner (the
		// minute only guards against a hang: 5 s was short for a loaded
		// machine starting the demo's other servers).
		banner := d.stdout.String()
		for deadline := time.Now().Add(time.Minute); !strings.Contains(banner, "Ctrl-C stops everything") && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			banner = d.stdout.String()
		}
		for _, row := range [][3]string{
			{"tracker (Issue Tracker)", "http://127.0.0.1:8101", trackerMCP},
			{"wiki (Wiki)", "http://127.0.0.1:8102", wikiMCP},
			{"design (Design Studio)", "http://127.0.0.1:8103", designMCP},
			{"crm (CRM)", "http://127.0.0.1:8104", crmMCP},
		} {
			re := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(row[0]) + `\s+` + regexp.QuoteMeta(row[1]) + `\s+` + regexp.QuoteMeta(row[2]) + `\s*$`)
			if !re.MatchString(banner) {
				t.Errorf("banner lacks the row %q", strings.Join(row[:], "  "))
			}
		}
		if !strings.Contains(banner, "xaa-idp connect --issuer "+issuer+" ") {
			t.Errorf("banner lacks the connect hint for %s", issuer)
		}
		if t.Failed() {
			t.Logf("banner:\n%s", banner)
		}
	})

	t.Run("alice", func(t *testing.T) {
		lines, code, _ := runConnect(t, issuer, "--client-id", "mcp-client", "--client-secret", secret, "--username", "alice", "--password", "alice")
		if code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		checkConnect(t, lines, "00u-alice", map[string]want{
			trackerMCP: connected("issues.read issues.write"),
			wikiMCP:    connected("wiki.read wiki.write"),
			designMCP:  connected("design.read"),
			crmMCP:     connected("crm.read"), // max_auth_age 15m: the login was just now
		})
	})

	t.Run("alice public client", func(t *testing.T) {
		// Design Studio does not list mcp-public: not one of her servers
		// through this client.
		lines, code, _ := runConnect(t, issuer, "--client-id", "mcp-public", "--username", "alice", "--password", "alice")
		if code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		checkConnect(t, lines, "00u-alice", map[string]want{
			trackerMCP: connected("issues.read issues.write"),
			wikiMCP:    connected("wiki.read wiki.write"),
			crmMCP:     connected("crm.read"),
		})
	})

	t.Run("bob", func(t *testing.T) {
		lines, code, _ := runConnect(t, issuer, "--client-id", "mcp-client", "--client-secret", secret, "--username", "bob", "--password", "bob")
		if code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		checkConnect(t, lines, "00u-bob", map[string]want{
			wikiMCP: connected("wiki.read"),
			crmMCP:  connected("crm.read crm.write"),
		})
	})

	t.Run("bob all", func(t *testing.T) {
		lines, code, _ := runConnect(t, issuer, "--client-id", "mcp-client", "--client-secret", secret, "--username", "bob", "--password", "bob", "--all")
		if code != 0 {
			t.Errorf("exit %d, want 0 (--all)", code)
		}
		checkConnect(t, lines, "00u-bob", map[string]want{
			wikiMCP:    connected("wiki.read"),
			crmMCP:     connected("crm.read crm.write"),
			trackerMCP: refused(`^access_denied\b.*\bbob\b.*not assigned`),
			designMCP:  refused(`^access_denied\b.*\bbob\b.*not assigned`),
		})
	})

	t.Run("bob all public client", func(t *testing.T) {
		// --all tries the servers connected to the client: Design Studio
		// does not list mcp-public, so it is not tried at all.
		lines, code, _ := runConnect(t, issuer, "--client-id", "mcp-public", "--username", "bob", "--password", "bob", "--all")
		if code != 0 {
			t.Errorf("exit %d, want 0 (--all)", code)
		}
		checkConnect(t, lines, "00u-bob", map[string]want{
			wikiMCP:    connected("wiki.read"),
			crmMCP:     connected("crm.read crm.write"),
			trackerMCP: refused(`^access_denied\b`),
		})
	})

	t.Run("dave", func(t *testing.T) {
		lines, code, _ := runConnect(t, issuer, "--client-id", "mcp-client", "--client-secret", secret, "--username", "dave", "--password", "dave")
		if code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		checkConnect(t, lines, "00u-dave", map[string]want{
			trackerMCP: connected("issues.read"),
			wikiMCP:    connected("wiki.read"),
		})
	})

	t.Run("mallory denied on crm", func(t *testing.T) {
		lines, code, _ := runConnect(t, issuer, "--client-id", "mcp-client", "--client-secret", secret, "--username", "mallory", "--password", "mallory", "--mcp", crmMCP)
		if code != 1 {
			t.Errorf("exit %d, want 1 (a target was refused)", code)
		}
		checkConnect(t, lines, "00u-mallory", map[string]want{
			crmMCP: refused(`(?i)^access_denied\b.*\bdeni(ed|al)?\b`),
		})
	})

	t.Run("wrong password", func(t *testing.T) {
		lines, code, _ := runConnect(t, issuer, "--client-id", "mcp-client", "--client-secret", secret, "--username", "alice", "--password", "wrong")
		if code != 1 {
			t.Errorf("exit %d, want 1 (the login fails)", code)
		}
		if len(lines) != 0 {
			t.Errorf("connect printed server lines after a failed login: %v", lines)
		}
	})

	// Last: SIGINT stops everything cleanly and frees every port.
	t.Run("SIGINT", func(t *testing.T) {
		if code := d.stop(t, os.Interrupt); code != 0 {
			t.Errorf("exit %d on SIGINT, want 0\nstderr:\n%s", code, d.stderr)
		}
		if !strings.Contains(d.stderr.String(), "stopped") {
			t.Errorf("stderr does not say it stopped: %q", d.stderr)
		}
		if busy := busyDemoPorts(append(demoPorts(t), strings.TrimPrefix(issuer, "http://"))); len(busy) > 0 {
			t.Errorf("ports still taken after the demo stopped: %v", busy)
		}
	})
}
