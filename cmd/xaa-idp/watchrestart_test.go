package main

import (
	"bufio"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/policy"
)

const watchRestartConfig = `
users:
  - {username: bob, password: bob, sub: 00u-bob}
clients:
  - {client_id: mcp-client, client_secret: mcp-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: crm
    name: CRM
    issuer: AS
    resources: [MCP/mcp]
    scopes: [crm.read]
    clients: {mcp-client: mcp-client-at-crm}
    access:
      - {users: [bob], scopes: [crm.read]}
`

// TestConnect_WatchConnectsAgainAfterServeRestarts: connect --watch is
// connected through serve --state-dir to an MCP server; serve stops, the
// MCP server and its authorization server restart meanwhile (the session
// is gone), and serve starts again on its address. connect reported the
// disconnection and stayed so until it was started again; now it says on
// stderr that it tries again, and reports bob connected once serve is
// back, with the login it had (the state directory kept it).
func TestConnect_WatchConnectsAgainAfterServeRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	asLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mcpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.NewReplacer("AS", "http://"+asLn.Addr().String(), "MCP", "http://"+mcpLn.Addr().String()).Replace(watchRestartConfig)
	store, err := policy.NewStore([]byte(yaml), "watch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file, state := endedFiles(t, yaml)
	issuer, serve, _ := startOnAddr(t, file, state, "127.0.0.1:0")

	stopStack := serveStack(t, store.Config(), issuer, asLn, mcpLn)
	t.Cleanup(func() { stopStack() })

	next, stderr := startWatch(t, "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
		"--username", "bob", "--password", "bob", "--interval", "200ms", "--timeout", "5s")
	next("connected     CRM")

	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	serve.Wait()
	stopStack()
	asLn, err = net.Listen("tcp", asLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	mcpLn, err = net.Listen("tcp", mcpLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	stopStack = serveStack(t, store.Config(), issuer, asLn, mcpLn)
	next("disconnected  CRM")
	startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	next("connected     CRM")
	if !strings.Contains(stderr.String(), "again in") {
		t.Errorf("connect did not say on stderr that it tries again:\n%s", stderr)
	}
}

// serveStack serves the demo authorization servers and MCP servers of
// cfg, on the IdP at issuer, each on the listener of its address in
// listeners, and returns what stops them.
func serveStack(t *testing.T, cfg *policy.Config, issuer string, listeners ...net.Listener) (stop func()) {
	t.Helper()
	stack, err := demo.Stack(cfg, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	var servers []*http.Server
	for _, svc := range stack {
		i := slices.IndexFunc(listeners, func(ln net.Listener) bool { return ln.Addr().String() == svc.Addr })
		if i < 0 {
			t.Fatalf("no listener for the %s %s on %s", svc.Server, svc.Role, svc.Addr)
		}
		hs := &http.Server{Handler: svc.Handler, ReadHeaderTimeout: 5 * time.Second}
		go hs.Serve(listeners[i])
		servers = append(servers, hs)
	}
	return func() {
		for _, hs := range servers {
			hs.Close()
		}
	}
}

// startWatch starts the binary's connect --watch with the flags args,
// killed when the test ends. It returns what waits for lines of its
// stdout holding each of wants, in any order, and its stderr.
func startWatch(t *testing.T, args ...string) (next func(wants ...string), stderr *syncBuffer) {
	t.Helper()
	connect := exec.Command(xaaIDPBinary(t), append([]string{"connect", "--watch"}, args...)...)
	stdout, err := connect.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &syncBuffer{}
	connect.Stderr = stderr
	if err := connect.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { connect.Process.Kill(); connect.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return func(wants ...string) {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for len(wants) > 0 {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("connect --watch ended before %q:\n%s", wants, stderr)
				}
				wants = slices.DeleteFunc(wants, func(w string) bool { return strings.Contains(l, w) })
			case <-timeout:
				t.Fatalf("connect --watch printed no %q:\n%s", wants, stderr)
			}
		}
	}, stderr
}
