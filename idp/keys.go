package idp

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp/signer"
	"github.com/xaa-idp/xaa-idp/policy"
)

// KeyRotation reports one key that [Server.RotateKeys] replaced.
type KeyRotation = signer.Rotation

// KeyInfo describes one published signing key.
type KeyInfo = signer.KeyInfo

// KeyOverlap is how long a key replaced by a rotation stays in JWKS: the
// longest lifetime of a token it may have signed (ID token, access token,
// ID-JAG), plus the clock skew verifiers allow on exp.
func (s *Server) KeyOverlap() time.Duration { return keyOverlap(s.Config()) }

// keyOverlap is the KeyOverlap of the configuration c.
func keyOverlap(c *policy.Config) time.Duration {
	l := c.Lifetimes
	return max(l.IDToken.D(), l.AccessToken.D(), l.IDJAG.D()) + subjectSkew
}

// RotateKeys replaces the signing key of each algorithm in use with a new
// one and records a key_rotation event per key, naming admin. The events
// are appended, durably, before the new keys are written (with a state
// directory) or used: a key on disk or in use always has its event, even
// if the process dies right after writing it. If the events cannot be
// appended, nothing is rotated; if the keys cannot then be written, a
// key_rotation with outcome error follows each event, and if the process
// dies first, the next start appends it (reconcileKeys).
func (s *Server) RotateKeys(admin string) ([]KeyRotation, error) {
	rotations, err := s.signer.Rotate(s.KeyOverlap(), func(rotations []KeyRotation) error {
		return s.recordRotations(admin, rotations)
	})
	if err != nil && rotations != nil {
		for _, rot := range rotations {
			s.rotationNotWritten(admin, rot, "the rotation was recorded, but its keys could not be written, so it was not made: "+err.Error())
		}
		return nil, fmt.Errorf("idp: key rotation recorded but not made: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("idp: key rotation: %w", err)
	}
	// Counted once made, not from the events: those of a rotation whose keys
	// were not written are followed by an error event each.
	s.metrics.keyRotations.Add(float64(len(rotations)))
	return rotations, nil
}

// recordRotations appends the key_rotation events of a rotation about to
// be made; an error stops it, and the events already appended get their
// errors. The errors of earlier rotations not made that the audit log
// could not take come first: reconcileKeys settles only the newest
// rotation of each algorithm at the next start.
func (s *Server) recordRotations(admin string, rotations []KeyRotation) error {
	s.unsettledMu.Lock()
	for len(s.unsettled) > 0 {
		if _, err := s.audit.Append(s.unsettled[0]); err != nil {
			s.unsettledMu.Unlock()
			return fmt.Errorf("the audit log could not be written, so no key was rotated: %w", err)
		}
		s.unsettled = s.unsettled[1:]
	}
	s.unsettled = nil
	s.unsettledMu.Unlock()
	for i, rot := range rotations {
		ev := audit.Event{
			Type:    audit.TypeKeyRotation,
			Outcome: audit.Allowed,
			Admin:   admin,
			Reason: fmt.Sprintf("%s key %s replaced by %s; the old key stays in JWKS until %s",
				rot.Alg, rot.OldKID, rot.NewKID, rot.RetireAt.UTC().Format(time.RFC3339)),
			Details: rotationDetails(rot),
		}
		if _, err := s.audit.Append(ev); err != nil {
			for _, done := range rotations[:i] {
				s.rotationNotWritten(admin, done, "the rotation was recorded in part, but the audit log could not take the rest, so no key was rotated: "+err.Error())
			}
			return fmt.Errorf("the audit log could not be written, so no key was rotated: %w", err)
		}
	}
	return nil
}

func rotationDetails(rot KeyRotation) map[string]any {
	return map[string]any{
		"alg": rot.Alg, "use": rot.Use, "old_kid": rot.OldKID, "new_kid": rot.NewKID,
		"retire_at": rot.RetireAt.UTC().Format(time.RFC3339),
	}
}

// rotationNotWritten appends the key_rotation with outcome error that
// follows a recorded rotation whose key was not written.
func (s *Server) rotationNotWritten(admin string, rot KeyRotation, reason string) {
	ev := audit.Event{
		Type: audit.TypeKeyRotation, Outcome: audit.Error, Error: "not_written", Admin: admin,
		Reason: audit.Truncate(reason), Details: rotationDetails(rot),
	}
	if _, err := s.audit.Append(ev); err != nil {
		slog.Error("audit log: the failure of a recorded key rotation was not recorded; it is appended before the next rotation", "new_kid", rot.NewKID, "err", err)
		s.unsettledMu.Lock()
		s.unsettled = append(s.unsettled, ev)
		s.unsettledMu.Unlock()
	}
}

// rotationUse is what the old key of a key_rotation event signed.
func rotationUse(ev audit.Event) []string {
	var use []string
	if list, ok := ev.Details["use"].([]any); ok {
		for _, u := range list {
			if u, ok := u.(string); ok {
				use = append(use, u)
			}
		}
	}
	return use
}

// labelPreviousKeys runs at start, with a state directory: a previous key
// whose record does not say what it signed (written before 2026-12-06)
// takes the use of the key_rotation event that replaced it, so that
// /admin/api/keys says it of every previous key.
func (s *Server) labelPreviousKeys() {
	unlabelled := map[string]bool{}
	for _, k := range s.keys.Keys() {
		if k.Status == "previous" && len(k.Use) == 0 {
			unlabelled[k.KID] = true
		}
	}
	if len(unlabelled) == 0 {
		return
	}
	for _, ev := range s.audit.Query(audit.Filter{Type: audit.TypeKeyRotation, Outcome: audit.Allowed, Limit: audit.MaxQueryLimit}) {
		oldKID, _ := ev.Details["old_kid"].(string)
		if use := rotationUse(ev); unlabelled[oldKID] && len(use) > 0 {
			s.keys.LabelPrevious(oldKID, use)
			delete(unlabelled, oldKID)
		}
	}
}

// reconcileKeys runs at start, with a state directory: a key_rotation the
// audit log recorded (the newest of its algorithm) whose new key is not
// published while its old key is still current is one the process died
// before writing; the key_rotation with outcome error that it could not
// append follows now.
func (s *Server) reconcileKeys() {
	published := map[string]string{} // kid → status
	for _, k := range s.keys.Keys() {
		published[k.KID] = k.Status
	}
	seen := map[string]bool{} // algorithms whose newest rotation was looked at
	// Newest first. A rotation's events come one per algorithm, so the
	// newest of each is the newest rotation's.
	for _, ev := range s.audit.Query(audit.Filter{Type: audit.TypeKeyRotation, Limit: audit.MaxQueryLimit}) {
		alg, _ := ev.Details["alg"].(string)
		if alg == "" || seen[alg] {
			continue
		}
		seen[alg] = true
		newKID, _ := ev.Details["new_kid"].(string)
		oldKID, _ := ev.Details["old_kid"].(string)
		if ev.Outcome != audit.Allowed || published[newKID] != "" || published[oldKID] != "current" {
			continue
		}
		rot := KeyRotation{Alg: alg, OldKID: oldKID, NewKID: newKID, Use: rotationUse(ev)}
		if t, ok := ev.Details["retire_at"].(string); ok {
			rot.RetireAt, _ = time.Parse(time.RFC3339, t)
		}
		s.rotationNotWritten(ev.Admin, rot, fmt.Sprintf("found at start: the rotation of %s key %s to %s was recorded, but the process stopped before the new key was written; %s is still current", alg, oldKID, newKID, oldKID))
	}
}

// warnMissingPreviousKeys runs at start, with a state directory: a key
// that a rotation replaced (a key_rotation the audit log recorded) is
// published until it retires, so that the tokens it signed verify. One
// that the state directory no longer holds before then was lost while
// the IdP was stopped: keys/previous.json removed, or a copy of the
// directory made while the IdP ran, which took previous.json before a
// rotation and the new current keys after it (README, "Backup and
// restore"). The tokens it signed are refused as signed by an unknown
// key; the log says why, once per key.
func (s *Server) warnMissingPreviousKeys(stateDir string) {
	published := map[string]bool{}
	for _, k := range s.keys.Keys() {
		published[k.KID] = true
	}
	now, wall := s.now(), time.Now()
	overlap := s.KeyOverlap()
	warned := map[string]bool{}
	for _, ev := range s.audit.Query(audit.Filter{Type: audit.TypeKeyRotation, Outcome: audit.Allowed, Limit: audit.MaxQueryLimit}) {
		oldKID, _ := ev.Details["old_kid"].(string)
		at, _ := ev.Details["retire_at"].(string)
		retireAt, err := time.Parse(time.RFC3339, at)
		// Retired on the wall clock, or on the IdP's (moved ahead), the
		// key is rightly gone. A retire_at more than an overlap away was
		// on the IdP's clock moved ahead (events of 2026-12-05 and
		// before), which the start that read previous.json put back to
		// an overlap from then: when that passed is not known here.
		if oldKID == "" || err != nil || published[oldKID] || warned[oldKID] ||
			!wall.Before(retireAt) || retireAt.After(wall.Add(overlap)) || !now.Before(ev.Time.Add(overlap)) {
			continue
		}
		warned[oldKID] = true
		alg, _ := ev.Details["alg"].(string)
		slog.Warn("a signing key that a rotation replaced is missing from the state directory: the ID tokens and ID-JAGs it signed before the rotation no longer verify (a refused token names it as an unknown key)",
			"kid", oldKID, "alg", alg, "rotated_at", ev.Time.UTC().Format(time.RFC3339), "would_retire_at", retireAt.UTC().Format(time.RFC3339),
			"file", filepath.Join(stateDir, "keys", "previous.json"),
			"hint", "the file was removed, or the state directory was copied while the IdP ran; restore a copy made with the IdP stopped, or let the tokens expire")
	}
}

// Keys lists the published signing keys, current ones first.
func (s *Server) Keys() []KeyInfo { return s.keys.Keys() }

// HeldKeys lists the private keys of files the IdP holds, in use or not
// (signer.Ring.Held): a process serving several tenants refuses to start
// when two of them hold one key.
func (s *Server) HeldKeys() []signer.HeldKey { return s.keys.Held() }
