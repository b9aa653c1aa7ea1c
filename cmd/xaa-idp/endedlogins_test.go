package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// endedConfig has a user for each way a login ends: bob's refresh token is
// revoked (revokeLogin), carol signs out (end_session), dave is disabled
// and enabled again (noteGoneUsers); alice's login is the control.
const endedConfig = `groups:
  - name: eng

users:
  - username: alice
    password: alice
    groups: [eng]
    admin: true
  - username: bob
    password: bob
    groups: [eng]
  - username: carol
    password: carol
    groups: [eng]
  - username: dave
    password: dave
    groups: [eng]

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
    clients:
      mcp-client: mcp-client-at-files
    access:
      - groups: [eng]
        scopes: [files.read]
`

// TestServe_EndedLoginsStayEndedAfterARestart: with --state-dir the signing
// keys, and so the ID tokens they signed, outlive a restart; so must the
// end of the logins those ID tokens came from. A login revoked for theft,
// a session ended by end_session and the logins of a user disabled and
// enabled again stay refused at the token exchange after SIGTERM and after
// kill -9, while an ID token of a login that did not end, and a new
// login, are exchanged.
func TestServe_EndedLoginsStayEndedAfterARestart(t *testing.T) {
	for _, stop := range []struct {
		name string
		sig  os.Signal
	}{{"SIGTERM", syscall.SIGTERM}, {"kill -9", os.Kill}} {
		t.Run(stop.name, func(t *testing.T) {
			file, state := endedFiles(t, endedConfig)
			ctx := context.Background()
			issuer, cmd, stderr := startOnAddr(t, file, state, "127.0.0.1:0")

			login, exchange := endedClients(ctx, t, &issuer)
			refused := func(who, idToken string) {
				t.Helper()
				var oe *idpclient.Error
				if err := exchange(idToken); !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Code != "invalid_grant" {
					t.Errorf("%s's ID token: want 400 invalid_grant, got %v", who, err)
				}
			}

			alice, bob, carol, dave := login("alice"), login("bob"), login("carol"), login("dave")
			// bob's refresh token revoked (RFC 7009): his login with it.
			resp, err := http.PostForm(issuer+"/revoke", url.Values{"token": {bob.RefreshToken()}, "client_id": {"mcp-client"}, "client_secret": {"mcp-secret"}})
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %v %v", resp, err)
			}
			resp.Body.Close()
			// carol signs out at the client (RP-Initiated Logout).
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err = noRedirect.Get(issuer + "/end_session?id_token_hint=" + url.QueryEscape(carol.IDToken()))
			if err != nil || resp.StatusCode != http.StatusFound {
				t.Fatalf("end_session: %v %v", resp, err)
			}
			resp.Body.Close()
			// dave is disabled, then enabled again.
			for _, body := range []map[string]any{{"username": "dave", "groups": []string{"eng"}, "disabled": true}, {"username": "dave", "groups": []string{"eng"}}} {
				if code, b := adminDo(ctx, http.MethodPut, issuer+"/admin/api/users/dave", body); code != http.StatusOK {
					t.Fatalf("PUT dave %v: %d %s", body, code, b)
				}
			}
			for who, tok := range map[string]idpclient.Tokens{"bob": bob, "carol": carol, "dave": dave} {
				refused(who+" before the restart", tok.IDToken())
			}

			if err := cmd.Process.Signal(stop.sig); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil && stop.sig != os.Kill {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatalf("after %s: %v\n%s", stop.name, err, stderr)
				}
			}
			// On the same address: the ID tokens name the issuer.
			issuer, cmd2, stderr := startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))

			for who, tok := range map[string]idpclient.Tokens{"bob": bob, "carol": carol, "dave": dave} {
				refused(who+" after the restart", tok.IDToken())
			}
			if err := exchange(alice.IDToken()); err != nil {
				t.Errorf("alice's ID token of a login that did not end, after the restart: %v", err)
			}
			for _, user := range []string{"bob", "carol", "dave"} {
				if err := exchange(login(user).IDToken()); err != nil {
					t.Errorf("a new login of %s after the restart: %v", user, err)
				}
			}
			if strings.Contains(stderr.String(), "unreadable") {
				t.Errorf("the restart found an unreadable record:\n%s", stderr)
			}
			data, err := os.ReadFile(filepath.Join(state, "ended-logins.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range []idpclient.Tokens{alice, bob, carol, dave} {
				for _, secret := range []string{tok.IDToken(), tok.RefreshToken()} {
					if secret != "" && strings.Contains(string(data), secret) {
						t.Errorf("ended-logins.jsonl holds a token:\n%s", data)
					}
				}
			}

			// A record the next start cannot read (here a damaged last
			// line, whole: a torn one without its newline is skipped)
			// may have been anyone's: every ID token with a session issued
			// until that start is refused, alice's too, and the log names
			// the file and line; logins after it work.
			if err := cmd2.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd2.Wait()
			f, err := os.OpenFile(filepath.Join(state, "ended-logins.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(`{"kind":"ended_session","sid":"abc` + "\n")
			f.Close()
			issuer, _, stderr = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
			if log := waitFor(t, stderr, "ended-logins.jsonl"); !strings.Contains(log, "line=") {
				t.Errorf("the start did not name the unreadable record's file and line:\n%s", log)
			}
			refused("alice after a start that lost a record", alice.IDToken())
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second))) // iat has whole seconds
			if err := exchange(login("alice").IDToken()); err != nil {
				t.Errorf("a new login of alice after a start that lost a record: %v", err)
			}
		})
	}
}

// endedFiles writes config to the configuration file of a directory of
// the test's own, and returns that file and the --state-dir beside it.
func endedFiles(t *testing.T, config string) (file, state string) {
	t.Helper()
	dir := t.TempDir()
	file = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, filepath.Join(dir, "state")
}

// endedClients returns the login and the token exchange of mcp-client
// that the tests of ended logins use, at *issuer as it stands at each
// call: a restart sets issuer again. A login that fails fails the test.
func endedClients(ctx context.Context, t *testing.T, issuer *string) (login func(user string) idpclient.Tokens, exchange func(idToken string) error) {
	login = func(user string) idpclient.Tokens {
		t.Helper()
		tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: *issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: user, Password: user})
		if err != nil {
			t.Fatalf("login of %s: %v", user, err)
		}
		return tok
	}
	exchange = func(idToken string) error {
		_, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: *issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: idToken, Audience: "https://as.files.example"})
		return err
	}
	return login, exchange
}

// startOnAddr starts serve on addr with file and state, and returns its
// issuer; the process is killed when the test ends.
func startOnAddr(t *testing.T, file, state, addr string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd, out, stderr := startKilledAtEnd(t, "serve", "--addr", addr, "--config", file, "--state-dir", state, "--log-format", "text")
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no issuer: %v\n%s", err, stderr)
	}
	// The issuer on stdout may be read before what the start logged on
	// stderr has been copied from its pipe; the serving record comes
	// after the issuer, so once it is here everything before it is too.
	waitFor(t, stderr, "msg=serving issuer=")
	return strings.TrimSpace(line), cmd, stderr
}

// TestServe_SingleUseSubjectStaysUsedAfterARestart: with
// exchange.single_use_subject an ID token is exchanged once per MCP
// server; with --state-dir its keys, and so the ID token, outlive a
// kill -9, and so must its use.
func TestServe_SingleUseSubjectStaysUsedAfterARestart(t *testing.T) {
	file, state := endedFiles(t, "exchange:\n  single_use_subject: true\n"+endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	_, exchange := endedClients(ctx, t, &issuer)
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := exchange(tok.IDToken()); err != nil {
		t.Fatalf("the first exchange: %v", err)
	}
	var oe *idpclient.Error
	if err := exchange(tok.IDToken()); !errors.As(err, &oe) || oe.Code != "invalid_grant" {
		t.Fatalf("the second exchange before the restart: %v, want invalid_grant", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	issuer, _, stderr := startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	if err := exchange(tok.IDToken()); !errors.As(err, &oe) || oe.Code != "invalid_grant" {
		t.Errorf("the exchange after the restart: %v, want invalid_grant\n%s", err, stderr)
	}
	data, _ := os.ReadFile(filepath.Join(state, "ended-logins.jsonl"))
	if strings.Contains(string(data), tok.IDToken()) {
		t.Errorf("ended-logins.jsonl holds the ID token:\n%s", data)
	}
}

// TestServe_DamagedEndedRecordFailsClosed: a line of ended-logins.jsonl
// that is JSON of a kind the IdP writes but does not decode (here an exp
// that is no time, as a flipped bit leaves) loses a record as a torn line
// does: the start names it and refuses every ID token with a session
// issued until then, rather than dropping the line as expired.
func TestServe_DamagedEndedRecordFailsClosed(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	f, err := os.OpenFile(filepath.Join(state, "ended-logins.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"kind":"ended_session","sid":"abc","exp":"2O26-12-05T16:00:00Z"}` + "\n")
	f.Close()
	issuer, _, stderr := startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	if log := waitFor(t, stderr, "ended-logins.jsonl"); !strings.Contains(log, "line=1") {
		t.Errorf("the start did not name the unreadable record's file and line:\n%s", log)
	} else if strings.Contains(log, "than the IdP remembers") {
		// One damaged line is no overflow of 100,000 ended sessions.
		t.Errorf("the start also warned of a full record of ended logins:\n%s", log)
	}
	_, err = idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: tok.IDToken(), Audience: "https://as.files.example"})
	var oe *idpclient.Error
	if !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Code != "invalid_grant" {
		t.Errorf("alice's ID token after a start that could not read a record: %v, want 400 invalid_grant", err)
	}
}

