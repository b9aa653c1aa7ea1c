package idp_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idp"
)

// TestRefreshLog_EvictedTokenStaysEndedAfterARestart: a refresh token the
// full store dropped to make room for another is refused, and stays
// refused after a restart with the state directory, although the room
// it took is free again by then (another token was revoked). Its end is
// on disk, as a revocation's is: else the start would load it back.
func TestRefreshLog_EvictedTokenStaysEndedAfterARestart(t *testing.T) {
	defer idp.SetMaxIssuedTokens(4)()
	dir := t.TempDir()
	withState := func(o *idp.Options) { o.StateDir = dir }
	p := startIdP(t, conformanceConfig(t), withState)
	refresh := func(p *testIdP, rt string) (int, map[string]any) {
		resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
		return resp.StatusCode, body
	}
	var rts []string
	for range 5 {
		rts = append(rts, newBrowser(p).codeTokens(t)["refresh_token"].(string))
	}
	// The first, the soonest to expire, made room for the fifth.
	if status, body := refresh(p, rts[0]); status != http.StatusBadRequest {
		t.Fatalf("the dropped refresh token before the restart: %d %v, want 400", status, body)
	}
	postJSON(t, p.URL+"/revoke", url.Values{"token": {rts[1]}}, basicS1, http.StatusOK)
	p.Server.Close()

	p = startIdP(t, conformanceConfig(t), withState)
	if status, body := refresh(p, rts[0]); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("the dropped refresh token after the restart: %d %v, want 400 invalid_grant", status, body)
	}
	if status, body := refresh(p, rts[1]); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("the revoked refresh token after the restart: %d %v, want 400 invalid_grant", status, body)
	}
	for _, rt := range rts[2:] {
		if status, body := refresh(p, rt); status != http.StatusOK {
			t.Errorf("a live refresh token after the restart: %d %v, want 200", status, body)
		}
	}
}

// TestRefreshLog_DamagedLineFailsClosed: a line of refresh-tokens.jsonl
// before the last that the start cannot read may have been the end of any
// refresh token (a rotation, a revocation): the start loads none, rather
// than give back a token that ended. The same token loads from the file
// without the damage.
func TestRefreshLog_DamagedLineFailsClosed(t *testing.T) {
	dir := t.TempDir()
	withState := func(o *idp.Options) { o.StateDir = dir }
	p := startIdP(t, conformanceConfig(t), withState)
	rt := newBrowser(p).codeTokens(t)["refresh_token"].(string)
	p.Server.Close()
	name := filepath.Join(dir, "refresh-tokens.jsonl")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, append([]byte(`{"kind":"rotated","hash":`+"\n"), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	p = startIdP(t, conformanceConfig(t), withState)
	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("a refresh token after a start that found a damaged line: %d %v, want 400 invalid_grant", resp.StatusCode, body)
	}
	p.Server.Close()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p = startIdP(t, conformanceConfig(t), withState)
	if resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1); resp.StatusCode != http.StatusOK {
		t.Errorf("the refresh token from the undamaged file: %d %v, want 200", resp.StatusCode, body)
	}
}

// TestRefreshLog_DeletedFileKeepsItsRecords: refresh-tokens.jsonl deleted
// while the IdP runs (a clean-up of the state directory) is made anew by
// the next record, with the live ones written back: a token issued before
// the deletion works after a restart, and one rotated away before it is
// still a reuse.
func TestRefreshLog_DeletedFileKeepsItsRecords(t *testing.T) {
	dir := t.TempDir()
	withState := func(o *idp.Options) { o.StateDir = dir }
	p := startIdP(t, conformanceConfig(t), withState)
	refresh := func(p *testIdP, rt string) (int, map[string]any) {
		resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
		return resp.StatusCode, body
	}
	old := newBrowser(p).codeTokens(t)["refresh_token"].(string)
	status, body := refresh(p, old)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, body)
	}
	rotated := body["refresh_token"].(string)
	if err := os.Remove(filepath.Join(dir, "refresh-tokens.jsonl")); err != nil {
		t.Fatal(err)
	}
	newBrowser(p).codeTokens(t)
	p.Server.Close()

	p = startIdP(t, conformanceConfig(t), withState)
	status, body = refresh(p, rotated)
	if status != http.StatusOK {
		t.Fatalf("the token issued before the deletion, after a restart: %d %v, want 200", status, body)
	}
	if status, body := refresh(p, old); status != http.StatusBadRequest {
		t.Errorf("the token rotated away before the deletion, after a restart: %d %v, want 400", status, body)
	}
	// A reuse, which revoked the grant: its live token goes with it.
	if status, body := refresh(p, body["refresh_token"].(string)); status != http.StatusBadRequest {
		t.Errorf("the live token of the grant after the reuse: %d %v, want 400", status, body)
	}
}

