package signer

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
)

// Key rotation: a rotation makes a new key current for each algorithm in
// use, so that new ID tokens and ID-JAGs are signed with it at once, and
// keeps the old public key in JWKS for the overlap the caller gives (the
// longest token lifetime), so that every token signed before the rotation
// verifies until it expires. The old key then retires, by the wall clock:
// retire_at is the real time of the rotation plus the overlap, whatever
// the IdP's clock reads. Moving the IdP's clock ahead past the overlap
// retires it too (previousKey).
//
// A verifier that caches JWKS learns the new key by refetching on an
// unknown kid (OIDC Core section 10.1.1) and at the latest when its copy
// expires (the IdP's jwks_uri says for how long with Cache-Control
// max-age); it never loses a key it still needs,
// because the old key stays published for longer than any token signed
// with it lives.

// Rotation reports one key that Rotate replaced.
type Rotation struct {
	Alg    string   `json:"alg"`
	Use    []string `json:"use"` // "id_token", "id_jag": what the key signed
	OldKID string   `json:"old_kid"`
	NewKID string   `json:"new_kid"`
	// RetireAt is when the old key leaves JWKS, on the wall clock (or
	// earlier, if the IdP's clock is moved ahead past the overlap).
	RetireAt time.Time `json:"retire_at"`
}

// KeyInfo describes one published signing key.
type KeyInfo struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
	// Status is "current" (it signs) or "previous" (it only verifies,
	// until RetireAt).
	Status string `json:"status"`
	// Use is what a current key signs, and what a previous key signed
	// (absent for a key a start found unused in the state directory).
	Use      []string   `json:"use,omitempty"`
	RetireAt *time.Time `json:"retire_at,omitempty"`
}

// Keys lists the published signing keys, current ones first.
func (r *Ring) Keys() []KeyInfo {
	r.wait()
	now, wall := r.now(), r.wall()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []KeyInfo
	uses := func(k *Key) []string {
		var u []string
		if k == r.idToken {
			u = append(u, "id_token")
		}
		if k == r.idJAG {
			u = append(u, "id_jag")
		}
		return u
	}
	out = append(out, KeyInfo{KID: r.idToken.id, Alg: string(r.idToken.alg), Status: "current", Use: uses(r.idToken)})
	if r.idJAG != r.idToken {
		out = append(out, KeyInfo{KID: r.idJAG.id, Alg: string(r.idJAG.alg), Status: "current", Use: uses(r.idJAG)})
	}
	for _, k := range r.sortedOthers() {
		// It signs the ID-JAGs of the servers whose signing_alg it is.
		out = append(out, KeyInfo{KID: k.id, Alg: string(k.alg), Status: "current", Use: []string{"id_jag"}})
	}
	for _, p := range r.previous {
		if !p.retired(now, wall) && !r.isCurrent(p.key) {
			at := p.retireAt.UTC()
			out = append(out, KeyInfo{KID: p.key.id, Alg: string(p.key.alg), Status: "previous", Use: p.use, RetireAt: &at})
		}
	}
	return out
}

// sortedOthers returns the keys of the servers' own algorithms, by
// algorithm; r.mu is held.
func (r *Ring) sortedOthers() []*Key {
	keys := slices.Collect(maps.Values(r.others))
	slices.SortFunc(keys, func(a, b *Key) int { return strings.Compare(string(a.alg), string(b.alg)) })
	return keys
}

// isCurrent reports whether k is one of the current keys; r.mu is held.
func (r *Ring) isCurrent(k *Key) bool {
	if k.id == r.idToken.id || k.id == r.idJAG.id {
		return true
	}
	o := r.others[k.alg]
	return o != nil && o.id == k.id
}

