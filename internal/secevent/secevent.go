// Package secevent builds and verifies Security Event Tokens (RFC 8417)
// that announce the end of a user's access: CAEP session-revoked and RISC
// account-disabled, with the subject as an RFC 9493 iss_sub identifier. The
// IdP's push (package push) builds them; the demo authorization servers
// (resource/authserver) verify them. It knows nothing of HTTP.
package secevent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/internal/jwscrit"
	"github.com/xaa-idp/xaa-idp/internal/jwtreason"
	"github.com/xaa-idp/xaa-idp/internal/redact"
)

// Identifiers of the SETs this package speaks.
const (
	// Type is the JWS typ header of a SET (RFC 8417 section 2.3).
	Type = "secevent+jwt"
	// MediaType is the Content-Type of a pushed SET (RFC 8935 section 2).
	MediaType = "application/secevent+jwt"
	// SessionRevoked is the CAEP event of a session that ended, or of
	// access that was removed (OpenID CAEP 1.0 section 3.1).
	SessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	// AccountDisabled is the RISC event of a disabled account (OpenID RISC
	// Event Types 1.0 section 2.3).
	AccountDisabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	// FormatIssSub is the RFC 9493 section 3.2.4 subject identifier format.
	FormatIssSub = "iss_sub"
)

// SubjectID is an RFC 9493 "iss_sub" subject identifier: the user sub at
// the issuer iss.
type SubjectID struct {
	Format string `json:"format"`
	Iss    string `json:"iss"`
	Sub    string `json:"sub"`
}

// Event is the payload of one event of a SET: its subject, as CAEP puts
// it, and when it happened.
type Event struct {
	Subject        *SubjectID `json:"subject,omitempty"`
	EventTimestamp int64      `json:"event_timestamp,omitempty"`
}

// Claims are the claims of a SET (RFC 8417 section 2.2), with the subject
// both at the top level (sub_id, RFC 9493 section 4) and in the event.
type Claims struct {
	Issuer   string           `json:"iss"`
	IssuedAt int64            `json:"iat"`
	ID       string           `json:"jti"`
	Audience string           `json:"aud"`
	SubID    SubjectID        `json:"sub_id"`
	Events   map[string]Event `json:"events"`
}

// New returns the claims of a SET from issuer to audience about the user
// sub at issuer: one event of eventType that happened at happened, issued
// at iat.
func New(issuer, audience, jti, eventType, sub string, happened, iat time.Time) Claims {
	subject := SubjectID{Format: FormatIssSub, Iss: issuer, Sub: sub}
	return Claims{
		Issuer: issuer, IssuedAt: iat.Unix(), ID: jti, Audience: audience, SubID: subject,
		Events: map[string]Event{eventType: {Subject: &subject, EventTimestamp: happened.Unix()}},
	}
}