// TestServe_UserDisabledWhileStoppedStaysGoneWhenEnabledAgain: dave is
// disabled in the configuration file while the IdP is stopped; the next
// start refuses him, and once the admin API enables him again the ID
// token he had before the stop stays refused (docs/configuration.md,
// users[].disabled: enabling the user again brings none of it back),
// while a new login works. Before, the start recorded nothing for him,
// and the enabling gave the old ID token ID-JAGs again.
func TestServe_UserDisabledWhileStoppedStaysGoneWhenEnabledAgain(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, stderr := startOnAddr(t, file, state, "127.0.0.1:0")
	login, exchange := endedClients(ctx, t, &issuer)
	refused := func(what, idToken, code string) {
		t.Helper()
		var oe *idpclient.Error
		if err := exchange(idToken); !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Code != code {
			t.Errorf("%s: want 400 %s, got %v", what, code, err)
		}
	}

	dave := login("dave")
	if err := exchange(dave.IDToken()); err != nil {
		t.Fatalf("dave's ID token before the stop: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("after SIGTERM: %v\n%s", err, stderr)
		}
	}
	const daveEntry = "  - username: dave\n    password: dave\n    groups: [eng]\n"
	if !strings.Contains(endedConfig, daveEntry) {
		t.Fatal("endedConfig has no dave entry to disable")
	}
	disabled := strings.Replace(endedConfig, daveEntry, daveEntry+"    disabled: true\n", 1)
	if err := os.WriteFile(file, []byte(disabled), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer, _, _ = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))

	refused("dave's ID token from before the stop, dave disabled", dave.IDToken(), "access_denied")
	if code, b := adminDo(ctx, http.MethodPut, issuer+"/admin/api/users/dave", map[string]any{"username": "dave", "groups": []string{"eng"}}); code != http.StatusOK {
		t.Fatalf("PUT dave enabled: %d %s", code, b)
	}
	refused("dave's ID token from before the stop, dave enabled again", dave.IDToken(), "invalid_grant")
	if err := exchange(login("dave").IDToken()); err != nil {
		t.Errorf("a new login of dave once enabled again: %v", err)
	}
}

