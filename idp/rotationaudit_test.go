package idp_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

const rotationConfig = `
signing: {id_token_alg: RS256, id_jag_alg: ES256}
users: [{username: alice, password: alice-pw, admin: true}]
`

// startStateful starts the IdP on a state directory and a file audit log;
// the test's cleanup stops it, and so does stop, as a process that dies.
func startStateful(t *testing.T, state, auditFile string) (p *testIdP, stop func()) {
	t.Helper()
	cfg, err := policy.Parse([]byte(rotationConfig), "rotation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(audit.Options{Path: auditFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	p = startIdP(t, cfg, func(o *idp.Options) { o.Audit, o.StateDir = log, state })
	p.Audit = log // startIdP's is the log it made, which o.Audit replaced
	return p, func() { p.Close(); log.Close() }
}

// keyFiles reads the state directory's key files, by name.
func keyFiles(t *testing.T, state string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(state, "keys", "*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(data)
	}
	return out
}

func rotationEvents(p *testIdP) []audit.Event {
	return p.Audit.Query(audit.Filter{Type: audit.TypeKeyRotation, Limit: audit.MaxQueryLimit})
}

// A rotation whose key_rotation events cannot be appended is not made:
// the keys on disk and in JWKS stay as they were, so that no key is ever
// in use, or on disk for the next start, without its event.
func TestRotation_NotRecordedIsNotMade(t *testing.T) {
	dir := t.TempDir()
	state, auditFile := filepath.Join(dir, "state"), filepath.Join(dir, "audit.jsonl")
	p, _ := startStateful(t, state, auditFile)
	before, kids := keyFiles(t, state), p.publishedKids(t)
	p.Audit.Close() // the audit log fails every append from now on
	if _, err := p.RotateKeys("alice"); err == nil {
		t.Fatal("RotateKeys without an audit log: no error")
	}
	if after := keyFiles(t, state); len(after) != len(before) || !equalMaps(after, before) {
		t.Errorf("key files after an unrecorded rotation: %v, want as before: %v", slices.Sorted(mapKeys(after)), slices.Sorted(mapKeys(before)))
	}
	if got := p.publishedKids(t); !slices.Equal(got, kids) {
		t.Errorf("JWKS after an unrecorded rotation: %v, want %v", got, kids)
	}
}

// TestRotation_RecordedButNotWrittenIsSettledAtStart stands for a process
// that died after appending a rotation's events and before writing its
// keys: the next start appends a key_rotation with outcome error for each,
// once.
func TestRotation_RecordedButNotWrittenIsSettledAtStart(t *testing.T) {
	dir := t.TempDir()
	state, auditFile := filepath.Join(dir, "state"), filepath.Join(dir, "audit.jsonl")
	p, stop := startStateful(t, state, auditFile)
	before := keyFiles(t, state)
	rotations, err := p.RotateKeys("alice")
	if err != nil || len(rotations) != 2 {
		t.Fatalf("rotate: %v %+v", err, rotations)
	}
	stop()
	// The key files as they were before the writes the process never made.
	if err := os.RemoveAll(filepath.Join(state, "keys")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(state, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range before {
		if err := os.WriteFile(filepath.Join(state, "keys", name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	p, stop = startStateful(t, state, auditFile)
	var settled []string
	for _, ev := range rotationEvents(p) {
		if ev.Outcome == audit.Error {
			if ev.Error != "not_written" || ev.Admin != "alice" || !strings.Contains(ev.Reason, "found at start") {
				t.Errorf("the settling event: %+v", ev)
			}
			settled = append(settled, ev.Details["new_kid"].(string))
		}
	}
	var want []string
	for _, r := range rotations {
		want = append(want, r.NewKID)
	}
	if !slices.Equal(slices.Sorted(slices.Values(settled)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("settled %v at start, want the rotations to %v", settled, want)
	}
	stop()
	p, _ = startStateful(t, state, auditFile)
	if n := len(rotationEvents(p)); n != 4 {
		t.Errorf("%d key_rotation events after a second start, want the 2 rotations and their 2 errors", n)
	}
}

// A rotation that was written is not reported unwritten at the next start.
func TestRotation_WrittenIsNotSettledAtStart(t *testing.T) {
	dir := t.TempDir()
	state, auditFile := filepath.Join(dir, "state"), filepath.Join(dir, "audit.jsonl")
	p, stop := startStateful(t, state, auditFile)
	if _, err := p.RotateKeys("alice"); err != nil {
		t.Fatal(err)
	}
	stop()
	p, _ = startStateful(t, state, auditFile)
	for _, ev := range rotationEvents(p) {
		if ev.Outcome != audit.Allowed {
			t.Errorf("a written rotation reported at start: %+v", ev)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestRotation_NotWrittenIsNotCounted: a rotation recorded whose keys
// could not be written was not made, and xaa_idp_key_rotations_total
// does not count it; a rotation made counts its keys, once each. Until
// 2026-12-06 the failed one counted each key twice: its key_rotation
// event and the error event that follows it.
func TestRotation_NotWrittenIsNotCounted(t *testing.T) {
	dir := t.TempDir()
	state, auditFile := filepath.Join(dir, "state"), filepath.Join(dir, "audit.jsonl")
	p, _ := startStateful(t, state, auditFile)
	keys := filepath.Join(state, "keys")
	if err := os.Rename(keys, keys+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keys, nil, 0o600); err != nil { // a file: no key can be written in it, even by root
		t.Fatal(err)
	}
	if _, err := p.RotateKeys("alice"); err == nil {
		t.Fatal("a rotation whose keys cannot be written: no error")
	}
	if n := scrape(t, p.URL)["xaa_idp_key_rotations_total"]; n != 0 {
		t.Errorf("xaa_idp_key_rotations_total = %v after a rotation not made, want 0", n)
	}
	if err := os.Remove(keys); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(keys+".away", keys); err != nil {
		t.Fatal(err)
	}
	rotations, err := p.RotateKeys("alice")
	if err != nil {
		t.Fatal(err)
	}
	if n := scrape(t, p.URL)["xaa_idp_key_rotations_total"]; n != float64(len(rotations)) {
		t.Errorf("xaa_idp_key_rotations_total = %v after a rotation of %d keys, want %d", n, len(rotations), len(rotations))
	}
}
