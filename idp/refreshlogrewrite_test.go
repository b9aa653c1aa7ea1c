package idp

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestRefreshLog_TokenEndedBeforeItsRecordStaysEndedAfterARewrite: a
// refresh token stored by a grant and ended (a sign-out, a revocation,
// another's room) before that grant recorded it, where the end's record
// set off a rewrite of refresh-tokens.jsonl: the rewrite keeps the live
// tokens, not the ended one, nor its end, and adds the records appended
// since, the token's among them. A start then loaded the ended token.
func TestRefreshLog_TokenEndedBeforeItsRecordStaysEndedAfterARewrite(t *testing.T) {
	dir := t.TempDir()
	cfg, err := policy.Load("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	open := func() *Server {
		s, err := New(Options{Config: cfg, Issuer: "http://127.0.0.1:1", StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	st := s.store
	now := s.now()
	// The next append sets off a rewrite (Due: lines > 2*live+minEndedRewrite).
	filler := make([]refreshRecord, minEndedRewrite)
	for i := range filler {
		filler[i] = refreshRecord{Kind: refreshEnded, Hash: "filler", Exp: now.Add(time.Hour)}
	}
	if err := st.journal.record(filler...); err != nil {
		t.Fatal(err)
	}
	rt := &refreshToken{ClientID: "mcp-client", Subject: "u-alice", AuthTime: now, IssuedAt: now, Expiry: now.Add(time.Hour), SessionID: "sid-1", GrantID: "grant-1"}
	at := &accessToken{ID: "at-1", ClientID: "mcp-client", Subject: "u-alice", Expiry: now.Add(time.Hour), SessionID: "sid-1", GrantID: "grant-1"}
	if _, err := st.storeTokens(at, "hash-1", rt); err != nil {
		t.Fatal(err)
	}
	st.endSession("sid-1") // its record sets off the rewrite
	if err := st.recordIssued("hash-1", rt, nil); err != nil {
		t.Fatal(err)
	}
	// The rewrite done (a Close would give it up): the file has no filler.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(filepath.Join(dir, refreshTokensFile))
		if err == nil && !bytes.Contains(b, []byte("filler")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("refresh-tokens.jsonl was not rewritten")
		}
	}
	s.Close()

	s = open()
	defer s.Close()
	if _, ok := s.store.refreshTokens.Get("hash-1"); ok {
		t.Error("a refresh token ended before its grant recorded it is loaded by the start after a rewrite")
	}
}
