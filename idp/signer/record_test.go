package signer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// currentKIDs are the kids of the ring's current keys.
func currentKIDs(r *Ring) []string {
	var kids []string
	for _, k := range r.Keys() {
		if k.Status == "current" {
			kids = append(kids, k.KID)
		}
	}
	return kids
}

// TestRotate_RecordsBeforeWritingOrUsing: Rotate hands the rotations to
// record while the old keys are still the ones on disk and in use, so a
// process that dies after writing a new key has recorded it; when record
// fails, nothing is rotated.
func TestRotate_RecordsBeforeWritingOrUsing(t *testing.T) {
	state := t.TempDir()
	r, err := Load(Options{IDTokenAlg: "ES256", IDJAGAlg: "EdDSA", StateDir: state, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	keyFile := currentKeyPath(state, "ES256")
	before, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	old := currentKIDs(r)

	failed := errors.New("the audit log is down")
	if _, err := r.Rotate(time.Hour, func([]Rotation) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("Rotate with a failing record: %v, want its error", err)
	}
	if now, _ := os.ReadFile(keyFile); !bytes.Equal(now, before) || !slices.Equal(currentKIDs(r), old) {
		t.Fatal("a rotation whose record failed was made")
	}
	if _, err := os.Stat(filepath.Join(state, "keys", previousKeysFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a rotation whose record failed wrote %s (%v)", previousKeysFile, err)
	}

	var recorded []Rotation
	rotations, err := r.Rotate(time.Hour, func(rots []Rotation) error {
		if now, _ := os.ReadFile(keyFile); !bytes.Equal(now, before) {
			t.Error("the new key was written before it was recorded")
		}
		if !slices.Equal(currentKIDs(r), old) {
			t.Error("the new keys were in use before they were recorded")
		}
		recorded = rots
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 2 || !slices.EqualFunc(recorded, rotations, func(a, b Rotation) bool { return a.NewKID == b.NewKID }) {
		t.Fatalf("recorded %+v, rotated %+v", recorded, rotations)
	}
	for _, rot := range rotations {
		if !slices.Contains(currentKIDs(r), rot.NewKID) {
			t.Errorf("%s is not current after the rotation", rot.NewKID)
		}
	}
}
