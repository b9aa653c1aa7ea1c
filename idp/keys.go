package idp

import (
	"errors"
	"fmt"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp/signer"
)

// KeyRotation reports one key that [Server.RotateKeys] replaced.
type KeyRotation = signer.Rotation

// KeyInfo describes one published signing key.
type KeyInfo = signer.KeyInfo

// KeyOverlap is how long a key replaced by a rotation stays in JWKS: the
// longest lifetime of a token it may have signed (ID token, access token,
// ID-JAG), plus the clock skew verifiers allow on exp.
func (s *Server) KeyOverlap() time.Duration {
	l := s.Config().Lifetimes
	return max(l.IDToken.D(), l.AccessToken.D(), l.IDJAG.D()) + subjectSkew
}

// RotateKeys replaces the signing key of each algorithm in use with a new
// one and records a key_rotation event per key, naming admin. With a state
// directory the new keys, and the old ones until they retire, are written
// there before they are used.
func (s *Server) RotateKeys(admin string) ([]KeyRotation, error) {
	rotations, err := s.signer.Rotate(s.KeyOverlap())
	if err != nil {
		return nil, fmt.Errorf("idp: key rotation: %w", err)
	}
	for _, rot := range rotations {
		ev := audit.Event{
			Type:    audit.TypeKeyRotation,
			Outcome: audit.Allowed,
			Admin:   admin,
			Reason: fmt.Sprintf("%s key %s replaced by %s; the old key stays in JWKS until %s",
				rot.Alg, rot.OldKID, rot.NewKID, rot.RetireAt.UTC().Format(time.RFC3339)),
			Details: map[string]any{
				"alg": rot.Alg, "use": rot.Use, "old_kid": rot.OldKID, "new_kid": rot.NewKID,
				"retire_at": rot.RetireAt.UTC().Format(time.RFC3339),
			},
		}
		if _, aerr := s.audit.Append(ev); aerr != nil {
			err = errors.Join(err, aerr)
		}
	}
	if err != nil {
		return rotations, fmt.Errorf("idp: keys rotated, but the audit log could not be written: %w", err)
	}
	return rotations, nil
}

// Keys lists the published signing keys, current ones first.
func (s *Server) Keys() []KeyInfo { return s.keys.Keys() }
