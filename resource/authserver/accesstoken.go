package authserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/internal/jwstyp"
	"github.com/xaa-idp/xaa-idp/internal/jwtreason"
)

// ErrInvalidAccessToken is wrapped by every error of
// [Server.VerifyAccessToken].
var ErrInvalidAccessToken = errors.New("invalid access token")

// AccessToken is what a valid access token says (RFC 9068 §2.2).
type AccessToken struct {
	ID       string // jti
	Issuer   string // the authorization server
	Subject  string // the local user's sub: the ID-JAG's, or that of the user its email maps to
	Username string // the local user's username, "" when no local user has Subject
	ClientID string // the client the token was issued to
	Email    string // the user's email, if known
	// IdPIssuer is the IdP that issued the ID-JAG the token was granted
	// for (the iss of its RFC 9493 sub_id): which tenant, when several
	// are trusted. "" for a token without sub_id.
	IdPIssuer string
	// IdPSubject is the user's sub at IdPIssuer (the ID-JAG's sub),
	// which Subject is too unless the user was mapped by email. A user
	// is (IdPIssuer, Subject): two IdPs may each have a user with one sub.
	IdPSubject string
	Resource   string // aud: the MCP server the token is for
	Scopes     []string
	// JKT is the cnf.jkt of a DPoP-bound token (RFC 9449 §6.1): it is only
	// good with a DPoP proof signed by that key. "" for a bearer token.
	JKT      string
	IssuedAt time.Time
	Expiry   time.Time
}

// HasScope reports whether the token grants scope.
func (t *AccessToken) HasScope(scope string) bool {
	return slices.Contains(t.Scopes, scope)
}

// accessTokenClaims is the RFC 9068 §2.2 claim set, with cnf (RFC 9449
// §6.1) when the token is DPoP-bound.
type accessTokenClaims struct {
	jwt.Claims
	ClientID     string        `json:"client_id"`
	Scope        string        `json:"scope,omitempty"`
	Username     string        `json:"username,omitempty"` // as RFC 7662 §2.2 names it
	Email        string        `json:"email,omitempty"`
	Confirmation *confirmation `json:"cnf,omitempty"`
	// SubID is the user at the IdP that issued the ID-JAG (RFC 9493
	// section 4, iss_sub): what a pushed SET revokes (events.go).
	SubID *subjectID `json:"sub_id,omitempty"`
}

// subjectID is an RFC 9493 section 3.2.4 iss_sub subject identifier.
type subjectID struct {
	Format string `json:"format"`
	Iss    string `json:"iss"`
	Sub    string `json:"sub"`
}

// confirmation is the cnf claim of a DPoP-bound access token.
type confirmation struct {
	JKT string `json:"jkt"`
}

// issueAccessToken signs an RFC 9068 access token for the user the
// ID-JAG's subject maps to, audience-restricted to one MCP server as EMA
// requires, and bound to the key with thumbprint jkt unless jkt is "".
func (a *Server) issueAccessToken(jag *idJAG, user User, clientID, resource string, scopes []string, jkt string, now time.Time) (string, error) {
	email := user.Email
	if email == "" {
		email = verifiedEmail(jag)
	}
	jti, err := randomID()
	if err != nil {
		return "", err
	}
	claims := accessTokenClaims{
		Claims: jwt.Claims{
			Issuer:   a.cfg.Issuer,
			Subject:  user.Sub,
			Audience: jwt.Audience{resource}, // a single value marshals as a string
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(a.cfg.AccessTokenLifetime)),
			ID:       jti,
		},
		ClientID: clientID,
		Scope:    strings.Join(scopes, " "),
		Username: user.Username,
		Email:    email,
		SubID:    &subjectID{Format: "iss_sub", Iss: jag.Issuer, Sub: jag.Subject},
	}
	if jkt != "" {
		claims.Confirmation = &confirmation{JKT: jkt}
	}
	return jwt.Signed(a.signer).Claims(claims).Serialize()
}

