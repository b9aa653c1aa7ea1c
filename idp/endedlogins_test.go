package idp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/diskfull"
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
	start := stateStarter(t, cfg, dir, &now)
	s := start()
	s.revokeLogin("sid-1", "mcp-client")
	s.endSSO("sid-2", "test", "")
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

// TestEndedLog_AppendCutShortLeavesNoTornLine: a record the disk takes
// only part of (a full disk; here the process's file size limit, which
// cuts a write short as a full disk does) is cut off again, so that the
// next record is not glued to it and the next start reads the file
// whole: it does not fail closed (the floor that refuses every ID token
// issued until then) for the torn line, and keeps the records after it.
func TestEndedLog_AppendCutShortLeavesNoTornLine(t *testing.T) {
	cfg, err := policy.Parse([]byte("users: []\n"), "ended.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	now := time.Now()
	start := stateStarter(t, cfg, dir, &now)
	s := start()
	s.endSSO("sid-0", "test", "")
	lift := diskfull.After(t, filepath.Join(dir, endedLoginsFile), 20) // room for the start of a line only
	s.revokeLogin("sid-1", "mcp-client")
	lift()
	s.endSSO("sid-2", "test", "")
	s.Close()

	data, err := os.ReadFile(filepath.Join(dir, endedLoginsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var r endedRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Errorf("line %d is not a whole record: %q", i+1, line)
		}
	}
	s = start()
	defer s.Close()
	if f := s.endedFloor.Load(); f != nil {
		t.Errorf("the start failed closed (floor %v) for a record cut short", f)
	}
	if !s.sessionEnded("sid-0") || !s.sessionEnded("sid-2") {
		t.Errorf("after the restart: sid-0 ended %v, sid-2 ended %v; want both", s.sessionEnded("sid-0"), s.sessionEnded("sid-2"))
	}
}

// TestEndedFloor_NeverLowered: the floor below which every ID token with
// a session is refused (raised when the ended sessions or revoked logins
// overflow) only goes up. Raised again with the clock moved back (PUT
// /admin/api/clock), or by two overflows at once in the other order, it
// was set to the lower time: ID tokens issued between the two were
// accepted again, and the next rewrite of the state file, finding the
// floor below its record, kept no floor at all.
func TestEndedFloor_NeverLowered(t *testing.T) {
	cfg, err := policy.Parse([]byte("users: []\n"), "ended.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	raised := time.Now().Truncate(time.Second)
	now := raised
	start := stateStarter(t, cfg, dir, &now)
	issued := raised.Add(-30 * time.Minute) // an ID token before the floor
	s := start()
	s.raiseEndedFloor(now)
	now = raised.Add(-time.Hour) // the clock moved back
	s.raiseEndedFloor(now)
	if !s.idTokenOfEndedSession("sid-x", issued) {
		t.Errorf("an ID token issued before the floor (%v) is accepted once the floor was raised again at an earlier time", raised)
	}
	if err := s.ended.log.Compact(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = start()
	defer s.Close()
	if !s.idTokenOfEndedSession("sid-x", issued) {
		t.Errorf("after a rewrite of the file and a restart, an ID token issued before the floor (%v) is accepted", raised)
	}
}

// stateStarter returns a function that starts a Server on cfg with the
// state directory dir and the clock *now, read at each call.
func stateStarter(t *testing.T, cfg *policy.Config, dir string, now *time.Time) func() *Server {
	return func() *Server {
		t.Helper()
		s, err := New(Options{Config: cfg, Issuer: "http://idp.example", StateDir: dir, Now: func() time.Time { return *now }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// TestEndedLog_BoundIsTwiceTheLiveRecordsPlus4096: the file is rewritten
// once the appends since its last rewrite outnumber the records that
// rewrite kept by more than minEndedRewrite, so it holds at most twice
// those records plus 4096 lines (README, "State"): with one live record,
// 4098 lines, not "about twice what the stores hold". The records
// appended here are expired, so that a rewrite keeps the live one alone.
func TestEndedLog_BoundIsTwiceTheLiveRecordsPlus4096(t *testing.T) {
	cfg, err := policy.Parse([]byte("users: []\n"), "ended.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	now := time.Now()
	s := stateStarter(t, cfg, dir, &now)()
	defer s.Close()
	lines := func() int {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, endedLoginsFile))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(data), "\n")
	}
	dead := 0
	appendDead := func(n int) {
		for range n {
			dead++
			s.ended.recordUse(endedRecord{Kind: usedSubjectKind, Key: fmt.Sprint("k", dead), Exp: now.Add(-time.Second)})
		}
	}
	rewritten := func() bool {
		t.Helper()
		for range 200 {
			if lines() == 1 {
				return true
			}
			time.Sleep(10 * time.Millisecond)
		}
		return false
	}
	// The start rewrote the file with no live record: 4096 lines at most.
	s.endSSO("sid-live", "test", "")
	appendDead(minEndedRewrite - 1)
	if got := lines(); got != minEndedRewrite {
		t.Fatalf("%d lines, want %d, not yet rewritten", got, minEndedRewrite)
	}
	appendDead(1)
	if !rewritten() {
		t.Fatalf("%d lines after the append beyond %d, want the live record alone", lines(), minEndedRewrite)
	}
	// That rewrite kept one record: 2*1 + 4096 lines at most.
	appendDead(1 + minEndedRewrite)
	if got := lines(); got != 2+minEndedRewrite {
		t.Fatalf("%d lines, want %d, not yet rewritten", got, 2+minEndedRewrite)
	}
	appendDead(1)
	if !rewritten() {
		t.Fatalf("%d lines after the append beyond %d, want the live record alone", lines(), 2+minEndedRewrite)
	}
}
