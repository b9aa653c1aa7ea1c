package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestEndSession_HintEndsItsSessionOnly: end_session with an id_token_hint
// ends the SSO session the hint's sid names, and the access and refresh
// tokens issued under it; the same user's session in another browser, at
// the same client, stays signed in, and so do its tokens. It revoked every
// token of that user and client (op's TerminateSession), a scan of both
// full token stores under their locks, while the other browser's session
// lived on and handed out new ones at once (prompt=none).
func TestEndSession_HintEndsItsSessionOnly(t *testing.T) {
	f := &fixture{testIdP: startConformanceIdP(t)}
	t.Cleanup(func() { f.checkAuditHasNoTokens(t) })
	laptop, phone := newBrowser(f.testIdP), newBrowser(f.testIdP)
	ended, kept := laptop.codeTokens(t), phone.codeTokens(t)
	for _, tok := range []map[string]any{ended, kept} {
		f.remember(tok["id_token"])
		f.remember(tok["refresh_token"])
		f.remember(tok["access_token"])
	}
	resp, err := laptop.hc.Get(f.URL + "/end_session?" + url.Values{"id_token_hint": {ended["id_token"].(string)}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("end_session: %s, want 302", resp.Status)
	}
	refresh := func(tok map[string]any) (*http.Response, map[string]any) {
		return f.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, basicS1)
	}
	if resp, body := refresh(ended); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh token of the ended session: %d %v, want 400 invalid_grant", resp.StatusCode, body)
	}
	resp, body := refresh(kept)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh token of the other browser's session: %d %v, want 200", resp.StatusCode, body)
	}
	f.remember(body["refresh_token"])
	f.remember(body["access_token"])
	f.remember(body["id_token"])
	for name, c := range map[string]struct {
		tok  map[string]any
		want int
	}{"ended": {ended, http.StatusUnauthorized}, "kept": {kept, http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, f.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+c.tok["access_token"].(string))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("userinfo with the %s session's access token: %s, want %d", name, resp.Status, c.want)
		}
	}
}

// TestEndSession_CodeOfTheEndedSessionIsRefused: a code issued before the
// sign-out and redeemed after it is refused with invalid_grant: its tokens
// would be of the ended session, and its refresh token would refresh on
// (the contract: ending a session makes its refresh tokens fail).
func TestEndSession_CodeOfTheEndedSessionIsRefused(t *testing.T) {
	f := &fixture{testIdP: startConformanceIdP(t)}
	br := newBrowser(f.testIdP)
	verifier, challenge := pkce()
	res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw")
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no code: %+v", res)
	}
	resp, err := br.signOut(f.URL + "/end_session")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("end_session: %s, want 302", resp.Status)
	}
	resp, body := f.postToken(t, url.Values{"grant_type": {"authorization_code"}, "code": {res.location.Query().Get("code")},
		"redirect_uri": {callback}, "code_verifier": {verifier}}, basicS1)
	f.remember(body["refresh_token"])
	f.remember(body["access_token"])
	f.remember(body["id_token"])
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	if evs := f.Audit.Query(audit.Filter{Type: audit.TypeToken, Outcome: audit.Error}); len(evs) != 1 || !strings.Contains(evs[0].Reason, "ended") {
		t.Errorf("the refusal's audit events: %+v, want one saying the session ended", evs)
	}
}