// Rotate implements Signer. It replaces every current key, those of the
// servers' own signing_alg included, generates the new keys outside the
// lock (an RSA key takes tens of milliseconds), has record record the
// rotations, persists the keys when the ring has a state directory, then
// swaps them in. Recording first means a key on disk or in use always
// has its record, even if the process dies right after writing it. An
// error after record returns the rotations with it: they were recorded
// and not (all) made.
func (r *Ring) Rotate(overlap time.Duration, record func([]Rotation) error) ([]Rotation, error) {
	r.wait()
	r.rotateMu.Lock()
	defer r.rotateMu.Unlock()

	r.mu.Lock()
	r.noteSigned() // a key Ensure made since has signed ID-JAGs
	oldIDToken, oldIDJAG := r.idToken, r.idJAG
	oldOthers := r.sortedOthers()
	previous := slices.Clone(r.previous)
	r.mu.Unlock()
	isOld := func(k *Key) bool {
		return k.id == oldIDToken.id || k.id == oldIDJAG.id || slices.ContainsFunc(oldOthers, func(o *Key) bool { return o.id == k.id })
	}

	now, wall := r.now(), r.wall()
	retireAt, clockRetireAt := wall.Add(overlap), now.Add(overlap)
	// Keys already retired are dropped; the ones just replaced join.
	previous = slices.DeleteFunc(previous, func(p previousKey) bool {
		return p.retired(now, wall) || isOld(p.key)
	})
	var rotations []Rotation
	replaced := map[*Key]*Key{}
	for _, old := range append([]*Key{oldIDToken, oldIDJAG}, oldOthers...) {
		if _, done := replaced[old]; done {
			continue
		}
		s, err := generateKey(string(old.alg))
		if err != nil {
			return nil, err
		}
		k, err := newSigningKey(string(old.alg), s)
		if err != nil {
			return nil, err
		}
		replaced[old] = k
		rot := Rotation{Alg: string(old.alg), OldKID: old.id, NewKID: k.id, RetireAt: retireAt}
		if old == oldIDToken {
			rot.Use = append(rot.Use, "id_token")
		}
		if old == oldIDJAG || slices.Contains(oldOthers, old) {
			rot.Use = append(rot.Use, "id_jag")
		}
		previous = append(previous, previousKey{key: old, retireAt: retireAt, clockRetireAt: clockRetireAt, use: slices.Clone(r.signed[old.id])})
		rotations = append(rotations, rot)
	}
	if record != nil {
		if err := record(rotations); err != nil {
			return nil, err
		}
	}
	if r.stateDir != "" {
		// The previous keys first: a crash before the new current keys are
		// written leaves the old key current and also listed as previous,
		// which Published tolerates; the other order could lose a key
		// that live tokens need.
		if err := writePreviousKeys(r.stateDir, previous); err != nil {
			return rotations, err
		}
		for _, k := range replaced {
			if err := writePrivateKey(currentKeyPath(r.stateDir, string(k.alg)), k.priv); err != nil {
				return rotations, err
			}
		}
	}
	if r.cacheDir != "" {
		// The next start takes the cached RS256 key: the rotated-in one,
		// not the one this rotation retires.
		for _, k := range replaced {
			if k.alg == jose.RS256 {
				if err := writePrivateKey(cachedKeyPath(r.cacheDir, "RS256"), k.priv); err != nil {
					slog.Warn("cannot keep the rotated signing key for the next start", "alg", k.alg, "err", err)
				}
			}
		}
	}
	r.mu.Lock()
	r.idToken, r.idJAG, r.previous = replaced[oldIDToken], replaced[oldIDJAG], previous
	for _, old := range oldOthers {
		r.others[old.alg] = replaced[old]
	}
	for old := range replaced {
		delete(r.signed, old.id)
	}
	r.noteSigned()
	r.mu.Unlock()
	return rotations, nil
}

// LabelPrevious records what the previous key kid signed (use) when its
// record does not say (previous.json written before 2026-12-06): Keys
// lists it so, and the next write of previous.json keeps it.
func (r *Ring) LabelPrevious(kid string, use []string) {
	r.wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.previous {
		if p := &r.previous[i]; p.key.id == kid && len(p.use) == 0 {
			p.use = slices.Clone(use)
		}
	}
}

// previousKeysFile holds, under the state directory, the keys a rotation
// replaced, with their retirement times.
const previousKeysFile = "previous.json"

type previousKeyRecord struct {
	KID      string    `json:"kid"`
	Alg      string    `json:"alg"`
	RetireAt time.Time `json:"retire_at"` // on the wall clock
	// ClockRetireAt is the retirement on the IdP's clock (absent from
	// files written before it was kept: RetireAt, read as both).
	ClockRetireAt *time.Time `json:"clock_retire_at,omitempty"`
	// Use is what the key signed: "id_token", "id_jag" (absent from files
	// written before it was kept).
	Use []string `json:"use,omitempty"`
	PEM string   `json:"pem"` // PKCS #8 private key
}