// VerifyAccessToken checks an access token issued by this authorization
// server for the MCP server identified by resource (RFC 9068 §4): typ
// at+jwt, ES256 signature by this server's key, iss, aud containing
// resource, and exp. Errors wrap [ErrInvalidAccessToken] and say which
// check failed. A DPoP-bound token comes back with its JKT set: the caller
// must then check the request's DPoP proof against it (RFC 9449 §7), as
// the MCP servers of resource/mcpserver do. The check is local and ctx is
// unused; it is in the signature for mcpserver.TokenVerifier, whose other
// implementations may have to ask the authorization server (RFC 7662).
func (a *Server) VerifyAccessToken(_ context.Context, token, resource string) (*AccessToken, error) {
	if resource == "" {
		return nil, fmt.Errorf("%w: no resource to check the audience against", ErrInvalidAccessToken)
	}
	at, aud, err := a.parseAccessToken(token)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(aud, resource) {
		return nil, fmt.Errorf("%w: aud %q does not include this MCP server (%s)", ErrInvalidAccessToken, aud, resource)
	}
	at.Resource = resource
	return at, nil
}

// parseAccessToken checks everything of an access token but its audience,
// which it returns.
func (a *Server) parseAccessToken(token string) (*AccessToken, []string, error) {
	fail := func(format string, args ...any) (*AccessToken, []string, error) {
		return nil, nil, fmt.Errorf("%w: %s", ErrInvalidAccessToken, fmt.Sprintf(format, args...))
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return fail("not an ES256 JWT: %s", jwtreason.Parse(token, err))
	}
	h := tok.Headers[0]
	// RFC 9068 §4: typ is at+jwt, or application/at+jwt, compared
	// case-insensitively (RFC 7515 §4.1.9, jwstyp). It keeps ID tokens and
	// ID-JAGs from passing as access tokens.
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !jwstyp.Is(typ, AccessTokenType) {
		return fail("typ %q is not %q (RFC 9068 §4)", typ, AccessTokenType)
	}
	if h.KeyID != a.kid {
		return fail("kid %q is not this authorization server's key, which is new at each start: an access token from before a restart is refused; get a new one", h.KeyID)
	}
	var c accessTokenClaims
	if err := tok.Claims(&a.key.PublicKey); err != nil { // the signature alone
		return fail("the signature does not verify with this authorization server's key %q", a.kid)
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return fail("its claims cannot be read: %s", jwtreason.Claims(token, err))
	}
	if c.Issuer != a.cfg.Issuer {
		return fail("iss %q is not %s", c.Issuer, a.cfg.Issuer)
	}
	if c.Expiry == nil {
		return fail("no exp")
	}
	now := a.cfg.Now()
	// Its own token, on its own clock: no skew. From exp on it has
	// expired (RFC 7519 §4.1.4), and introspection says so (RFC 7662 §2.2).
	if exp := c.Expiry.Time(); !now.Before(exp) {
		return fail("expired at %s (now %s)", stamp(exp), stamp(now))
	}
	if c.Subject == "" {
		return fail("no sub")
	}
	at := &AccessToken{
		ID:       c.ID,
		Issuer:   c.Issuer,
		Subject:  c.Subject,
		Username: c.Username,
		ClientID: c.ClientID,
		Email:    c.Email,
		Scopes:   strings.Fields(c.Scope),
		Expiry:   c.Expiry.Time(),
	}
	if c.Confirmation != nil {
		if c.Confirmation.JKT == "" {
			return fail("cnf has no jkt")
		}
		at.JKT = c.Confirmation.JKT
	}
	if c.IssuedAt != nil {
		at.IssuedAt = c.IssuedAt.Time()
	}
	if c.SubID != nil {
		at.IdPIssuer, at.IdPSubject = c.SubID.Iss, c.SubID.Sub
		if when, revoked := a.revoked.revokedBefore(subjectKey{c.SubID.Iss, c.SubID.Sub}, at.IssuedAt); revoked {
			return fail("revoked: %s ended the access of %s at %s (a pushed Security Event Token, RFC 8935)", c.SubID.Iss, c.SubID.Sub, stamp(when))
		}
	}
	return at, c.Audience, nil
}

// randomID returns 128 random bits, base64url: unguessable token ids.
func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
