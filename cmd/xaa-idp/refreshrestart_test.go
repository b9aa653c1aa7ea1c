package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestServe_RefreshTokensOutliveARestart: with --state-dir a refresh token
// outlives a restart, kill -9 right after the refresh response included
// (the response leaves once its record is synced), and so do its ends: a
// token rotated away before the restart is a reuse after it and revokes
// its grant (RFC 9700 section 4.14.2), and a token revoked (RFC 7009) or
// of a session ended (end_session) before it stays refused. The file
// holds no token and is 0600. Before, every refresh token died with the
// process, and connect --watch or a client logged in again.
func TestServe_RefreshTokensOutliveARestart(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	login, _ := endedClients(ctx, t, &issuer)
	refresh := func(rt string) (idpclient.Tokens, error) {
		return idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: rt})
	}
	refused := func(what, rt string) {
		t.Helper()
		var oe *idpclient.Error
		if _, err := refresh(rt); !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Code != "invalid_grant" {
			t.Errorf("%s: want 400 invalid_grant, got %v", what, err)
		}
	}

	alice, bob, carol := login("alice"), login("bob"), login("carol")
	resp, err := http.PostForm(issuer+"/revoke", url.Values{"token": {bob.RefreshToken()}, "client_id": {"mcp-client"}, "client_secret": {"mcp-secret"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(issuer + "/end_session?id_token_hint=" + url.QueryEscape(carol.IDToken()))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("end_session: %v %v", resp, err)
	}
	resp.Body.Close()
	rotated, err := refresh(alice.RefreshToken())
	if err != nil || rotated.RefreshToken() == "" || rotated.RefreshToken() == alice.RefreshToken() {
		t.Fatalf("alice's refresh before the restart: %v %v", rotated, err)
	}
	// kill -9 at once: the rotation must already be on disk.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	issuer, cmd, stderr := startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	refused("bob's revoked refresh token after the restart", bob.RefreshToken())
	refused("carol's refresh token of an ended session after the restart", carol.RefreshToken())
	again, err := refresh(rotated.RefreshToken())
	if err != nil || again.RefreshToken() == "" || again.RefreshToken() == rotated.RefreshToken() {
		t.Fatalf("alice's rotated refresh token after the restart: %v %v\n%s", again, err, stderr)
	}
	refused("alice's refresh token rotated away before the restart", alice.RefreshToken())
	// The refusal's answer may come before its log line is copied from
	// the pipe.
	waitFor(t, stderr, "refresh token reused")
	refused("alice's live refresh token once the reuse revoked its grant", again.RefreshToken())

	// A SIGTERM, then a login's token issued after a start works after
	// the next.
	dave := login("dave")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	issuer, _, _ = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	if _, err := refresh(dave.RefreshToken()); err != nil {
		t.Errorf("dave's refresh token after a SIGTERM and a start: %v", err)
	}
	refused("alice's revoked grant after a second restart", again.RefreshToken())

	name := filepath.Join(state, "refresh-tokens.jsonl")
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("refresh-tokens.jsonl is %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(name)
	for _, tok := range []idpclient.Tokens{alice, bob, carol, dave, rotated, again} {
		if strings.Contains(string(data), tok.RefreshToken()) {
			t.Errorf("refresh-tokens.jsonl holds a refresh token:\n%s", data)
		}
	}
}

// TestServe_TornRefreshRecordLosesOnlyItself: a last line of
// refresh-tokens.jsonl cut short, without its newline (a crash in the
// middle of a write, or one that left the file's tail zeroed), is skipped
// with a warning naming the file and line; the tokens before it still
// work. Its answer never left: the record was synced before it.
func TestServe_TornRefreshRecordLosesOnlyItself(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	login, _ := endedClients(ctx, t, &issuer)
	alice := login("alice")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	for i, torn := range []string{`{"kind":"token","hash":"ab`, "\x00\x00\x00\x00"} {
		f, err := os.OpenFile(filepath.Join(state, "refresh-tokens.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(torn)
		f.Close()
		var stderr *syncBuffer
		issuer, cmd, stderr = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
		// The issuer on stdout may be read before the warning that came
		// before it on stderr has been copied from its pipe.
		if log := waitFor(t, stderr, "refresh-tokens.jsonl"); !strings.Contains(log, "line=") {
			t.Errorf("%d: the start did not name the unreadable record's file and line:\n%s", i, log)
		}
		tok, err := idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: alice.RefreshToken()})
		if err != nil {
			t.Fatalf("%d: alice's refresh token after a start that skipped a torn line: %v\n%s", i, err, stderr)
		}
		alice = tok
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
	}
}

// TestServe_TornEndedRecordLosesOnlyItself: a last line of
// ended-logins.jsonl cut short, without its newline (a crash of the
// machine in the middle of a write), is skipped with a warning naming the
// file and line, as in refresh-tokens.jsonl: alice's ID token still
// exchanges and her refresh token still refreshes. Before, the start
// failed closed, and after a crash every user logged in again; yet a
// synced record's answer never left, and an unsynced one (a single-use
// subject's use) a crash may lose whole.
func TestServe_TornEndedRecordLosesOnlyItself(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	login, exchange := endedClients(ctx, t, &issuer)
	alice := login("alice")
	for i, torn := range []string{`{"kind":"ended_session","sid":"ab`, "\x00\x00\x00\x00"} {
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		f, err := os.OpenFile(filepath.Join(state, "ended-logins.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(`{"kind":"ended_session","sid":"other","exp":"2999-01-01T00:00:00Z"}` + "\n" + torn)
		f.Close()
		var stderr *syncBuffer
		issuer, cmd, stderr = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
		if log := waitFor(t, stderr, "ended-logins.jsonl"); !strings.Contains(log, "line=") {
			t.Errorf("%d: the start did not name the torn record's file and line:\n%s", i, log)
		}
		if err := exchange(alice.IDToken()); err != nil {
			t.Errorf("%d: alice's ID token after a start that skipped a torn line: %v\n%s", i, err, stderr)
		}
		tok, err := idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: alice.RefreshToken()})
		if err != nil {
			t.Fatalf("%d: alice's refresh token after a start that skipped a torn line: %v\n%s", i, err, stderr)
		}
		alice["refresh_token"] = tok["refresh_token"]
	}
}

// TestServe_DamagedLastRefreshRecordFailsClosed: a last line of
// refresh-tokens.jsonl that is unreadable but whole (its newline written)
// is no write cut short: it is damage to a record that may have been
// acknowledged, the end of any refresh token (a revocation, a rotation).
// The start fails closed as for an earlier damaged line: no refresh token
// from before it is loaded, and the warning names the file and line and
// says what to do. Before, it was skipped as torn, and a token whose
// revocation it held would have come back.
func TestServe_DamagedLastRefreshRecordFailsClosed(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	login, _ := endedClients(ctx, t, &issuer)
	alice := login("alice")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	name := filepath.Join(state, "refresh-tokens.jsonl")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(data), "\n")
	if err := os.WriteFile(name, append(data, "\x00\x00garbage\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer, _, stderr := startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	var oe *idpclient.Error
	_, err = idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: alice.RefreshToken()})
	if !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Code != "invalid_grant" {
		t.Errorf("alice's refresh token after a start that found a whole damaged last line: %v, want 400 invalid_grant\n%s", err, stderr)
	}
	at := fmt.Sprintf("refresh-tokens.jsonl:%d", lines+1)
	if log := waitFor(t, stderr, at); !strings.Contains(log, "log in again") {
		t.Errorf("the start's warning does not name %s and what to do:\n%s", at, log)
	}
}

// TestServe_RefreshTokenOfAUserGoneWhileStoppedIsRefused: dave is disabled
// and carol removed in the configuration file while the IdP is stopped;
// after the start their refresh tokens are refused, and stay refused once
// the admin API enables dave and adds carol back, while alice's works.
func TestServe_RefreshTokenOfAUserGoneWhileStoppedIsRefused(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	login, _ := endedClients(ctx, t, &issuer)
	alice, carol, dave := login("alice"), login("carol"), login("dave")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	const carolEntry = "  - username: carol\n    password: carol\n    groups: [eng]\n"
	const daveEntry = "  - username: dave\n    password: dave\n    groups: [eng]\n"
	changed := strings.Replace(strings.Replace(endedConfig, daveEntry, daveEntry+"    disabled: true\n", 1), carolEntry, "", 1)
	if changed == endedConfig || strings.Contains(changed, "carol") {
		t.Fatal("endedConfig has no carol and dave entries to change")
	}
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer, _, _ = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	refresh := func(rt string) (idpclient.Tokens, error) {
		return idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: rt})
	}
	refused := func(what, rt string) {
		t.Helper()
		var oe *idpclient.Error
		if _, err := refresh(rt); !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Code != "invalid_grant" {
			t.Errorf("%s: want 400 invalid_grant, got %v", what, err)
		}
	}
	refused("dave disabled while stopped", dave.RefreshToken())
	refused("carol removed while stopped", carol.RefreshToken())
	for _, user := range []string{"dave", "carol"} {
		if code, b := adminDo(ctx, http.MethodPut, issuer+"/admin/api/users/"+user, map[string]any{"username": user, "password": user, "groups": []string{"eng"}}); code != http.StatusOK && code != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", user, code, b)
		}
	}
	refused("dave enabled again", dave.RefreshToken())
	refused("carol added again", carol.RefreshToken())
	if _, err := refresh(alice.RefreshToken()); err != nil {
		t.Errorf("alice's refresh token after the start: %v", err)
	}
}

