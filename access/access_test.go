package access_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/access"
)

func open(t *testing.T, o access.Options) *access.Store {
	t.Helper()
	s, err := access.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore_KeepsRequestsAcrossARestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "access-requests.json")
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := open(t, access.Options{File: file, Now: func() time.Time { return now }})
	a, err := s.Create(access.Request{User: "bob", Server: "crm", Scopes: []string{"crm.read"}, Reason: "quarterly report"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(access.Request{User: "bob", Server: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	exp := now.Add(8 * time.Hour)
	if _, err := s.Decide(b.ID, access.Decision{Status: access.Approved, Admin: "alice", Granted: []string{"wiki.read"}, Expires: &exp}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the file: %v %v, want mode 0600", fi, err)
	}

	again := open(t, access.Options{File: file})
	pending := again.List(access.Pending)
	if len(pending) != 1 || pending[0].ID != a.ID || pending[0].Reason != "quarterly report" || !pending[0].Created.Equal(now) {
		t.Errorf("pending after the restart: %+v", pending)
	}
	got, ok := again.Get(b.ID)
	if !ok || got.Status != access.Approved || got.DecidedBy != "alice" || got.Expires == nil || !got.Expires.Equal(exp) {
		t.Errorf("decided after the restart: %+v", got)
	}
}

func TestStore_RefusesWhatItCannotKeep(t *testing.T) {
	s := open(t, access.Options{MaxRequests: 3, MaxPendingPerUser: 2})
	first, err := s.Create(access.Request{User: "bob", Server: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  access.Request
		want func(error) bool
	}{
		{"a duplicate of a pending request", access.Request{User: "bob", Server: "crm"}, func(err error) bool {
			var dup *access.DuplicateError
			return errors.As(err, &dup) && dup.Pending.ID == first.ID
		}},
		{"a reason over the bound", access.Request{User: "carol", Server: "crm", Reason: strings.Repeat("x", access.MaxReasonChars+1)}, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "reason is longer")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Create(tt.req); !tt.want(err) {
				t.Errorf("err = %v", err)
			}
		})
	}
	if _, err := s.Create(access.Request{User: "bob", Server: "wiki"}); err != nil {
		t.Fatal(err)
	}
	var tooMany *access.TooManyError
	if _, err := s.Create(access.Request{User: "bob", Server: "tracker"}); !errors.As(err, &tooMany) {
		t.Errorf("a third pending request of bob: %v, want TooManyError", err)
	}
	if _, err := s.Create(access.Request{User: "carol", Server: "crm"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(access.Request{User: "dave", Server: "crm"}); !errors.Is(err, access.ErrFull) {
		t.Errorf("a fourth request while three are pending: %v, want ErrFull", err)
	}
	// A decided request makes room: the oldest decided is forgotten.
	if _, err := s.Decide(first.ID, access.Decision{Status: access.Denied, Admin: "alice", Reason: "no"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(access.Request{User: "dave", Server: "crm"}); err != nil {
		t.Errorf("after a decision: %v", err)
	}
	if _, ok := s.Get(first.ID); ok {
		t.Error("the oldest decided request was kept beyond MaxRequests")
	}
	if n := len(s.List("")); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestStore_DecidesOnlyPendingRequests(t *testing.T) {
	s := open(t, access.Options{})
	r, _ := s.Create(access.Request{User: "bob", Server: "crm"})
	if _, err := s.Decide("ar_unknown", access.Decision{Status: access.Denied}); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	d, err := s.Decide(r.ID, access.Decision{Status: access.Denied, Admin: "alice", Reason: "not needed"})
	if err != nil || d.Status != access.Denied || d.DenyReason != "not needed" || d.Decided == nil {
		t.Fatalf("deny: %+v %v", d, err)
	}
	var np *access.NotPendingError
	if _, err := s.Decide(r.ID, access.Decision{Status: access.Approved}); !errors.As(err, &np) || np.Request.Status != access.Denied {
		t.Errorf("approve after deny: %v", err)
	}
	if _, err := s.Create(access.Request{User: "bob", Server: "crm"}); err != nil {
		t.Errorf("a new request after a denial: %v", err)
	}
}

func TestOpen_NamesACorruptFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "access-requests.json")
	os.WriteFile(file, []byte("{not json"), 0o600)
	if _, err := access.Open(access.Options{File: file}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("err = %v, want one naming %s", err, file)
	}
}

// TestStore_DenyPendingDeniesWhatItIsTold: DenyPending denies the pending
// requests its function gives a reason for, in the file too, and leaves
// the others and decided ones alone.
func TestStore_DenyPendingDeniesWhatItIsTold(t *testing.T) {
	file := filepath.Join(t.TempDir(), "access-requests.json")
	s := open(t, access.Options{File: file})
	mk := func(user, server string) access.Request {
		t.Helper()
		r, err := s.Create(access.Request{User: user, Server: server})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	bobCRM, bobWiki, carolCRM := mk("bob", "crm"), mk("bob", "wiki"), mk("carol", "crm")
	if _, err := s.Decide(bobWiki.ID, access.Decision{Status: access.Approved, Admin: "alice"}); err != nil {
		t.Fatal(err)
	}
	denied, err := s.DenyPending(func(r access.Request) string {
		if r.User == "bob" {
			return "bob left"
		}
		return ""
	})
	if err != nil || len(denied) != 1 || denied[0].ID != bobCRM.ID || denied[0].Status != access.Denied || denied[0].DenyReason != "bob left" || denied[0].Decided == nil {
		t.Fatalf("DenyPending = %+v, %v; want bob's crm request denied", denied, err)
	}
	again := open(t, access.Options{File: file})
	for id, want := range map[string]string{bobCRM.ID: access.Denied, bobWiki.ID: access.Approved, carolCRM.ID: access.Pending} {
		if r, _ := again.Get(id); r.Status != want {
			t.Errorf("%s after a restart: %s, want %s", id, r.Status, want)
		}
	}
	if denied, err := s.DenyPending(func(access.Request) string { return "" }); err != nil || denied != nil {
		t.Errorf("DenyPending of nothing = %+v, %v", denied, err)
	}
}

// TestStore_RecordRefusedChangesNothing: a request or a decision whose
// record (its audit event) fails is not made: the store and its file are
// as they were, and a full store keeps the decided request it would have
// dropped for the new one.
func TestStore_RecordRefusedChangesNothing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "access-requests.json")
	s := open(t, access.Options{File: file, MaxRequests: 2})
	old, err := s.Create(access.Request{User: "bob", Server: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(old.ID, access.Decision{Status: access.Denied, Admin: "alice"}); err != nil {
		t.Fatal(err)
	}
	pending, err := s.Create(access.Request{User: "bob", Server: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(file)
	listed := len(s.List(""))
	refused := errors.New("the audit log is closed")
	var seen access.Request
	if _, err := s.CreateRecorded(access.Request{User: "carol", Server: "crm"}, func(r access.Request) error { seen = r; return refused }); err != refused {
		t.Errorf("CreateRecorded: %v, want the record's error", err)
	}
	if seen.ID == "" || seen.User != "carol" || seen.Status != access.Pending {
		t.Errorf("the record got %+v, want the request about to be made", seen)
	}
	if _, err := s.DecideRecorded(pending.ID, access.Decision{Status: access.Denied, Admin: "alice"}, func(r access.Request) error { seen = r; return refused }); err != refused {
		t.Errorf("DecideRecorded: %v, want the record's error", err)
	}
	if seen.ID != pending.ID || seen.Status != access.Denied {
		t.Errorf("the record got %+v, want the decision about to be made", seen)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Errorf("the file changed:\n%s\nwant\n%s", after, before)
	}
	if got, _ := s.Get(old.ID); got.ID == "" || len(s.List("")) != listed {
		t.Errorf("the store lost a request: %d listed, want %d", len(s.List("")), listed)
	}
	if got, _ := s.Get(pending.ID); got.Status != access.Pending {
		t.Errorf("the request is %s, want still pending", got.Status)
	}
}
