package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/secevent"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// pushConfig: alice reaches files through eng, bob by an entry of his own;
// files's revocations go to the receiver %s.
const pushConfig = `groups:
  - name: eng
users:
  - username: alice
    password: alice
    admin: true
    groups: [eng]
  - username: bob
    password: bob
clients:
  - client_id: mcp-client
    client_secret: mcp-secret
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
mcp_servers:
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read]
    events_endpoint: %s
    clients:
      mcp-client: mcp-client-at-files
    access:
      - groups: [eng]
        scopes: [files.read]
      - users: [bob]
        scopes: [files.read]
`

// setReceiver is an RFC 8935 receiver that is down (503) until up is set,
// and then accepts (202) and hands over every SET.
type setReceiver struct {
	*httptest.Server
	up       atomic.Bool
	dead     sync.Map // issuers of killed processes, whose SETs are refused
	mu       sync.Mutex
	accepted []string
	arrived  chan string
}

func newSETReceiver(t *testing.T) *setReceiver {
	r := &setReceiver{arrived: make(chan string, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		// A killed process's last attempt may reach this handler only
		// after the test set up: it is refused as the process saw it.
		if _, killed := r.dead.Load(unverifiedIssuer(string(body))); killed || !r.up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.mu.Lock()
		r.accepted = append(r.accepted, string(body))
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		r.arrived <- string(body)
	}))
	t.Cleanup(r.Close)
	return r
}

// unverifiedIssuer is the iss of a SET's payload, unverified (exchange
// --decode's decodeJWT): "" if it has none.
func unverifiedIssuer(set string) string {
	_, claims, _ := decodeJWT(set)
	iss, _ := claims["iss"].(string)
	return iss
}

// next waits for the next SET accepted and verifies it against the JWKS of
// the IdP now serving at issuer: it must be a CAEP session-revoked for
// files about sub.
func (r *setReceiver) next(t *testing.T, issuer, sub string) {
	t.Helper()
	var set string
	select {
	case set = <-r.arrived:
	case <-time.After(30 * time.Second):
		t.Fatalf("no SET about %s arrived within 30s", sub)
	}
	var jwks jose.JSONWebKeySet
	getJSON(t, issuer+"/keys", &jwks)
	keys := func(_ context.Context, iss, kid string) ([]jose.JSONWebKey, error) {
		if iss != issuer {
			return nil, secevent.ErrUntrusted
		}
		return jwks.Key(kid), nil
	}
	v, err := secevent.Verify(context.Background(), set, keys, secevent.Want{Audience: "https://as.files.example", Now: time.Now(), MaxAge: time.Minute, Skew: 5 * time.Second})
	if err != nil {
		t.Fatalf("the SET does not verify against the IdP's JWKS: %v", err)
	}
	if v.Type != secevent.SessionRevoked || v.Subject.Sub != sub {
		t.Fatalf("SET %s about %s, want session-revoked about %s", v.Type, v.Subject.Sub, sub)
	}
}

// TestServe_RevocationsSurviveAKillAndEditsWhileStopped runs the real
// binary: bob's entry is removed through the admin API while the receiver
// is down and the process is killed (SIGKILL) right after the 200; the
// next start, with the receiver up, delivers bob's session-revoked. Then
// the IdP is stopped, the file edited by hand to take alice out of eng,
// and the next start delivers alice's. A further restart with nothing
// changed queues nothing, and no SET was sent twice.
func TestServe_RevocationsSurviveAKillAndEditsWhileStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the binary")
	}
	r := newSETReceiver(t)
	file, state := endedFiles(t, fmt.Sprintf(pushConfig, r.URL+"/events"))

	// Killed right after the 200 of bob's removal, the receiver down.
	issuer, cmd, _ := startKillable(t, file, state)
	var srv struct{ Access []policy.Access }
	getJSON(t, issuer+"/admin/api/servers/files", &srv)
	code, body := adminDo(context.Background(), http.MethodPut, issuer+"/admin/api/servers/files/access", srv.Access[:1])
	if code != http.StatusOK {
		t.Fatalf("removing bob's entry: %d %s", code, body)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	r.dead.Store(issuer, true)
	r.up.Store(true)
	issuer, cmd, stderr := startKillable(t, file, state)
	r.next(t, issuer, "u-bob")
	stop(t, cmd, stderr)

	// Edited by hand while stopped.
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "    admin: true\n    groups: [eng]\n", "    admin: true\n", 1)
	if edited == string(data) {
		t.Fatalf("alice's groups are not in the file:\n%s", data)
	}
	if err := os.WriteFile(file, []byte(edited), 0o640); err != nil {
		t.Fatal(err)
	}
	issuer, cmd, stderr = startKillable(t, file, state)
	r.next(t, issuer, "u-alice")
	stop(t, cmd, stderr)

	// Nothing changed: the start queues nothing, which stays in the
	// journal while the receiver is down.
	r.up.Store(false)
	_, cmd, stderr = startKillable(t, file, state)
	journal, err := os.ReadFile(filepath.Join(state, push.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.TrimSpace(string(journal))) > 0 {
		t.Errorf("a restart with nothing changed queued SETs:\n%s", journal)
	}
	stop(t, cmd, stderr)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.accepted) != 2 {
		t.Errorf("the receiver accepted %d SETs, want 2 (bob's, alice's)", len(r.accepted))
	}
}

// stop ends serve as an operator does (SIGINT), so that it finishes what it
// is delivering, and checks that it exits cleanly.
func stop(t *testing.T, cmd *exec.Cmd, stderr *syncBuffer) {
	t.Helper()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v\n%s", err, stderr)
	}
}
