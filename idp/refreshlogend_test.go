package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
)

// unwritableRefreshLog puts a directory at refresh-tokens.jsonl of dir,
// which the next append finds in place of the file it had open (a full or
// failing disk alike): the append fails.
func unwritableRefreshLog(t *testing.T, dir string) {
	t.Helper()
	name := filepath.Join(dir, "refresh-tokens.jsonl")
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(name, 0o700); err != nil {
		t.Fatal(err)
	}
}

// TestRefreshLog_UnrecordedRevocationIsServerError: a /revoke whose end
// refresh-tokens.jsonl cannot take answers 500 server_error, as a grant
// whose record fails does, and audits it: a 200 said the token was
// revoked, yet a restart gave it back. The token stays refused until
// then.
func TestRefreshLog_UnrecordedRevocationIsServerError(t *testing.T) {
	dir := t.TempDir()
	p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.StateDir = dir })
	rt := newBrowser(p).codeTokens(t)["refresh_token"].(string)
	unwritableRefreshLog(t, dir)
	body := postJSON(t, p.URL+"/revoke", url.Values{"token": {rt}}, basicS1, http.StatusInternalServerError)
	if body["error"] != "server_error" || !strings.Contains(body["error_description"].(string), "refresh-tokens.jsonl") {
		t.Errorf("a revocation whose record cannot be written: %v, want server_error naming refresh-tokens.jsonl", body)
	}
	evs := p.Audit.Query(audit.Filter{Type: audit.TypeToken, Limit: audit.DefaultCapacity})
	if len(evs) == 0 || evs[0].Error != "server_error" || evs[0].Details["endpoint"] != "revocation" || evs[0].Sub == "" {
		t.Errorf("the failed revocation's audit event: %+v, want server_error at the revocation endpoint with the token's sub", evs)
	}
	resp, tb := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
	if resp.StatusCode != http.StatusBadRequest || tb["error"] != "invalid_grant" {
		t.Errorf("the token after the failed revocation: %d %v, want 400 invalid_grant", resp.StatusCode, tb)
	}
}

// TestRefreshLog_UnrecordedSignOutIsServerError: a sign-out at
// end_session whose refresh token ends refresh-tokens.jsonl cannot take
// does not send the browser on as signed out (RP-Initiated Logout 1.0
// section 2's redirect says it was): it answers 500 server_error,
// naming the file, and audits the logout as an error; the session and its
// tokens stay ended until a restart. Both ways of ending the session: an
// id_token_hint alone, and the browser's cookie.
func TestRefreshLog_UnrecordedSignOutIsServerError(t *testing.T) {
	for _, how := range []string{"id_token_hint", "cookie"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.StateDir = dir })
			br := newBrowser(p)
			tok := br.codeTokens(t)
			unwritableRefreshLog(t, dir)
			// The hint alone (op's TerminateSessionFromRequest), or the
			// browser of the hint's session, which ends it by its cookie.
			hc := noRedirects
			if how == "cookie" {
				hc = br.hc
			}
			resp, err := hc.Get(p.URL + "/end_session?id_token_hint=" + url.QueryEscape(tok["id_token"].(string)))
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusInternalServerError || err != nil || body["error"] != "server_error" ||
				!strings.Contains(body["error_description"].(string), "refresh-tokens.jsonl") {
				t.Fatalf("end_session whose record cannot be written: %s %v %v, want 500 server_error naming refresh-tokens.jsonl", resp.Status, body, err)
			}
			evs := p.Audit.Query(audit.Filter{Type: audit.TypeLogout, Limit: audit.DefaultCapacity})
			if len(evs) != 1 || evs[0].Outcome != audit.Error || evs[0].Error != "server_error" {
				t.Errorf("the failed sign-out's audit events: %+v, want one logout with outcome error, server_error", evs)
			}
			resp, tb := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, basicS1)
			if resp.StatusCode != http.StatusBadRequest || tb["error"] != "invalid_grant" {
				t.Errorf("the session's refresh token after the failed sign-out: %d %v, want 400 invalid_grant", resp.StatusCode, tb)
			}
		})
	}
}
