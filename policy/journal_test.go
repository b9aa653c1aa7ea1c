package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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

// A hand edit saved while an edit is being made (after the edit read the
// file, here while its record is written) is not overwritten: the edit is
// refused with a *ChangedOnDiskError, the file keeps the hand edit, and
// the next look at the file loads it. One wins visibly, the other is
// refused; neither is dropped in silence.
func TestStore_HandEditDuringAnEditIsNotOverwritten(t *testing.T) {
	s, file := openCopy(t, "testdata/store/layout.yaml")
	theirs := readString(t, file) + "# their note\n"
	_, err := s.PutGroup(policy.Group{Name: "ops"}, "*", policy.Journal(func(*policy.Change) error {
		return os.WriteFile(file, []byte(theirs), 0o640)
	}))
	var changed *policy.ChangedOnDiskError
	if !errors.As(err, &changed) || changed.File != file {
		t.Fatalf("err = %v, want a ChangedOnDiskError naming %s", err, file)
	}
	if got := readString(t, file); got != theirs {
		t.Fatalf("the hand edit was overwritten:\n%s", got)
	}
	if s.Config().Group("ops") != nil {
		t.Fatal("the refused edit is running")
	}
	if _, err := s.PutGroup(policy.Group{Name: "ops"}, "*"); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, file); !strings.HasSuffix(got, "# their note\n") || !strings.Contains(got, "name: ops") {
		t.Errorf("the next edit did not apply on top of the hand edit:\n%s", got)
	}
}

// A hand edit saved in the last moment, after the edit's last look at the
// file and before its rename, is not overwritten either: the rename swaps
// the files, sees that the one it took out is not the one the edit was
// made on, and puts it back (Linux; elsewhere the window stays open).
func TestStore_HandEditAfterTheLastLookIsNotOverwritten(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the files are swapped atomically on Linux only")
	}
	s, file := openCopy(t, "testdata/store/layout.yaml")
	theirs := readString(t, file) + "# their note\n"
	restore := policy.AfterDiskCheck(func() {
		// The editor writes its own temporary file and renames it into place.
		tmp := file + ".editor"
		if err := os.WriteFile(tmp, []byte(theirs), 0o640); err != nil {
			t.Error(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Error(err)
		}
	})
	_, err := s.PutGroup(policy.Group{Name: "ops"}, "*")
	restore()
	var changed *policy.ChangedOnDiskError
	if !errors.As(err, &changed) || changed.File != file {
		t.Fatalf("err = %v, want a ChangedOnDiskError naming %s", err, file)
	}
	if got := readString(t, file); got != theirs {
		t.Fatalf("the hand edit was overwritten:\n%s", got)
	}
	if s.Config().Group("ops") != nil {
		t.Fatal("the refused edit is running")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if _, err := s.PutGroup(policy.Group{Name: "ops"}, "*"); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, file); !strings.HasSuffix(got, "# their note\n") || !strings.Contains(got, "name: ops") {
		t.Errorf("the next edit did not apply on top of the hand edit:\n%s", got)
	}
}