// TestServe_RefreshTokensOfTenantsStayApart: each tenant keeps its refresh
// tokens under its own directory of the state directory; after a restart
// a token of one tenant works there and is unknown at the other, which
// has the same client and user.
func TestServe_RefreshTokensOfTenantsStayApart(t *testing.T) {
	tenant := func(id string) string {
		return "  - id: " + id + `
    users: [{username: alice, password: alice}]
    clients: [{client_id: mcp-client, client_secret: mcp-secret, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}]
`
	}
	file, state := endedFiles(t, "tenants:\n"+tenant("acme")+tenant("beta"))
	ctx := context.Background()
	acme, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	if !strings.HasSuffix(acme, "/t/acme") {
		t.Fatalf("serve printed %q, want acme's issuer", acme)
	}
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: acme, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	acme, _, _ = startOnAddr(t, file, state, strings.TrimSuffix(strings.TrimPrefix(acme, "http://"), "/t/acme"))
	beta := strings.TrimSuffix(acme, "/acme") + "/beta"
	var oe *idpclient.Error
	if _, err := idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: beta, ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: tok.RefreshToken()}); !errors.As(err, &oe) || oe.Code != "invalid_grant" {
		t.Errorf("acme's refresh token at beta after the restart: %v, want invalid_grant", err)
	}
	if _, err := idpclient.Refresh(ctx, idpclient.RefreshOptions{Issuer: acme, ClientID: "mcp-client", ClientSecret: "mcp-secret", RefreshToken: tok.RefreshToken()}); err != nil {
		t.Errorf("acme's refresh token at acme after the restart: %v", err)
	}
}
