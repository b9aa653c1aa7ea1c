package idp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/idp/signer"
	"github.com/xaa-idp/xaa-idp/internal/jwscrit"
	"github.com/xaa-idp/xaa-idp/internal/jwstyp"
	"github.com/xaa-idp/xaa-idp/internal/jwtreason"
)

const (
	// subjectSkew is the clock skew allowed on subject tokens: small, so that
	// a token expired a minute ago is refused (RFC 7519 section 4.1.4
	// allows "a small leeway").
	subjectSkew = 30 * time.Second
	// pastExp is how long after its exp a subject token, or a client
	// assertion, is refused for sure: the skew, which still takes it at
	// exp + subjectSkew, and a second, since a record (a used jti, an
	// ended login) is live only before its time. A record of one kept
	// that much past its exp outlives it.
	pastExp = subjectSkew + time.Second
	// maxVerifiedSubjects bounds the cache of verified ID tokens.
	maxVerifiedSubjects = 10000
)

var idTokenAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// verifiedIDToken is what the exchange needs from a subject ID token whose
// signature and issuer have been checked. Expiry and audience depend on the
// request (now, the client) and are checked on every use.
type verifiedIDToken struct {
	KeyID    string // with Alg, the key that signed it: a cached check holds only while it is published
	Alg      string
	Subject  string
	Audience []string
	Expiry   time.Time
	IssuedAt time.Time
	// NotBefore is the nbf claim, zero without one (our ID tokens carry
	// none; RFC 7519 section 4.1.5 still binds a token that has one).
	NotBefore time.Time
	AuthTime  time.Time
	// AuthorizedParty is the azp claim: with one, the token is only for
	// that client (OpenID Connect Core section 3.1.3.7, step 5).
	AuthorizedParty string
	// SessionID is the sid claim: the SSO session the token was issued
	// under, checked against the ended sessions on every use.
	SessionID string
	// UseKey identifies the token for single_use_subject: what was
	// signed, not how the JWS spells it (signedContentKey).
	UseKey string
}

// subject is the user an exchange is for, however the subject token came.
type subject struct {
	Sub      string
	AuthTime time.Time
	// key identifies a subject ID token for single_use_subject mode; ""
	// for a refresh token, a long-lived grant that the exchange reads but
	// never consumes (docs/configuration.md, "exchange").
	key string
	// sid is the SSO session of the login behind the token, "" when the
	// token names none.
	sid string
	// refusedFrom is when an ID token is refused as expired (the second
	// after exp + subjectSkew, its last instant accepted); zero for a
	// refresh token. A single use is remembered at least until then.
	refusedFrom time.Time
}

type idTokenClaims struct {
	jwt.Claims
	AuthTime        *jwt.NumericDate `json:"auth_time,omitempty"`
	SessionID       string           `json:"sid,omitempty"`
	AuthorizedParty string           `json:"azp,omitempty"`
}

