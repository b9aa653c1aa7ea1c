package main

import (
	"bufio"
	"net"
	"net/http"
	"os/exec"
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

	// serveStack serves a new CRM authorization server and MCP server on
	// the listeners, and returns what stops them.
	serveStack := func(asLn, mcpLn net.Listener) func() {
		stack, err := demo.Stack(store.Config(), issuer, nil)
		if err != nil {
			t.Fatal(err)
		}
		var servers []*http.Server
		for _, svc := range stack {
			ln := mcpLn
			if svc.Role == "authorization server" {
				ln = asLn
			}
			hs := &http.Server{Handler: svc.Handler, ReadHeaderTimeout: 5 * time.Second}
			go hs.Serve(ln)
			servers = append(servers, hs)
		}
		return func() {
			for _, hs := range servers {
				hs.Close()
			}
		}
	}
	stopStack := serveStack(asLn, mcpLn)
	t.Cleanup(func() { stopStack() })

	connect := exec.Command(xaaIDPBinary(t), "connect", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
		"--username", "bob", "--password", "bob", "--watch", "--interval", "200ms", "--timeout", "5s")
	stdout, err := connect.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
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
	next := func(want string) {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("connect --watch ended before %q:\n%s", want, stderr)
				}
				if strings.Contains(l, want) {
					return
				}
			case <-timeout:
				t.Fatalf("connect --watch printed no %q:\n%s", want, stderr)
			}
		}
	}
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
	stopStack = serveStack(asLn, mcpLn)
	next("disconnected  CRM")
	startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	next("connected     CRM")
	if !strings.Contains(stderr.String(), "again in") {
		t.Errorf("connect did not say on stderr that it tries again:\n%s", stderr)
	}
}
