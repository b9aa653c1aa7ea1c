package access_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/access"
)

// TestStore_RefusesADenialReasonOverTheBound: a denial's reason is bounded
// as a request's is (docs/http.md, "Access requests"); a longer one decides
// nothing, in the file too.
func TestStore_RefusesADenialReasonOverTheBound(t *testing.T) {
	file := filepath.Join(t.TempDir(), "access-requests.json")
	s := open(t, access.Options{File: file})
	r, err := s.Create(access.Request{User: "bob", Server: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", access.MaxReasonChars+1)
	if d, err := s.Decide(r.ID, access.Decision{Status: access.Denied, Admin: "alice", Reason: long}); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("Decide with a reason of %d characters: %+v, %v; want a refusal", access.MaxReasonChars+1, d, err)
	}
	for name, st := range map[string]*access.Store{"in memory": s, "after a restart": open(t, access.Options{File: file})} {
		if got, ok := st.Get(r.ID); !ok || got.Status != access.Pending || got.DenyReason != "" {
			t.Errorf("%s: %+v, want the request still pending", name, got)
		}
	}
	if d, err := s.Decide(r.ID, access.Decision{Status: access.Denied, Admin: "alice", Reason: long[:len(long)-len("é")]}); err != nil || d.DenyReason == "" {
		t.Errorf("Decide with a reason of %d characters: %+v, %v; want it denied", access.MaxReasonChars, d, err)
	}
}

// TestStore_DenyPendingCutsAReasonToTheBound: the reasons DenyPending is
// given are cut to the bound, in characters, rather than stored whole.
func TestStore_DenyPendingCutsAReasonToTheBound(t *testing.T) {
	file := filepath.Join(t.TempDir(), "access-requests.json")
	s := open(t, access.Options{File: file})
	r, err := s.Create(access.Request{User: "bob", Server: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DenyPending(func(access.Request) string { return strings.Repeat("ü", 3*access.MaxReasonChars) }); err != nil {
		t.Fatal(err)
	}
	got, _ := open(t, access.Options{File: file}).Get(r.ID)
	if n := utf8.RuneCountInString(got.DenyReason); got.Status != access.Denied || n != access.MaxReasonChars || !utf8.ValidString(got.DenyReason) {
		t.Errorf("after a restart: status %s, a reason of %d characters (valid UTF-8: %t); want denied with %d", got.Status, n, utf8.ValidString(got.DenyReason), access.MaxReasonChars)
	}
}

// TestStore_AChangeNotWrittenIsNotMade: when the file cannot be written
// (its directory gone), Create and Decide fail and the store is as it
// was: no request the file lacks, no decision it lacks.
func TestStore_AChangeNotWrittenIsNotMade(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := open(t, access.Options{File: filepath.Join(dir, "access-requests.json")})
	r, err := s.Create(access.Request{User: "bob", Server: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(access.Request{User: "bob", Server: "wiki"}); err == nil || !strings.Contains(err.Error(), "writing") {
		t.Errorf("Create with its file unwritable: %v, want the write's error", err)
	}
	if got := s.List(""); len(got) != 1 || got[0].ID != r.ID {
		t.Errorf("after a Create not written: %+v, want only %s", got, r.ID)
	}
	if _, err := s.Decide(r.ID, access.Decision{Status: access.Denied, Admin: "alice"}); err == nil || !strings.Contains(err.Error(), "writing") {
		t.Errorf("Decide with its file unwritable: %v, want the write's error", err)
	}
	if got, _ := s.Get(r.ID); got.Status != access.Pending || got.Decided != nil {
		t.Errorf("after a Decide not written: %+v, want it still pending", got)
	}
}
