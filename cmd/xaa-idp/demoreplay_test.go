package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// startDemoState starts demo on addr with file and --state-dir state, and
// waits for its banner; the process is killed when the test ends.
func startDemoState(t *testing.T, file, state, addr string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd, r, stderr := startKilledAtEnd(t, "demo", "--addr", addr, "--config", file, "--state-dir", state, "--log-format", "text")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("demo printed no banner: %v\n%s", err, stderr)
		}
		if strings.Contains(line, "Ctrl-C stops everything.") {
			break
		}
	}
	go func() { _, _ = r.WriteTo(&syncBuffer{}) }()
	return cmd, stderr
}

// TestDemo_RedeemedIDJAGStaysRedeemedAfterARestart: the IdP's keys outlive
// a restart of `demo --state-dir`, and so do the ID-JAGs they signed, for
// minutes: the demo authorization server must still refuse a second
// redemption of one it redeemed before the restart, SIGTERM or kill -9,
// while a new ID-JAG is redeemed.
func TestDemo_RedeemedIDJAGStaysRedeemedAfterARestart(t *testing.T) {
	for _, stop := range []struct {
		name string
		sig  os.Signal
	}{{"SIGTERM", syscall.SIGTERM}, {"kill -9", os.Kill}} {
		t.Run(stop.name, func(t *testing.T) {
			idpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			asPort, mcpPort := freePort(t), freePort(t)
			asURL, mcpURL := fmt.Sprintf("http://127.0.0.1:%d", asPort), fmt.Sprintf("http://127.0.0.1:%d/mcp", mcpPort)
			file := minimalConfig(t, "http", asPort, mcpPort)
			state := filepath.Join(t.TempDir(), "state")
			issuer := "http://" + idpAddr
			ctx := context.Background()

			cmd, stderr := startDemoState(t, file, state, idpAddr)
			newJAG := func() string {
				t.Helper()
				login, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "my-mcp-client", ClientSecret: "change-me", Username: "dev", Password: "dev"})
				if err != nil {
					t.Fatal(err)
				}
				jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "my-mcp-client", ClientSecret: "change-me",
					SubjectToken: login.IDToken(), Audience: asURL, Resource: mcpURL})
				if err != nil {
					t.Fatal(err)
				}
				return jag["access_token"].(string)
			}
			redeem := func(jag string) (int, map[string]any) {
				return redeemIDJAG(t, asURL, "my-mcp-client-at-notes", "change-me", jag)
			}
			refused := func(when, jag string) {
				t.Helper()
				status, body := redeem(jag)
				if status != http.StatusBadRequest || body["error"] != "invalid_grant" || !strings.Contains(fmt.Sprint(body["error_description"]), "already redeemed") {
					t.Errorf("the ID-JAG redeemed %s: HTTP %d %v, want 400 invalid_grant, already redeemed\n%s", when, status, body, stderr)
				}
			}

			jag := newJAG()
			status, body := redeem(jag)
			if status != http.StatusOK {
				t.Fatalf("the first redemption: HTTP %d %v", status, body)
			}
			accessToken, _ := body["access_token"].(string)
			refused("twice before the restart", jag)

			if err := cmd.Process.Signal(stop.sig); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			_, stderr = startDemoState(t, file, state, idpAddr)
			refused("before the restart, after it", jag)
			// The authorization server's access-token key is made at each
			// start: the MCP server refuses an access token of the last
			// run, saying why, so that a client knows to get a new one.
			req, _ := http.NewRequest(http.MethodPost, mcpURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
			req.Header.Set("Authorization", "Bearer "+accessToken)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if resp, err := http.DefaultClient.Do(req); err != nil {
				t.Error(err)
			} else {
				resp.Body.Close()
				if www := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(www, `error="invalid_token"`) || !strings.Contains(www, "restart") {
					t.Errorf("an access token from before the restart: HTTP %d, WWW-Authenticate %s; want 401 invalid_token naming the restart", resp.StatusCode, www)
				}
			}
			if status, body := redeem(newJAG()); status != http.StatusOK {
				t.Errorf("a new ID-JAG after the restart: HTTP %d %v", status, body)
			}
			if strings.Contains(stderr.String(), "unreadable") {
				t.Errorf("the restart found an unreadable record:\n%s", stderr)
			}
		})
	}
}

// TestDemo_PushedRevocationOutlivesARestart: a user disabled while
// `demo --state-dir` runs has their access revoked at the demo
// authorization server by a pushed SET; an ID-JAG issued to them before
// that, not yet redeemed, stays refused after a kill -9 and a restart
// (the IdP sends an accepted SET no more).
func TestDemo_PushedRevocationOutlivesARestart(t *testing.T) {
	idpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	asPort, mcpPort := freePort(t), freePort(t)
	asURL, mcpURL := fmt.Sprintf("http://127.0.0.1:%d", asPort), fmt.Sprintf("http://127.0.0.1:%d/mcp", mcpPort)
	file := minimalConfig(t, "http", asPort, mcpPort)
	state := filepath.Join(t.TempDir(), "state")
	issuer := "http://" + idpAddr
	ctx := context.Background()

	cmd, stderr := startDemoState(t, file, state, idpAddr)
	devCall(t, http.MethodPut, issuer+"/admin/api/users/bob", map[string]any{"username": "bob", "password": "bob-pw", "groups": []string{"developers"}}, nil)
	login, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "my-mcp-client", ClientSecret: "change-me", Username: "bob", Password: "bob-pw"})
	if err != nil {
		t.Fatal(err)
	}
	jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "my-mcp-client", ClientSecret: "change-me",
		SubjectToken: login.IDToken(), Audience: asURL, Resource: mcpURL})
	if err != nil {
		t.Fatal(err)
	}
	devCall(t, http.MethodPut, issuer+"/admin/api/users/bob", map[string]any{"username": "bob", "password": "bob-pw", "groups": []string{"developers"}, "disabled": true}, nil)
	revoked := func(status int, body map[string]any) bool {
		return status == http.StatusBadRequest && body["error"] == "invalid_grant" && strings.Contains(fmt.Sprint(body["error_description"]), "revoked the access")
	}
	// The push is asynchronous: a probe ID-JAG, never redeemed, tells
	// nothing; wait for the event_push in the audit log.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var events []map[string]any
		devCall(t, http.MethodGet, issuer+"/admin/api/audit?type=event_push", nil, &events)
		if slices.ContainsFunc(events, func(e map[string]any) bool { return e["outcome"] == "allowed" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event_push delivered: %v\n%s", events, stderr)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	_, stderr = startDemoState(t, file, state, idpAddr)
	if status, body := redeemIDJAG(t, asURL, "my-mcp-client-at-notes", "change-me", jag["access_token"].(string)); !revoked(status, body) {
		t.Errorf("bob's ID-JAG issued before the revocation, after the restart: HTTP %d %v, want 400 invalid_grant, revoked\n%s", status, body, stderr)
	}
}