// TestRefreshLog_SignedOutStaysEndedAfterTheIDTokenHorizon: a refresh
// token of an SSO session ended at end_session stays refused after a
// restart made once the session's record in ended-logins.jsonl has
// expired (an ID token's lifetime, an hour by default), while the token
// would still have lived (a day): the sign-out must not come undone.
func TestRefreshLog_SignedOutStaysEndedAfterTheIDTokenHorizon(t *testing.T) {
	dir := t.TempDir()
	p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.StateDir = dir })
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access")
	resp, err := noRedirects.Get(p.URL + "/end_session?id_token_hint=" + url.QueryEscape(tok.IDToken()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("end_session: %s", resp.Status)
	}
	p.Server.Close()

	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	p = startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.StateDir, o.Now = dir, later })
	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken()}}, basicS1)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("the refresh token of the signed-out session, after a restart two hours on: %d %v, want 400 invalid_grant", resp.StatusCode, body)
	}
}

// TestRefreshLog_UnwritableRecordWithholdsTheToken: a refresh whose
// rotation refresh-tokens.jsonl cannot take (here a directory put at its
// name; a full disk alike) is answered server_error without the tokens,
// as a token whose audit event cannot be written is: a 200 gave the
// client a token a restart would forget, and gave back the token rotated
// away.
func TestRefreshLog_UnwritableRecordWithholdsTheToken(t *testing.T) {
	dir := t.TempDir()
	p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.StateDir = dir })
	rt := newBrowser(p).codeTokens(t)["refresh_token"].(string)
	name := filepath.Join(dir, "refresh-tokens.jsonl")
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(name, 0o700); err != nil {
		t.Fatal(err)
	}
	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
	if resp.StatusCode != http.StatusInternalServerError || body["error"] != "server_error" || body["refresh_token"] != nil || body["access_token"] != nil {
		t.Fatalf("a refresh whose record cannot be written: %d %v, want 500 server_error without tokens", resp.StatusCode, body)
	}
}

// TestRefreshLog_FloodOfSignOutsKeepsOtherRefreshTokens: more sign-outs
// within an ID token's lifetime than the IdP remembers raise the floor of
// ended sessions, which refuses the older ID tokens at the exchange; a
// refresh token of a session that did not end keeps working, and keeps
// working after a restart: each ended session's refresh tokens have their
// own end in refresh-tokens.jsonl, so the start needs no floor to refuse
// them. Before, the start dropped every refresh token issued before the
// floor, and after a flood of sign-outs (anyone's, with the demo's known
// passwords) every user logged in again.
func TestRefreshLog_FloodOfSignOutsKeepsOtherRefreshTokens(t *testing.T) {
	defer idp.SetMaxEndedSessions(3)()
	dir := t.TempDir()
	withState := func(o *idp.Options) { o.StateDir = dir }
	p := startIdP(t, conformanceConfig(t), withState)
	refresh := func(p *testIdP, rt string) (int, map[string]any) {
		resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
		return resp.StatusCode, body
	}
	live := newBrowser(p).codeTokens(t)["refresh_token"].(string)
	var ended []string
	for range 4 { // one more than the IdP remembers
		br := newBrowser(p)
		ended = append(ended, br.codeTokens(t)["refresh_token"].(string))
		resp, err := br.signOut(p.URL + "/end_session")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	status, body := refresh(p, live)
	if status != http.StatusOK {
		t.Fatalf("the live session's refresh token after the flood: %d %v, want 200", status, body)
	}
	live = body["refresh_token"].(string)
	p.Server.Close()

	p = startIdP(t, conformanceConfig(t), withState)
	if status, body := refresh(p, live); status != http.StatusOK {
		t.Errorf("the live session's refresh token after the flood and a restart: %d %v, want 200", status, body)
	}
	for i, rt := range ended {
		if status, body := refresh(p, rt); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("signed-out session %d's refresh token after the restart: %d %v, want 400 invalid_grant", i, status, body)
		}
	}
}

// TestRefreshLog_UnreadableEndedLoginLoadsNone: a record of
// ended-logins.jsonl that the start cannot read may have been a user's
// end (disabled or removed, and back since), which refresh-tokens.jsonl
// does not hold: that start loads no refresh token, failing closed.
func TestRefreshLog_UnreadableEndedLoginLoadsNone(t *testing.T) {
	dir := t.TempDir()
	withState := func(o *idp.Options) { o.StateDir = dir }
	p := startIdP(t, conformanceConfig(t), withState)
	rt := newBrowser(p).codeTokens(t)["refresh_token"].(string)
	p.Server.Close()
	f, err := os.OpenFile(filepath.Join(dir, "ended-logins.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{\"kind\":\"gone_us\n")
	f.Close()
	p = startIdP(t, conformanceConfig(t), withState)
	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("a refresh token after a start that could not read a record of ended logins: %d %v, want 400 invalid_grant", resp.StatusCode, body)
	}
}