// verifyIDToken checks a subject ID token (draft section 4.3.3, step 2):
// signed by one of our keys, our issuer, not expired beyond a small skew,
// and issued to the client that presents it. At zero-touch login the same
// ID token is exchanged once per MCP server, so the signature check is
// cached until the token expires; the cache never decides expiry or
// audience.
func (s *Server) verifyIDToken(raw, clientID string) (subject, *oauthError) {
	h := tokenHash(raw)
	v, ok := s.subjects.Get(h)
	if !ok {
		var err *oauthError
		if v, err = s.verifyIDTokenSignature(raw); err != nil {
			return subject{}, err
		}
		s.subjects.Put(h, v, v.Expiry.Add(subjectSkew))
	} else if s.keys.Lookup(v.KeyID, v.Alg) == nil {
		// The signing key retired since the token was first checked.
		s.subjects.Delete(h)
		return subject{}, s.unknownKey(v.KeyID, v.Alg, s.issuer)
	}
	now := s.now()
	// Each refusal says the time it names and the one it was judged at,
	// on the IdP's clock, which an admin may have moved.
	// Made only for a refusal: an exchange's path formats no time.
	judged := func() string { return fmt.Sprintf("now %s on the IdP's clock, skew %s", stamp(now), subjectSkew) }
	if now.After(v.Expiry.Add(subjectSkew)) {
		return subject{}, s.subjectError("the subject ID token expired at %s (exp; %s); log the user in again", stamp(v.Expiry), judged())
	}
	if v.IssuedAt.After(now.Add(subjectSkew)) {
		return subject{}, s.subjectError("the subject ID token was issued in the future, at %s (iat; %s)", stamp(v.IssuedAt), judged())
	}
	if v.NotBefore.After(now.Add(subjectSkew)) {
		return subject{}, s.subjectError("the subject ID token is not valid before %s (nbf; %s)", stamp(v.NotBefore), judged())
	}
	if v.AuthTime.After(now.Add(subjectSkew)) {
		// A login to come would meet every max_auth_age, and the
		// ID-JAG would carry it on.
		return subject{}, s.subjectError("the subject ID token's login is in the future, at %s (auth_time; %s)", stamp(v.AuthTime), judged())
	}
	if v.SessionID != "" && s.idTokenOfEndedSession(v.SessionID, v.IssuedAt) {
		// invalid_grant whatever exchange.subject_token_error says: the
		// token is sound, the grant behind it was withdrawn (RFC 6749
		// section 5.2).
		// The token is ours and sound: its subject goes to the audit with
		// the refusal, so that filtering by user finds it.
		return subject{Sub: v.Subject}, invalidGrant("the SSO session of the subject ID token was ended (end_session); log the user in again")
	}
	if at, revoked := s.idTokenOfRevokedLogin(v); revoked {
		return subject{Sub: v.Subject}, invalidGrant("the login of the subject ID token was revoked at %s (its authorization code was replayed, or its refresh token reused or revoked: RFC 9700 section 4.14.2), and its ID tokens with it; log the user in again",
			at.UTC().Format(time.RFC3339))
	}
	if !slices.Contains(v.Audience, clientID) {
		return subject{Sub: v.Subject}, s.subjectError("audience validation failed: the subject ID token was issued to %v, not to the authenticated client %q", v.Audience, clientID)
	}
	if v.AuthorizedParty != "" && v.AuthorizedParty != clientID {
		return subject{Sub: v.Subject}, s.subjectError("audience validation failed: the subject ID token's azp is %q, not the authenticated client %q", v.AuthorizedParty, clientID)
	}
	return subject{Sub: v.Subject, AuthTime: v.AuthTime, key: v.UseKey, sid: v.SessionID, refusedFrom: v.Expiry.Add(pastExp)}, nil
}

func (s *Server) verifyIDTokenSignature(raw string) (*verifiedIDToken, *oauthError) {
	tok, err := jwt.ParseSigned(raw, idTokenAlgs)
	if err != nil {
		if strings.Count(raw, ".") == 4 {
			// Five parts: a JWE, most often the login's access token
			// sent in place of its ID token.
			return nil, s.subjectError("subject_token is an encrypted token (a JWE, such as this IdP's access tokens), not an ID token: send the id_token of the token response")
		}
		if quoted(raw) {
			return nil, s.subjectError("%s", quotedTokenMessage("id_token"))
		}
		if strings.HasPrefix(raw, refreshTokenPrefix) {
			return nil, s.subjectError("subject_token is shaped like a refresh token of this IdP, not an ID token: send it with subject_token_type %s", tokenTypeRefresh)
		}
		return nil, s.subjectError("subject_token is not a signed JWT (RS256, ES256 or EdDSA): %s", jwtreason.Parse(raw, err))
	}
	hdr := tok.Headers[0]
	if err := jwscrit.Check(hdr); err != nil {
		return nil, s.subjectError("subject_token %v", err)
	}
	typ, ok := headerType(hdr)
	if !ok {
		return nil, s.subjectError("subject_token typ is %v, not a string (RFC 7515 section 4.1.9)", hdr.ExtraHeaders[jose.HeaderType])
	}
	switch {
	case jwstyp.Is(typ, signer.IDJAGType):
		return nil, s.subjectError("subject_token is an ID-JAG (typ %s), not an ID token", signer.IDJAGType)
	case !idTokenType(typ):
		// Explicit typing (RFC 8725 section 3.11): a JWT typed as
		// something else (at+jwt, secevent+jwt, ...) is never an ID
		// token, whoever signed it.
		return nil, s.subjectError("subject_token is typed %q, not an ID token (typ JWT or none)", typ)
	}
	key := s.keys.Lookup(hdr.KeyID, hdr.Algorithm)
	if key == nil {
		// The issuer it names, unverified, says where it belongs.
		var c idTokenClaims
		_ = tok.UnsafeClaimsWithoutVerification(&c)
		return nil, s.unknownKey(hdr.KeyID, hdr.Algorithm, c.Issuer)
	}
	var c idTokenClaims
	if err := tok.Claims(key.Public()); err != nil { // the signature alone
		return nil, s.subjectError("subject_token signature does not verify with this IdP's key %q (%s)", hdr.KeyID, hdr.Algorithm)
	}
	// Verified just above: a claim of the wrong type (an exp that is a
	// string, a duplicated key) is not a bad signature, and a client
	// that mints its tests' ID tokens with the IdP's key_files is told so.
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, s.subjectError("subject_token is signed by this IdP, but its claims cannot be read: %s", jwtreason.Claims(raw, err))
	}
	if c.Issuer != s.issuer {
		return nil, s.subjectError("subject_token iss %q is not this IdP (%s)", c.Issuer, s.issuer)
	}
	if c.Subject == "" {
		return nil, s.subjectError("subject_token has no sub")
	}
	if c.Expiry == nil {
		return nil, s.subjectError("subject_token has no exp")
	}
	v := &verifiedIDToken{KeyID: hdr.KeyID, Alg: hdr.Algorithm, Subject: c.Subject, Audience: c.Audience, Expiry: c.Expiry.Time(),
		SessionID: c.SessionID, UseKey: signedContentKey(raw), AuthorizedParty: c.AuthorizedParty}
	if c.NotBefore != nil {
		v.NotBefore = c.NotBefore.Time()
	}
	if c.IssuedAt != nil {
		v.IssuedAt = c.IssuedAt.Time()
	}
	if c.AuthTime != nil {
		v.AuthTime = c.AuthTime.Time()
	}
	return v, nil
}

