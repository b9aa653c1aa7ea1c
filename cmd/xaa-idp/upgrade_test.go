package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// oldState returns a copy of testdata/upgrade/NAME: config.yaml and the
// state directory an older xaa-idp wrote with it, private as the IdP
// keeps them.
func oldState(t *testing.T, name string) (file, state string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "upgrade", name))); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, 0o700)
		}
		return os.Chmod(path, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "config.yaml"), filepath.Join(dir, "state")
}

// TestServe_KeysRotatedUnderAMovedClockBeforeAnUpgradeRetireInRealTime:
// until 2026-12-05 a rotation wrote retire_at on the IdP's clock, so one
// made under --clock 2030 wrote 2030 into keys/previous.json (the fixture
// is what xaa-idp 3073e02 wrote so). A later version read that as the
// real time and kept the rotated-out keys, private keys included,
// published until 2030. They are kept for the longest token lifetime from
// the first start that reads them, and that start writes it back, so that
// later starts do not put it off again. Each is listed with what it
// signed, as the key_rotation event that replaced it says.
func TestServe_KeysRotatedUnderAMovedClockBeforeAnUpgradeRetireInRealTime(t *testing.T) {
	file, state := oldState(t, "3073e02-clock2030")
	const overlap = time.Hour + 30*time.Second // lifetimes 1h, 1h, 5m, plus 30 s of skew
	var old struct {
		Keys []struct {
			KID string `json:"kid"`
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	// What the rotation's key_rotation events (the fixture's audit.jsonl)
	// say each key signed; previous.json did not say it then.
	use := map[string]string{"RS256": "[id_token]", "ES256": "[id_jag]", "EdDSA": "[id_jag]"}
	data, err := os.ReadFile(filepath.Join(state, "keys", "previous.json"))
	if err != nil || json.Unmarshal(data, &old) != nil || len(old.Keys) != 3 {
		t.Fatalf("the fixture's previous.json: %v %s", err, data)
	}
	started := time.Now()
	issuer, cmd, stderr := startOnAddr(t, file, state, "127.0.0.1:0")
	retireAt := map[string]string{}
	for round := range 2 {
		var keys keysListing
		getJSON(t, issuer+"/admin/api/keys", &keys)
		for _, o := range old.Keys {
			var got *listedKey
			for i := range keys.Keys {
				if keys.Keys[i].KID == o.KID {
					got = &keys.Keys[i]
				}
			}
			if got == nil || got.Status != "previous" {
				t.Errorf("start %d: /admin/api/keys lists %s as %+v, want previous for the overlap\n%s", round+1, o.KID, got, stderr)
				continue
			}
			if fmt.Sprint(got.Use) != use[o.Alg] {
				t.Errorf("start %d: /admin/api/keys lists %s with use %v, want %s as its key_rotation event says", round+1, o.KID, got.Use, use[o.Alg])
			}
			at, err := time.Parse(time.RFC3339Nano, got.RetireAt)
			if err != nil || at.After(time.Now().Add(overlap)) || at.Before(started.Add(overlap)) {
				t.Errorf("start %d: %s retires at %s, want within %v of the first start (%v)", round+1, o.KID, got.RetireAt, overlap, started)
			}
			if round == 0 {
				retireAt[o.KID] = got.RetireAt
			} else if got.RetireAt != retireAt[o.KID] {
				t.Errorf("the second start retires %s at %s, the first at %s", o.KID, got.RetireAt, retireAt[o.KID])
			}
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if round == 0 {
			time.Sleep(1100 * time.Millisecond) // a later start that re-capped would move retire_at
			issuer, cmd, stderr = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
		}
	}
}
