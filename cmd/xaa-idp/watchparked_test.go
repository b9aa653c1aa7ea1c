package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// watchParkedConfig: bob is assigned to the CRM, and not to the tracker
// (alice is); ACCESS is the tracker's users, TRACKERCLIENT the client
// mcp-client is at the tracker's authorization server.
const watchParkedConfig = `
users:
  - {username: alice, password: alice, sub: 00u-alice}
  - {username: bob, password: bob, sub: 00u-bob}
clients:
  - {client_id: mcp-client, client_secret: mcp-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: crm
    name: CRM
    issuer: CRMAS
    resources: [CRMMCP/mcp]
    scopes: [crm.read]
    clients: {mcp-client: mcp-client-at-crm}
    access:
      - {users: [bob], scopes: [crm.read]}
  - id: tracker
    name: Tracker
    issuer: TRACKERAS
    resources: [TRACKERMCP/mcp]
    scopes: [issues.read]
    clients: {mcp-client: TRACKERCLIENT}
    access:
      - {users: [ACCESS], scopes: [issues.read]}
`

// TestConnect_WatchAllLeavesAPolicyRefusalUntilTheIdPChangesIt: connect
// --watch --all tries the MCP servers the user is not assigned to, to
// show their refusals (README, "Commands"). It then tried each again,
// as if it were restarting, every 30 s for ever: a token exchange the
// IdP refused each time, an event in its audit log each time, and a line
// on stderr each time. A refusal of the IdP's policy changes only when an
// administrator changes the policy: the server is now tried again only
// when the IdP's list of the user's MCP servers says something else of
// it, so that an assignment made later is picked up, and nothing else
// is repeated.
func TestConnect_WatchAllLeavesAPolicyRefusalUntilTheIdPChangesIt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	w := startParkedWatch(t, "mcp-client-at-tracker", "")
	w.next("disconnected  Tracker", "connected     CRM")
	// The refusal reported is audited (the SDK may ask twice in one
	// attempt): what follows adds none.
	deniedAtFirst := deniedExchanges(t, w.state)

	// The watch looks at the IdP's list three times more while the
	// tracker stays refused (its retries were 100ms, 200ms, 400ms apart):
	// it neither exchanges nor says anything again.
	const listed = "path=/me/mcp-servers"
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(w.log.String(), listed) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("connect --watch did not look at the IdP's list of bob's MCP servers again:\nconnect: %s\nserve: %s", w.stderr, w.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := deniedExchanges(t, w.state); n != deniedAtFirst {
		t.Errorf("the IdP's audit log has %d denied token exchanges, want the %d of the first attempt alone", n, deniedAtFirst)
	}
	if n := strings.Count(w.stderr.String(), "Tracker"); n != 1 {
		t.Errorf("connect --watch named the tracker %d times on stderr, want once (that it waits for the IdP):\n%s", n, w.stderr)
	}

	// An administrator assigns bob to the tracker: the watch connects.
	w.change("alice, bob", "mcp-client-at-tracker")
	w.next("connected     Tracker")
}

// TestConnect_WatchConnectsAParkedServerAsTheIdPNowListsIt: the
// administrator who assigns bob to the tracker also moves mcp-client to
// another client of the tracker's authorization server. The watch, seeing
// the IdP's list change, tried the tracker again, but with the client the
// list named when it started, which the authorization server refuses:
// the tracker was then retried every 30 s, never connecting, until
// connect was started again. It connects with the client the IdP now
// names.
func TestConnect_WatchConnectsAParkedServerAsTheIdPNowListsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	w := startParkedWatch(t, "mcp-client-at-tracker-2", "")
	w.next("disconnected  Tracker", "connected     CRM")
	w.change("alice, bob", "mcp-client-at-tracker-2")
	w.next("connected     Tracker")
}

// TestConnect_WatchReadsTheIdPsListPastItsAccessToken: the IdP's list
// of the user's MCP servers, which says when a refused server may be
// tried again, is read with the login's access token, which expires long
// before the login does (an hour by default). The IdP's refusal of an
// expired one renews the login, and the list is read again: an
// assignment made after the access token expired still connects.
func TestConnect_WatchReadsTheIdPsListPastItsAccessToken(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	w := startParkedWatch(t, "mcp-client-at-tracker", "lifetimes: {access_token: 1s}\n")
	w.next("disconnected  Tracker", "connected     CRM")
	const refused = "path=/me/mcp-servers status=401"
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(w.log.String(), refused) {
		if time.Now().After(deadline) {
			t.Fatalf("the IdP never refused connect's expired access token at /me/mcp-servers:\nconnect: %s\nserve: %s", w.stderr, w.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.change("alice, bob", "mcp-client-at-tracker")
	w.next("connected     Tracker")
}

// parkedWatch is connect --watch --all as bob, against an IdP of
// watchParkedConfig and its demo servers.
type parkedWatch struct {
	state       string
	log, stderr *syncBuffer
	next        func(wants ...string)
	change      func(access, trackerClient string)
}

// startParkedWatch starts the IdP (tracker client mcp-client-at-tracker),
// demo servers whose tracker authorization server knows mcp-client as
// stackTrackerClient, and the watch; extra is added to the IdP's
// configuration.
func startParkedWatch(t *testing.T, stackTrackerClient, extra string) *parkedWatch {
	t.Helper()
	placeholders := []string{"CRMAS", "CRMMCP", "TRACKERAS", "TRACKERMCP"}
	var listeners []net.Listener
	var pairs []string
	for _, p := range placeholders {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		listeners = append(listeners, ln)
		pairs = append(pairs, p, "http://"+ln.Addr().String())
	}
	yaml := func(access, trackerClient string) string {
		return strings.NewReplacer(append(pairs, "ACCESS", access, "TRACKERCLIENT", trackerClient)...).Replace(watchParkedConfig) + extra
	}
	file, state := endedFiles(t, yaml("alice", "mcp-client-at-tracker"))
	_, out, log := startKilledAtEnd(t, "serve", "--addr", "127.0.0.1:0", "--config", file, "--state-dir", state, "--log-format", "text", "--log-level", "debug")
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no issuer: %v\n%s", err, log)
	}
	issuer := strings.TrimSpace(line)

	store, err := policy.NewStore([]byte(yaml("alice", stackTrackerClient)), "watch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(serveStack(t, store.Config(), issuer, listeners...))

	next, stderr := startWatch(t, "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
		"--username", "bob", "--password", "bob", "--all", "--interval", "100ms", "--timeout", "5s")
	w := &parkedWatch{state: state, log: log, stderr: stderr, next: next}
	// change writes the IdP's configuration as an administrator would.
	w.change = func(access, trackerClient string) {
		t.Helper()
		tmp := file + ".new"
		if err := os.WriteFile(tmp, []byte(yaml(access, trackerClient)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// deniedExchanges counts the denied token exchanges in the audit log of
// the state directory.
func deniedExchanges(t *testing.T, state string) int {
	t.Helper()
	audit, err := os.ReadFile(filepath.Join(state, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range strings.Split(string(audit), "\n") {
		if strings.Contains(ev, `"type":"token_exchange","outcome":"denied"`) {
			n++
		}
	}
	return n
}