// signedContentKey identifies a verified compact JWS by the header and
// payload it signs, decoded. The string itself is no identity: a decoder
// (go-jose's too) accepts base64url with other unused trailing bits or
// line breaks for the same bytes, and verifies the signature over their
// canonical encoding; an ECDSA signature (r, s) has the valid twin
// (r, n-s). Each would otherwise pass single_use_subject as a new token.
func signedContentKey(raw string) string {
	header, rest, _ := strings.Cut(raw, ".")
	payload, _, _ := strings.Cut(rest, ".")
	// Decoded as jose.ParseSigned did before the signature verified.
	h, _ := base64.RawURLEncoding.DecodeString(header)
	p, _ := base64.RawURLEncoding.DecodeString(payload)
	sum := sha256.New()
	sum.Write(binary.BigEndian.AppendUint64(nil, uint64(len(h))))
	sum.Write(h)
	sum.Write(p)
	return base64.RawURLEncoding.EncodeToString(sum.Sum(nil))
}

// unknownKey refuses a subject token signed by a key that JWKS does not
// publish, saying whether a key rotation retired it (docs/http.md, /keys):
// then the token is ours but older than the rotation's overlap, and
// logging the user in again fixes it. iss is the issuer the token names,
// unverified: another one than this IdP's is said, since the token is to
// be exchanged there (another tenant of this process, say).
func (s *Server) unknownKey(kid, alg, iss string) *oauthError {
	if at, ok := s.keys.RetiredAt(kid, alg); ok {
		return s.subjectError("subject_token is signed by key %q (%s), which a key rotation retired at %s; log the user in again for an ID token signed by the current key (see %s)",
			kid, alg, at.UTC().Format(time.RFC3339), s.issuer+pathKeys)
	}
	if iss != "" && iss != s.issuer {
		return s.subjectError("subject_token is not signed by this IdP: its iss %q is not this IdP (%s): exchange it at the IdP that issued it (unknown key %q (%s); see %s)",
			iss, s.issuer, kid, alg, s.issuer+pathKeys)
	}
	return s.subjectError("subject_token is not signed by this IdP: unknown key %q (%s); see %s", kid, alg, s.issuer+pathKeys)
}

// subjectError uses the configured code for a bad subject token: RFC 8693
// section 2.2.2 says invalid_request; the ID-JAG draft's example and the
// MCP conformance mock say invalid_grant (docs/configuration.md,
// "exchange": subject_token_error).
func (s *Server) subjectError(format string, args ...any) *oauthError {
	e := invalidRequest(format, args...)
	if code := s.Config().Exchange.SubjectTokenError; code != "" {
		e.Code = code
	}
	return e
}