func writePreviousKeys(stateDir string, keys []previousKey) error {
	recs := []previousKeyRecord{}
	for _, p := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(p.key.priv)
		if err != nil {
			return err
		}
		rec := previousKeyRecord{
			KID: p.key.id, Alg: string(p.key.alg), RetireAt: p.retireAt.UTC(), Use: p.use,
			PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		}
		if !p.clockRetireAt.IsZero() {
			at := p.clockRetireAt.UTC()
			rec.ClockRetireAt = &at
		}
		recs = append(recs, rec)
	}
	data, err := json.MarshalIndent(map[string]any{"keys": recs}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Join(stateDir, "keys")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	_, err = atomicfile.WritePrivate(filepath.Join(dir, previousKeysFile), append(data, '\n'))
	return err
}

// notPreviousKeys says, in plain words, why data, a previousKeysFile
// that does not parse, is not one.
func notPreviousKeys(data []byte) string {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "is empty"
	case !json.Valid(data):
		return "not the list of keys the IdP wrote there: damaged or cut short"
	}
	return `not the list of keys the IdP wrote there: {"keys": [...]} with each key's kid, alg, retire_at and pem`
}

// damagedPreviousHint says what to do about a previousKeysFile that
// cannot be read.
const damagedPreviousHint = "the state directory keeps the keys a rotation replaced there, until they retire: restore the file from a backup, or remove it (the tokens signed with those keys then no longer verify)"

// readPreviousKeys loads the previous keys not yet retired at wall. Those
// that have retired are removed from the file too: a private key stays in
// the state directory only while tokens it signed may be alive. One
// retired on the IdP's clock alone (moved ahead) is kept: it is published
// again if the clock is moved back, or at a start on the real clock.
// A record without clock_retire_at was written before 2026-12-05, when
// retire_at was on the IdP's clock: one that a rotation under a clock
// moved ahead put years away retires overlap from wall instead (the
// tokens it signed cannot outlive that), written back so that the next
// start does not put it off again.
func readPreviousKeys(stateDir string, wall time.Time, overlap time.Duration) ([]previousKey, error) {
	path := filepath.Join(stateDir, "keys", previousKeysFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		Keys []previousKeyRecord `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		// Not encoding/json's words ("unexpected end of JSON input"), as
		// until 2026-12-07.
		return nil, fmt.Errorf("%s: %s; %s", path, notPreviousKeys(data), damagedPreviousHint)
	}
	var out []previousKey
	rewrite := false
	for _, rec := range doc.Keys {
		p := previousKey{retireAt: rec.RetireAt, clockRetireAt: rec.RetireAt, use: rec.Use}
		if rec.ClockRetireAt != nil {
			p.clockRetireAt = *rec.ClockRetireAt
		} else if latest := wall.Add(overlap); overlap > 0 && p.retireAt.After(latest) {
			p.retireAt = latest
			rewrite = true
		}
		if !wall.Before(p.retireAt) {
			rewrite = true
			continue
		}
		block, _ := pem.Decode([]byte(rec.PEM))
		if block == nil {
			return nil, fmt.Errorf("%s: key %q: its private key (\"pem\") is missing or damaged; %s", path, rec.KID, damagedPreviousHint)
		}
		priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: key %q: its private key (\"pem\") is damaged; %s", path, rec.KID, damagedPreviousHint)
		}
		k, err := signerKey(rec.Alg, priv)
		if err != nil {
			return nil, fmt.Errorf("%s: key %q: %v; %s", path, rec.KID, err, damagedPreviousHint)
		}
		p.key = k
		out = append(out, p)
	}
	if rewrite {
		if err := writePreviousKeys(stateDir, out); err != nil {
			slog.Warn("cannot rewrite the previous signing keys of the state directory (without the retired ones, retirement on the real clock)", "file", path, "err", err)
		}
	}
	return out, nil
}

func signerKey(alg string, priv any) (*Key, error) {
	s, ok := priv.(crypto.Signer)
	if kind, known := algKeyKind[alg]; !known {
		return nil, fmt.Errorf("its algorithm (\"alg\") %q is none of RS256, ES256 and EdDSA", alg)
	} else if !ok || !algFits(alg, s) {
		return nil, fmt.Errorf("its private key is %s, not the %s key (%s) its algorithm (\"alg\") needs", keyKind(priv), alg, kind)
	}
	return newSigningKey(alg, s)
}
