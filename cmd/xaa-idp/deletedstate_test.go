package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
)

// TestServe_EndedLoginsDeletedWhileRunningKeepTheirRecords:
// ended-logins.jsonl is deleted while the IdP runs (a clean-up of the
// state directory, a mistaken rm). A login that ends after that must
// still be ended after a restart: its record goes to a file at the name,
// not to the deleted one, which no start reads. So does a login that
// ended before the deletion: the server still holds it, and writes it
// back.
func TestServe_EndedLoginsDeletedWhileRunningKeepTheirRecords(t *testing.T) {
	file, state := endedFiles(t, endedConfig)
	ctx := context.Background()
	issuer, cmd, stderr := startOnAddr(t, file, state, "127.0.0.1:0")
	login, exchange := endedClients(ctx, t, &issuer)
	alice, bob, carol := login("alice"), login("bob"), login("carol")
	// bob's refresh token revoked (RFC 7009) before the deletion.
	resp, err := http.PostForm(issuer+"/revoke", url.Values{"token": {bob.RefreshToken()}, "client_id": {"mcp-client"}, "client_secret": {"mcp-secret"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := os.Remove(filepath.Join(state, "ended-logins.jsonl")); err != nil {
		t.Fatal(err)
	}
	// carol signs out after it.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(issuer + "/end_session?id_token_hint=" + url.QueryEscape(carol.IDToken()))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("end_session: %v %v", resp, err)
	}
	resp.Body.Close()
	stop(t, cmd, stderr)

	issuer, _, _ = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	for who, tok := range map[string]idpclient.Tokens{"bob, ended before the deletion,": bob, "carol, ended after it,": carol} {
		var oe *idpclient.Error
		if err := exchange(tok.IDToken()); !errors.As(err, &oe) || oe.Code != "invalid_grant" {
			t.Errorf("%s after a restart: want invalid_grant, got %v", who, err)
		}
	}
	if err := exchange(alice.IDToken()); err != nil {
		t.Errorf("alice's login, which did not end, after the restart: %v", err)
	}
}

// TestServe_PushJournalDeletedWhileRunningKeepsItsSETs: the revocation
// push journal is deleted while the IdP runs and the receiver is down. A
// SET queued after that is still delivered after a restart, and so is
// one queued before it, which the server still holds.
func TestServe_PushJournalDeletedWhileRunningKeepsItsSETs(t *testing.T) {
	r := newSETReceiver(t)
	file, state := endedFiles(t, fmt.Sprintf(pushConfig, r.URL+"/events"))
	issuer, cmd, stderr := startKillable(t, file, state)
	var srv struct{ Access []policy.Access }
	getJSON(t, issuer+"/admin/api/servers/files", &srv)
	// bob's entry removed before the deletion, alice's group after it.
	for i, access := range [][]policy.Access{srv.Access[:1], {}} {
		if i == 1 {
			if err := os.Remove(filepath.Join(state, push.JournalFile)); err != nil {
				t.Fatal(err)
			}
		}
		if code, body := adminDo(context.Background(), http.MethodPut, issuer+"/admin/api/servers/files/access", access); code != http.StatusOK {
			t.Fatalf("PUT access %v: %d %s", access, code, body)
		}
	}
	stop(t, cmd, stderr)

	r.up.Store(true)
	_, cmd, stderr = startKillable(t, file, state)
	got := map[string]bool{}
	for range 2 {
		var set string
		select {
		case set = <-r.arrived:
		case <-time.After(30 * time.Second):
			t.Fatalf("delivered after the restart: %v; want bob's and alice's", got)
		}
		parts := strings.Split(set, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[min(1, len(parts)-1)])
		if err != nil {
			t.Fatalf("not a JWT: %q", set)
		}
		for _, sub := range []string{"u-bob", "u-alice"} {
			if strings.Contains(string(payload), `"`+sub+`"`) {
				got[sub] = true
			}
		}
	}
	if !got["u-bob"] || !got["u-alice"] {
		t.Errorf("delivered after the restart: %v; want bob's and alice's", got)
	}
	stop(t, cmd, stderr)
}
