package idp

import (
	"encoding/json"
	"math"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/xaa-idp/xaa-idp/policy"
)

// authRequest is one /authorize request on its way through the login page.
type authRequest struct {
	ID            string
	ClientID      string
	RedirectURI   string
	State         string
	Nonce         string
	Scopes        []string
	ResponseType  oidc.ResponseType
	ResponseMode  oidc.ResponseMode
	CodeChallenge *oidc.CodeChallenge
	Prompt        []string
	MaxAge        *uint
	LoginHint     string
	// HintSubject is the sub of the request's id_token_hint, which op
	// verified: the user the client expects (OIDC Core 3.1.2.1).
	HintSubject string
	// Source is the client address that sent the request (sourceOf):
	// one address may hold a share of the pending logins only.
	Source string

	Subject  string
	Username string
	AuthTime time.Time
	// SessionID is the sid of the SSO session that completed the request,
	// which its tokens carry (OIDC Front-Channel Logout section 3 defines
	// the claim), so that ending the session ends them.
	SessionID string
	done      bool
	// code is the authorization code issued last: a new one replaces it,
	// so that a request holds one code at a time.
	code string
	// failures counts the refused login attempts (maxLoginAttempts).
	failures int
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string                         { return a.ID }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.AuthTime }
func (a *authRequest) GetClientID() string                   { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.CodeChallenge }
func (a *authRequest) GetNonce() string                      { return a.Nonce }
func (a *authRequest) GetRedirectURI() string                { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                   { return a.Scopes }
func (a *authRequest) GetState() string                      { return a.State }
func (a *authRequest) GetSubject() string                    { return a.Subject }
func (a *authRequest) Done() bool                            { return a.done }

// forcesLogin reports whether the client asked for a fresh login
// (prompt=login, which op turns into max_age=0).
func (a *authRequest) forcesLogin() bool {
	return a.MaxAge != nil && *a.MaxAge == 0
}

// sessionFits reports whether an SSO session may complete this request
// without a login: it satisfies max_age, and its user is the one an
// id_token_hint names, if any (OIDC Core 3.1.2.1: another user signed in
// is no positive answer for the hinted one).
func (a *authRequest) sessionFits(s *ssoSession, now time.Time) bool {
	if a.HintSubject != "" && s.Subject != a.HintSubject {
		return false
	}
	if a.MaxAge == nil {
		return true
	}
	// From the auth_time the tokens will carry, whole seconds: the client
	// checks max_age against it (OIDC Core 3.1.3.7, step 11), and so does
	// the token exchange's max_auth_age.
	authTime := s.AuthTime.Truncate(time.Second)
	// Capped where the product would overflow time.Duration (292 years,
	// longer than any session's age on the clock's range), which made a
	// huge max_age refuse every session.
	maxAge := time.Duration(min(*a.MaxAge, maxAgeSeconds)) * time.Second
	return now.Sub(authTime) <= maxAge && *a.MaxAge > 0
}

// maxAgeSeconds is the longest max_age a time.Duration holds.
const maxAgeSeconds = uint(math.MaxInt64 / int64(time.Second))

func (a *authRequest) complete(s *ssoSession) {
	a.Subject, a.Username, a.AuthTime, a.SessionID, a.done = s.Subject, s.Username, s.AuthTime, s.SID, true
}

func (a *authRequest) lineage() (sid, grant string) { return a.SessionID, a.ID }

// lineage tells the storage which SSO session (sid) and which code
// redemption (grant: the auth request's ID) the tokens op asks for belong
// to: ending the session ends them (end_session), and a replayed code
// revokes its grant's tokens (RFC 6749 section 4.1.2).
type lineage interface {
	lineage() (sid, grant string)
}

// accessToken is an opaque access token for userinfo and introspection.
type accessToken struct {
	ID        string
	ClientID  string
	Subject   string
	Scopes    []string
	AuthTime  time.Time
	Expiry    time.Time
	SessionID string // see lineage
	GrantID   string
}

// refreshToken is the grant behind a refresh token; the token itself is
// only kept as a hash. With a state directory it is a line of
// refreshTokensFile too, in these names.
type refreshToken struct {
	ClientID string    `json:"client_id"`
	Subject  string    `json:"sub"`
	Audience []string  `json:"aud,omitempty"`
	Scopes   []string  `json:"scope,omitempty"`
	AuthTime time.Time `json:"auth_time"`
	AMR      []string  `json:"amr,omitempty"`
	// IssuedAt is when this token (not its grant) was issued.
	IssuedAt time.Time `json:"iat"`
	Expiry   time.Time `json:"exp"`
	// SessionID and GrantID are the lineage of the code redemption the
	// token descends from; rotation keeps them.
	SessionID string `json:"sid,omitempty"`
	GrantID   string `json:"grant,omitempty"`
}

// refreshTokenRequest implements op.RefreshTokenRequest.
type refreshTokenRequest struct{ refreshToken }

func (r *refreshTokenRequest) GetAMR() []string                 { return r.AMR }
func (r *refreshTokenRequest) GetAudience() []string            { return []string{r.ClientID} }
func (r *refreshTokenRequest) GetAuthTime() time.Time           { return r.AuthTime }
func (r *refreshTokenRequest) GetClientID() string              { return r.ClientID }
func (r *refreshTokenRequest) GetScopes() []string              { return r.Scopes }
func (r *refreshTokenRequest) GetSubject() string               { return r.Subject }
func (r *refreshTokenRequest) SetCurrentScopes(scopes []string) { r.Scopes = scopes }
func (r *refreshTokenRequest) lineage() (sid, grant string)     { return r.SessionID, r.GrantID }

// client is the op.Client view of a configured client.
type client struct {
	c    *policy.Client
	cfg  *policy.Config
	path string // the Server's Path, which the login page is under
	// asserted: this request authenticated the client with a client
	// assertion, which checkOPClient verified and took out of the form
	// op reads (serveWithOP): op has nothing left to check.
	asserted bool
	// own: a client of the product's with a page its sign-in starts at
	// (Server.startOf), which its login URL names, so that the login page
	// can link there once the request has expired.
	own bool
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ClientID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.RedirectURIs }

// ApplicationType is native with DevMode on: op then matches loopback
// redirect URIs on any port (RFC 8252 section 7.3) and every other
// registered URI exactly, whatever its scheme.
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeNative }
func (c *client) DevMode() bool                       { return true }

func (c *client) AuthMethod() oidc.AuthMethod {
	switch {
	case c.asserted:
		return oidc.AuthMethodNone
	case c.c.ClientSecret != "":
		return oidc.AuthMethodBasic // op accepts the secret in the body too
	case len(c.c.JWKS) > 0:
		return oidc.AuthMethodPrivateKeyJWT
	}
	return oidc.AuthMethodNone
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string {
	if c.own {
		return c.path + pathLogin + "?authRequestID=" + id + "&client_id=" + url.QueryEscape(c.c.ClientID)
	}
	return c.path + pathLogin + "?authRequestID=" + id
}
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return c.cfg.Lifetimes.IDToken.D() }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed keeps the groups scope, which op.ValidateAuthReqScopes
// would drop as not one of OIDC's.
func (c *client) IsScopeAllowed(scope string) bool     { return scope == scopeGroups }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// clientKeys parses a client's configured JWK Set (for private_key_jwt).
func clientKeys(c *policy.Client) (*jose.JSONWebKeySet, error) {
	raw, err := json.Marshal(c.JWKS)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, err
	}
	return &set, nil
}
