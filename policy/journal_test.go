package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

func TestStore_JournalComesBeforeTheFile(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	original := readString(t, file)
	var seen *policy.Change
	ch, err := s.PutGroup(policy.Group{Name: "ops", Description: "Operations"}, "*", policy.Journal(func(ch *policy.Change) error {
		if readString(t, file) != original || s.Config().Group("ops") != nil {
			t.Error("the journal ran after the file or the running configuration changed")
		}
		if ch.Version == "" || ch.After == nil || ch.Version == ch.PreviousVersion {
			t.Errorf("the journal got an incomplete change: %+v", ch)
		}
		seen = ch
		return nil
	}))
	if err != nil || seen == nil || seen.Version != ch.Version || policy.Version([]byte(readString(t, file))) != ch.Version {
		t.Fatalf("PutGroup: %v; journal saw %+v", err, seen)
	}

	// An edit that changes nothing records nothing.
	if _, err := s.PutGroup(policy.Group{Name: "ops", Description: "Operations"}, "*", policy.Journal(func(*policy.Change) error {
		t.Error("journal called for an edit that changes nothing")
		return nil
	})); err != nil {
		t.Fatal(err)
	}
}

func TestStore_FailedJournalChangesNothing(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	original, version := readString(t, file), s.Version()
	disk := errors.New("disk full")
	_, err := s.DeleteGroup("unused", "*", policy.Journal(func(*policy.Change) error { return disk }))
	var je *policy.JournalError
	if !errors.As(err, &je) || !errors.Is(err, disk) {
		t.Fatalf("got %v, want a JournalError wrapping the journal's", err)
	}
	if readString(t, file) != original || s.Version() != version || s.Config().Group("unused") == nil {
		t.Fatal("a change whose journal failed was made")
	}
}

func TestStore_FileNotReplacedAfterTheJournal(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	version := s.Version()
	dir := filepath.Dir(file)
	_, err := s.DeleteGroup("unused", "*", policy.Journal(func(*policy.Change) error {
		// The directory disappears between the record and the write.
		return os.Rename(dir, dir+"-moved")
	}))
	if err == nil {
		t.Fatal("the edit succeeded without its file")
	}
	if s.Version() != version || s.Config().Group("unused") == nil {
		t.Fatal("the running configuration changed although the file was not replaced")
	}
}
