package idp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestEndedLog_LoadedAtStartAndPrunedOnceExpired: the records of ended
// logins come back at the next start on the same state directory, and
// a start after the last ID token they refuse has expired drops them from
// the file, so it does not grow from run to run.
func TestEndedLog_LoadedAtStartAndPrunedOnceExpired(t *testing.T) {
	cfg, err := policy.Parse([]byte("users: []\n"), "ended.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	now := time.Now()
	start := func() *Server {
		t.Helper()
		s, err := New(Options{Config: cfg, Issuer: "http://idp.example", StateDir: dir, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	s.revokeLogin("sid-1", "mcp-client")
	s.endSSO("sid-2", "test")
	s.Close()

	s = start()
	if _, ok := s.revokedLogins.Get(revokedLogin{"sid-1", "mcp-client"}); !ok || !s.sessionEnded("sid-2") {
		t.Errorf("after a restart: revoked %v, ended %v; want both", ok, s.sessionEnded("sid-2"))
	}
	s.Close()

	now = now.Add(cfg.Lifetimes.IDToken.D() + subjectSkew + time.Second)
	s = start()
	defer s.Close()
	if _, ok := s.revokedLogins.Get(revokedLogin{"sid-1", "mcp-client"}); ok || s.sessionEnded("sid-2") {
		t.Errorf("after the ID tokens expired: revoked %v, ended %v; want neither", ok, s.sessionEnded("sid-2"))
	}
	data, err := os.ReadFile(filepath.Join(dir, endedLoginsFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(data)) != "" {
		t.Errorf("the file kept expired records:\n%s", data)
	}
}