// verifyRefreshSubject accepts one of our refresh tokens as the subject
// (draft -02): live, not revoked, issued to this client. It is read, not
// consumed.
func (s *Server) verifyRefreshSubject(raw, clientID string) (subject, *oauthError) {
	rt, ok := s.store.lookupRefreshToken(raw)
	if !ok {
		// A token rotated away is a reuse here too.
		if err := s.store.refreshReused(context.Background(), raw); err != nil {
			return subject{}, invalidGrant("the subject %v", err)
		}
		// No refresh token of ours: say so when the token is not even
		// shaped like one, for a login would not help (a refresh token
		// is refreshTokenPrefix and base64url, never a JWT, never quoted).
		switch t := strings.TrimSpace(raw); {
		case quoted(t):
			return subject{}, invalidGrant("%s", quotedTokenMessage("refresh_token"))
		case strings.Count(t, ".") == 2 || strings.Count(t, ".") == 4:
			return subject{}, invalidGrant("subject_token is a JWT, not a refresh token of this IdP: send an ID token with subject_token_type %s", tokenTypeIDToken)
		case t != raw && strings.HasPrefix(t, refreshTokenPrefix):
			return subject{}, invalidGrant("subject_token has white space around it (such as the line break that ends a file written by echo): send the refresh token alone")
		}
		return subject{}, invalidGrant("the subject refresh token is unknown, expired or revoked (by revocation, end_session or a replayed authorization code), or was issued before the IdP last started (without --state-dir refresh tokens do not outlive a restart); log the user in again")
	}
	if rt.ClientID != clientID {
		return subject{}, invalidGrant("the subject refresh token was issued to another client, not to %q", clientID)
	}
	// The login time in whole seconds, as the ID tokens of the login and
	// the ID-JAG's auth_time carry it, so that max_auth_age counts it as
	// for an ID token of the same login.
	return subject{Sub: rt.Subject, AuthTime: rt.AuthTime.Truncate(time.Second), sid: rt.SessionID}, nil
}

// quoted reports whether a token is in double quotes: a token is
// base64url and dots, so in quotes it is a JSON string as jq prints it
// without -r (the client commands refuse one likewise).
func quoted(raw string) bool {
	return len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"'
}

// quotedTokenMessage is the description of a quoted subject token, member
// naming the token response's member it was most likely copied from.
func quotedTokenMessage(member string) string {
	return fmt.Sprintf("subject_token is in double quotes, as 'jq .%s' prints it: send the token without them ('jq -r')", member)
}

// headerType is the typ of a JWS header, "" without one; ok is false for a
// typ that is there but no string (a number, null), which is not taken for
// a header without typ.
func headerType(h jose.Header) (typ string, ok bool) {
	v, present := h.ExtraHeaders[jose.HeaderType]
	if !present {
		return "", true
	}
	typ, ok = v.(string)
	return typ, ok
}

// idTokenType reports whether a JWS typ header fits an ID token: absent or
// JWT (OpenID Connect Core section 2), compared as media types are, with
// the optional "application/" prefix (RFC 7515 section 4.1.9).
func idTokenType(typ string) bool { return typ == "" || jwstyp.Is(typ, "jwt") }

// hintTypeError refuses an id_token_hint (/authorize, end_session) that is
// a JWS typed as another token than an ID token (RFC 8725 section 3.11):
// this IdP signs its ID-JAGs with the same keys, for the same users, and
// op, which checks signature and issuer alone, took one for a hint. A hint
// that is no JWS at all is op's to refuse.
func hintTypeError(hint string) *oauthError {
	if hint == "" {
		return nil
	}
	tok, err := jwt.ParseSigned(hint, idTokenAlgs)
	if err != nil {
		return nil
	}
	typ, ok := headerType(tok.Headers[0])
	switch {
	case !ok:
		return invalidRequest("id_token_hint typ is %v, not a string (RFC 7515 section 4.1.9)", tok.Headers[0].ExtraHeaders[jose.HeaderType])
	case jwstyp.Is(typ, signer.IDJAGType):
		return invalidRequest("id_token_hint is an ID-JAG (typ %s), not an ID token: send the id_token of the token response", signer.IDJAGType)
	case !idTokenType(typ):
		return invalidRequest("id_token_hint is typed %q, not an ID token (typ JWT or none)", typ)
	}
	return nil
}

// stamp is a time as refusals name it: RFC 3339, UTC, whole seconds.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
