package connect_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// runAgainst connects alice to one MCP server, the hostile one, and
// fails the test if that takes longer than limit (0: no limit).
func runAgainst(t *testing.T, mcpURL string, timeout, limit time.Duration) connect.Result {
	t.Helper()
	issuer, _ := startDemo(t)
	start := time.Now()
	results, err := connect.Run(context.Background(), connect.Options{
		Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice",
		MCPServers: []string{mcpURL}, Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); limit > 0 && took > limit {
		t.Errorf("connecting to the hostile server took %s, want under %s", took, limit)
	}
	if len(results) != 1 || results[0].Connected || results[0].Err == nil {
		t.Fatalf("results %+v, want one refusal", results)
	}
	return results[0]
}

func TestRun_AnMCPServerThatNeverAnswersTimesOut(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server sees the client hang up
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	t.Cleanup(hang.Close)
	// Well under DefaultTimeout's 30 s: the 2 s given was the one kept.
	res := runAgainst(t, hang.URL+"/mcp", 2*time.Second, 20*time.Second)
	if !strings.Contains(res.Err.Error(), "deadline") {
		t.Errorf("err %v, want a timeout", res.Err)
	}
}

func TestRun_AnEndless401BodyIsNotReadToTheEnd(t *testing.T) {
	var wrote atomic.Int64
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="http://`+r.Host+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
		chunk := []byte(strings.Repeat("x", 64<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			wrote.Add(int64(len(chunk)))
		}
	}))
	t.Cleanup(endless.Close)
	// Counted in bytes, not seconds: a client reading to the end reads
	// until its 30 s timeout, gigabytes on loopback; one that stops after
	// its bound leaves what the socket buffers hold, a few MiB.
	runAgainst(t, endless.URL+"/mcp", 0, 0)
	endless.Close() // waits for the handler, which the hang-up ends
	if n := wrote.Load(); n > 64<<20 {
		t.Errorf("the client read %d MiB of an endless 401 body", n>>20)
	}
}

func TestRun_ABareHTTPErrorIsNamedInTheRefusal(t *testing.T) {
	srv := idptest.New(t)
	mcp := srv.StartDemoServers()["tracker"].URL
	srv.InjectFault(policy.Fault{Match: policy.FaultMatch{GrantType: policy.FaultGrantTokenExchange}, HTTPStatus: http.StatusBadGateway})
	results, err := connect.Run(context.Background(), connect.Options{
		Issuer: srv.Issuer(), ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice",
		MCPServers: []string{mcp},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Err == nil || !strings.Contains(results[0].Err.Error(), "502") {
		t.Errorf("results %+v, want a refusal that names the IdP's 502", results)
	}
}

// TestRun_AnMCPServerNothingServesSaysToStartIt: an MCP server URL at
// which nothing listens (the IdP started with serve, not demo) is refused
// saying so and what serves it, not Go's `Post "...": dial tcp ...:
// connect: connection refused` alone.
func TestRun_AnMCPServerNothingServesSaysToStartIt(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	addr := gone.Listener.Addr().String()
	gone.Close()
	res := runAgainst(t, "http://"+addr+"/mcp", 5*time.Second, 0)
	msg := res.Err.Error()
	if !strings.Contains(msg, "MCP server unreachable: nothing answers at "+addr) || !strings.Contains(msg, "xaa-idp demo") || strings.Contains(msg, "dial tcp") {
		t.Errorf("err %q; want it to say nothing answers at %s and that xaa-idp demo serves the MCP servers", msg, addr)
	}
}