// Error is a refusal of a SET, with its RFC 8935 section 2.3 error code.
type Error struct {
	Code        string `json:"err"`
	Description string `json:"description"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// RFC 8935 section 2.4 error codes.
const (
	ErrInvalidRequest       = "invalid_request"
	ErrInvalidKey           = "invalid_key"
	ErrInvalidIssuer        = "invalid_issuer"
	ErrInvalidAudience      = "invalid_audience"
	ErrAuthenticationFailed = "authentication_failed"
)

// MaxQuotedBytes bounds each value a refusal quotes (the SET's issuer,
// audience, typ and kid, a parse error): the audit's bound
// (audit.MaxTextBytes), cut as it cuts, "…[truncated N bytes]" at the end
// (redact.TruncateTo). A SET is the sender's to fill, up to the
// recipient's body limit; without the cut, a description sent back all
// of it.
const MaxQuotedBytes = 512

// refuse is the error of a refused SET, its description formatted with
// each string or error in args cut to MaxQuotedBytes.
func refuse(code, format string, args ...any) *Error {
	for i, a := range args {
		switch a := a.(type) {
		case string:
			args[i] = redact.TruncateTo(a, MaxQuotedBytes)
		case error:
			args[i] = redact.TruncateTo(a.Error(), MaxQuotedBytes)
		}
	}
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// Keys returns the public keys of a trusted issuer that may have signed a
// JWS with kid; it fails for an issuer that is not trusted with
// ErrUntrusted.
type Keys func(ctx context.Context, issuer, kid string) ([]jose.JSONWebKey, error)

// ErrUntrusted is what Keys returns for an issuer it does not trust.
var ErrUntrusted = errors.New("untrusted issuer")

// Want is what Verify checks a SET against.
type Want struct {
	// Audience is the recipient's own identifier, which aud must hold.
	Audience string
	// Now is the recipient's time; MaxAge is how old, and Skew how far in
	// the future, iat may be.
	Now          time.Time
	MaxAge, Skew time.Duration
}

// Verified is a SET that passed Verify: its claims and the one event of a
// type this package knows, with its subject.
type Verified struct {
	Claims
	// Type is SessionRevoked or AccountDisabled.
	Type string
	// Subject is the user: the event's subject, else sub_id.
	Subject SubjectID
}

// algorithms are the signature algorithms accepted: asymmetric only, so
// that "none" and HMAC never pass (RFC 8725 section 3.1).
var algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA}

// Verify checks a SET as RFC 8417 section 4 and RFC 8935 section 2 ask: a
// JWS with typ secevent+jwt, iss a trusted issuer (before any key is
// fetched), a signature by one of its keys, aud the recipient, iat fresh,
// a jti, and an event this package knows whose subject is an iss_sub of
// the issuer. jti replay is the caller's to check.
func Verify(ctx context.Context, raw string, keys Keys, want Want) (*Verified, *Error) {
	if strings.Count(raw, ".") != 2 {
		return nil, refuse(ErrInvalidRequest, "the SET is not a compact JWS (three base64url parts, RFC 7515 section 7.1)")
	}
	var hdr struct {
		Typ string `json:"typ"`
	}
	b, err := base64.RawURLEncoding.DecodeString(raw[:strings.IndexByte(raw, '.')])
	if err != nil || json.Unmarshal(b, &hdr) != nil {
		return nil, refuse(ErrInvalidRequest, "the SET's JOSE header is not base64url JSON")
	}
	if !strings.EqualFold(hdr.Typ, Type) && !strings.EqualFold(hdr.Typ, MediaType) {
		return nil, refuse(ErrInvalidRequest, "typ %q is not %q (RFC 8417 section 2.3)", hdr.Typ, Type)
	}
	tok, err := jwt.ParseSigned(raw, algorithms)
	if err != nil {
		return nil, refuse(ErrInvalidRequest, "not a signed JWT with an accepted algorithm (ES256, RS256, EdDSA): %s", jwtreason.Parse(raw, err))
	}
	if err := jwscrit.Check(tok.Headers[0]); err != nil {
		return nil, refuse(ErrInvalidRequest, "the SET's %v", err)
	}
	var c struct {
		Claims
		Audience jwt.Audience `json:"aud"`
		// A NumericDate, which may have a fraction (RFC 7519 section
		// 2), and nil when absent: 0 is the first second of the IdP's
		// clock, not a missing iat.
		IssuedAt *jwt.NumericDate `json:"iat"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, refuse(ErrInvalidRequest, "the SET's claims are malformed: %s", jwtreason.Claims(raw, err))
	}
	candidates, err := keys(ctx, c.Issuer, tok.Headers[0].KeyID)
	if errors.Is(err, ErrUntrusted) {
		return nil, refuse(ErrInvalidIssuer, "iss %q is not an issuer this recipient trusts", c.Issuer)
	}
	if err != nil || len(candidates) == 0 {
		return nil, refuse(ErrInvalidKey, "no key of %s verifies kid %q: %v", c.Issuer, tok.Headers[0].KeyID, err)
	}
	verified := false
	for _, k := range candidates {
		if tok.Claims(k.Key, &c) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, refuse(ErrAuthenticationFailed, "the signature does not verify with the keys of %s", c.Issuer)
	}
	if !slices.Contains(c.Audience, want.Audience) {
		return nil, refuse(ErrInvalidAudience, "aud %s does not name this recipient (%s)", fmt.Sprintf("%q", []string(c.Audience)), want.Audience)
	}
	if c.IssuedAt == nil {
		return nil, refuse(ErrInvalidRequest, "iat is missing (RFC 8417 section 2.2)")
	}
	iat := c.IssuedAt.Time()
	c.Claims.IssuedAt = iat.Unix()
	switch {
	case iat.After(want.Now.Add(want.Skew)):
		return nil, refuse(ErrInvalidRequest, "iat %s is in the future (now %s)", iat.UTC().Format(time.RFC3339), want.Now.UTC().Format(time.RFC3339))
	case iat.Before(want.Now.Add(-want.MaxAge)):
		return nil, refuse(ErrInvalidRequest, "iat %s is older than %s (now %s)", iat.UTC().Format(time.RFC3339), want.MaxAge, want.Now.UTC().Format(time.RFC3339))
	case c.ID == "":
		return nil, refuse(ErrInvalidRequest, "jti is missing (RFC 8417 section 2.2)")
	}
	v := &Verified{Claims: c.Claims}
	v.Audience = want.Audience
	for _, typ := range []string{AccountDisabled, SessionRevoked} {
		if ev, ok := c.Events[typ]; ok {
			v.Type, v.Subject = typ, c.SubID
			if ev.Subject != nil {
				v.Subject = *ev.Subject
			}
			break
		}
	}
	switch {
	case v.Type == "":
		return nil, refuse(ErrInvalidRequest, "events holds neither %s nor %s", SessionRevoked, AccountDisabled)
	case v.Subject.Format != FormatIssSub || v.Subject.Sub == "":
		return nil, refuse(ErrInvalidRequest, "the subject is not an %s identifier with a sub (RFC 9493 section 3.2.4)", FormatIssSub)
	case v.Subject.Iss != c.Issuer:
		return nil, refuse(ErrInvalidRequest, "the subject's iss %q is not the SET's issuer %q", v.Subject.Iss, c.Issuer)
	}
	return v, nil
}