// TestServe_UserRemovedWhileStoppedStaysGoneWhenAddedAgain: dave is taken
// out of the file while the IdP is stopped (a hand edit, or a DELETE that
// a kill -9 cut short after the file was replaced and before the running
// IdP took the change), so no running IdP saw him go (noteGoneUsers) and
// the start, which finds no such user, records nothing for him. Once the
// admin API adds him back (the same sub), the ID token he had before the
// stop must stay refused, as a disabled user's does once enabled again,
// also after one more kill -9; a new login of his works. Before, the ID
// token from before the removal got ID-JAGs again.
func TestServe_UserRemovedWhileStoppedStaysGoneWhenAddedAgain(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	login, exchange := endedClients(ctx, t, &issuer)
	refused := func(what, idToken, code string) {
		t.Helper()
		var oe *idpclient.Error
		if err := exchange(idToken); !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Code != code {
			t.Errorf("%s: want 400 %s, got %v", what, code, err)
		}
	}

	dave := login("dave")
	if err := exchange(dave.IDToken()); err != nil {
		t.Fatalf("dave's ID token before the kill: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	const daveEntry = "  - username: dave\n    password: dave\n    groups: [eng]\n"
	if !strings.Contains(endedConfig, daveEntry) {
		t.Fatal("endedConfig has no dave entry to remove")
	}
	if err := os.WriteFile(file, []byte(strings.Replace(endedConfig, daveEntry, "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(issuer, "http://")
	issuer, cmd, _ = startOnAddr(t, file, state, addr)

	refused("dave's ID token from before the kill, dave removed", dave.IDToken(), "access_denied")
	if code, b := adminDo(ctx, http.MethodPut, issuer+"/admin/api/users/dave", map[string]any{"password": "dave", "groups": []string{"eng"}}); code != http.StatusCreated {
		t.Fatalf("PUT dave back: %d %s", code, b)
	}
	refused("dave's ID token from before the kill, dave added again", dave.IDToken(), "invalid_grant")
	if err := exchange(login("dave").IDToken()); err != nil {
		t.Errorf("a new login of dave once added again: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	issuer, _, stderr := startOnAddr(t, file, state, addr)
	refused("dave's ID token from before the removal, after one more kill", dave.IDToken(), "invalid_grant")
	if t.Failed() {
		t.Logf("%s", stderr)
	}
}

// TestServe_UserAddedWhileRunningKeepsALoginOfThatSecond: a user that the
// admin API (or SCIM, or an edit) adds while the IdP runs, and who logs
// in within the same second (a provisioning script), keeps that login
// after a plain restart: its ID token still gets ID-JAGs. The addition
// was recorded as "gone until the next whole second" (so that a login
// from before a removal made while the IdP was stopped stays refused,
// TestServe_UserRemovedWhileStoppedStaysGoneWhenAddedAgain), which after
// the restart refused the new login too, "was disabled or removed after
// the login", of a user never disabled nor removed. No login of a user
// absent at the start can be made between the start and the addition,
// so the record is at the start's next whole second.
func TestServe_UserAddedWhileRunningKeepsALoginOfThatSecond(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	login, exchange := endedClients(ctx, t, &issuer)
	time.Sleep(1100 * time.Millisecond) // past the start's second
	var user string
	var idToken string
	for i := 0; i < 5 && idToken == ""; i++ {
		name := fmt.Sprintf("erin%d", i)
		before := time.Now().Unix()
		if code, b := adminDo(ctx, http.MethodPut, issuer+"/admin/api/users/"+name, map[string]any{"password": name, "groups": []string{"eng"}}); code != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", name, code, b)
		}
		tok := login(name)
		if time.Now().Unix() == before { // added and logged in within one second
			user, idToken = name, tok.IDToken()
		}
	}
	if idToken == "" {
		t.Skip("no addition and login fell within one second")
	}
	if err := exchange(idToken); err != nil {
		t.Fatalf("%s's ID token before the restart: %v", user, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	issuer, _, stderr := startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	if err := exchange(idToken); err != nil {
		t.Errorf("%s's ID token, from the second they were added, after a restart: %v\n%s", user, err, stderr)
	}
}
