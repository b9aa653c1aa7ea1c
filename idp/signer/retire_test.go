package signer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func publishedKIDs(r *Ring) []string {
	var kids []string
	for _, k := range r.Published() {
		kids = append(kids, k.id)
	}
	return kids
}

// TestRotate_RetiresOnTheWallClock: a rotation made while the IdP's clock
// reads 2030 does not keep the old key published until 2030, neither in
// the running ring nor after a restart on the real clock: retire_at is the
// wall clock's time plus the overlap.
func TestRotate_RetiresOnTheWallClock(t *testing.T) {
	state := t.TempDir()
	wall := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	moved := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := Load(Options{IDTokenAlg: "ES256", IDJAGAlg: "EdDSA", StateDir: state,
		Now: func() time.Time { return moved }, Wall: func() time.Time { return wall }})
	if err != nil {
		t.Fatal(err)
	}
	rotations, err := r.Rotate(time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rot := range rotations {
		if !rot.RetireAt.Equal(wall.Add(time.Hour)) {
			t.Errorf("%s retires at %v, want the wall clock's %v plus the overlap", rot.OldKID, rot.RetireAt, wall)
		}
		if !slices.Contains(publishedKIDs(r), rot.OldKID) {
			t.Errorf("%s is not published during the overlap", rot.OldKID)
		}
	}

	// A restart on the real clock (the IdP clock no longer moved).
	wall = wall.Add(30 * time.Minute)
	r2, err := Load(Options{IDTokenAlg: "ES256", IDJAGAlg: "EdDSA", StateDir: state,
		Now: func() time.Time { return wall }, Wall: func() time.Time { return wall }})
	if err != nil {
		t.Fatal(err)
	}
	previous := 0
	for _, k := range r2.Keys() {
		if k.Status != "previous" {
			continue
		}
		previous++
		if !k.RetireAt.Equal(wall.Add(30 * time.Minute)) {
			t.Errorf("after a restart, %s retires at %v, want %v", k.KID, k.RetireAt, wall.Add(30*time.Minute))
		}
	}
	if previous != len(rotations) {
		t.Errorf("after a restart within the overlap, %d previous keys are published, want %d", previous, len(rotations))
	}
	wall = wall.Add(30*time.Minute + time.Second)
	for _, rg := range []*Ring{r, r2} {
		for _, rot := range rotations {
			if slices.Contains(publishedKIDs(rg), rot.OldKID) {
				t.Errorf("%s still published an hour of real time after the rotation (IdP clock %v)", rot.OldKID, rg.now())
			}
			if _, ok := rg.RetiredAt(rot.OldKID, rot.Alg); !ok {
				t.Errorf("RetiredAt(%s) does not say it retired", rot.OldKID)
			}
		}
	}
}

// TestRotate_AnAdvancedClockRetiresToo: advancing the IdP's clock past the
// overlap retires the old key as well (a test simulating time passing), so
// the clock can shorten a key's publication but never lengthen it.
func TestRotate_AnAdvancedClockRetiresToo(t *testing.T) {
	wall := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	now := wall
	r, err := Load(Options{IDTokenAlg: "ES256", IDJAGAlg: "EdDSA", StateDir: t.TempDir(),
		Now: func() time.Time { return now }, Wall: func() time.Time { return wall }})
	if err != nil {
		t.Fatal(err)
	}
	rotations, err := r.Rotate(time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour + time.Second)
	for _, rot := range rotations {
		if slices.Contains(publishedKIDs(r), rot.OldKID) {
			t.Errorf("%s still published after the IdP's clock passed the overlap", rot.OldKID)
		}
	}
}

// TestLoad_ForgetsRetiredKeysOnDisk: a previous key keeps its private key
// in the state directory only until it retires; the first start after
// that removes it from previous.json, rather than leaving it there until
// the next rotation. A key retired on the IdP's clock alone (moved ahead)
// is kept: a start on the real clock publishes it again.
func TestLoad_ForgetsRetiredKeysOnDisk(t *testing.T) {
	state := t.TempDir()
	wall := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	now := wall
	load := func() *Ring {
		t.Helper()
		r, err := Load(Options{IDTokenAlg: "ES256", IDJAGAlg: "EdDSA", StateDir: state,
			Now: func() time.Time { return now }, Wall: func() time.Time { return wall }})
		if err != nil {
			t.Fatal(err)
		}
		r.Published() // ready
		return r
	}
	rotations, err := load().Rotate(time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	onDisk := func() string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(state, "keys", previousKeysFile))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	now = now.Add(2 * time.Hour) // the IdP's clock alone
	load()
	for _, rot := range rotations {
		if !strings.Contains(onDisk(), rot.OldKID) {
			t.Errorf("a start with the IdP's clock moved past the overlap removed %s, which the real clock has not retired", rot.OldKID)
		}
	}
	wall = wall.Add(time.Hour + time.Second)
	load()
	for _, rot := range rotations {
		if strings.Contains(onDisk(), rot.OldKID) {
			t.Errorf("a start after %s retired keeps it in %s", rot.OldKID, previousKeysFile)
		}
	}
}
