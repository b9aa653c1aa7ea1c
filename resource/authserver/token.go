package authserver

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/internal/bodyheader"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/internal/replay"
	"github.com/xaa-idp/xaa-idp/internal/urimatch"
)

// maxTokenRequestBytes caps a token request body; an ID-JAG is under 2 KB.
const maxTokenRequestBytes = 64 << 10

// tokenParams are the form parameters of a token request with empty values
// dropped: RFC 6749 §3.1 says parameters sent without a value are treated as
// omitted, and the Go SDK sends "code=" with every grant.
type tokenParams map[string][]string

// single returns the parameter's value, "" when absent, or invalid_request
// when it is repeated (RFC 6749 §3.2: parameters MUST NOT be included more
// than once).
func (p tokenParams) single(name string) (string, *oauthError) {
	switch v := p[name]; len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	default:
		return "", invalidRequest("parameter %q is repeated %d times; send it once (RFC 6749 §3.2)", name, len(v))
	}
}

// tokenResponse is the RFC 6749 §5.1 success document. There is no refresh
// token: the ID-JAG draft says the authorization server SHOULD NOT issue one,
// the client gets a new ID-JAG instead.
type tokenResponse struct {
	TokenType   string `json:"token_type"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// serveToken is the token endpoint (RFC 6749 §3.2).
func (a *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, newOAuthError(http.StatusMethodNotAllowed, "invalid_request",
			"the token endpoint accepts only POST, not %s (RFC 6749 §3.2)", r.Method), a.cfg.Issuer)
		return
	}
	params, oerr := readTokenParams(w, r)
	if oerr == nil {
		var resp *tokenResponse
		resp, oerr = a.token(r, params)
		if oerr == nil {
			httpjson.Write(w, http.StatusOK, resp)
			return
		}
	}
	writeOAuthError(w, oerr, a.cfg.Issuer)
}

// readTokenParams reads the application/x-www-form-urlencoded body. Query
// parameters are ignored: RFC 6749 §3.2 puts token request parameters in
// the body, and credentials in a URL end up in logs.
func readTokenParams(w http.ResponseWriter, r *http.Request) (tokenParams, *oauthError) {
	// Go reads the first of two Content-Type headers, and no content
	// coding is decoded: such a body would be misread, and refused for
	// what it then lacked, or read as one of two types. invalid_request
	// (RFC 6749 §5.2) names what is wrong instead.
	if msg, _ := bodyheader.Refusal(w, r.Header); msg != "" {
		return nil, invalidRequest("%s", msg)
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("Content-Type %q is not application/x-www-form-urlencoded (RFC 6749 §4.1.3)", ct)
	}
	if r.ContentLength > maxTokenRequestBytes {
		// Refused before a byte of it is read, so that a client that sent
		// Expect: 100-continue is told instead of being asked for the
		// body (RFC 9110 section 10.1.1).
		return nil, invalidRequest("the request body is larger than %d bytes", maxTokenRequestBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, invalidRequest("the request body is larger than %d bytes", maxTokenRequestBytes)
		}
		return nil, invalidRequest("reading the request body: %v", err)
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalidRequest("the request body is not valid form encoding: %v", err)
	}
	params := make(tokenParams, len(values))
	for name, vs := range values {
		vs = slices.DeleteFunc(vs, func(v string) bool { return v == "" })
		if len(vs) > 0 {
			params[name] = vs
		}
	}
	return params, nil
}

// token runs the JWT bearer grant: grant type, client authentication, the
// ID-JAG checks, subject mapping, the DPoP proof, audience and scope selection, replay, and
// issuance, in that order. The replay checks come last so that a request
// refused for any other reason does not burn the ID-JAG.
func (a *Server) token(r *http.Request, p tokenParams) (*tokenResponse, *oauthError) {
	grantType, oerr := p.single("grant_type")
	if oerr != nil {
		return nil, oerr
	}
	switch grantType {
	case "":
		return nil, invalidRequest("grant_type is missing; this authorization server serves %s", GrantTypeJWTBearer)
	case GrantTypeJWTBearer:
	default:
		return nil, unsupportedGrantType("grant_type %q is not supported; this authorization server serves only %s (RFC 7523) with ID-JAG assertions", grantType, GrantTypeJWTBearer)
	}

	// One registration decides the whole request, however an Update
	// replaces it meanwhile.
	reg := a.reg.Load()
	clientID, _, oerr := a.authenticateClient(r, p, reg.clients, reg.keys, a.endpoint("/token"))
	if oerr != nil {
		return nil, oerr
	}

	assertion, oerr := p.single("assertion")
	if oerr != nil {
		return nil, oerr
	}
	if assertion == "" {
		return nil, invalidRequest("assertion is missing: send the ID-JAG in the assertion parameter (RFC 7523 §2.1)")
	}
	now := a.cfg.Now()
	jag, oerr := a.validateIDJAG(r.Context(), reg, assertion, clientID, now)
	if oerr != nil {
		return nil, oerr
	}
	if when, revoked := a.revoked.revokedBefore(subjectKey{jag.Issuer, jag.Subject}, jag.IssuedAt); revoked {
		return nil, invalidGrant("the ID-JAG was issued before %s revoked the access of %s at %s (a pushed Security Event Token); get a new one", jag.Issuer, jag.Subject, stamp(when))
	}
	user, oerr := a.mapSubject(reg, jag)
	if oerr != nil {
		return nil, oerr
	}
	proof, oerr := a.checkDPoP(r, jag, now)
	if oerr != nil {
		return nil, oerr
	}

	// RFC 8707 §2 lets resource repeat, for a token of several audiences;
	// this server's access tokens have one (EMA: audience-restricted to
	// the MCP server). The same URL repeated, in any spelling
	// urimatch.Same accepts, is one resource.
	var requestedResource string
	if rs := p["resource"]; len(rs) > 0 {
		requestedResource = rs[0]
		for _, r := range rs[1:] {
			if !urimatch.Same(rs[0], r) {
				return nil, invalidRequest("one resource per access token, and resources %q and %q were sent; request a token for each MCP server", rs[0], r)
			}
		}
	}
	audience, oerr := a.selectResource(jag, requestedResource)
	if oerr != nil {
		return nil, oerr
	}
	requestedScope, oerr := p.single("scope")
	if oerr != nil {
		return nil, oerr
	}
	scopes, oerr := a.grantScopes(reg, jag, requestedScope)
	if oerr != nil {
		return nil, oerr
	}

	tokenType, jkt := "Bearer", ""
	if proof != nil {
		if oerr := a.useProof(proof, jag.owner(), now); oerr != nil {
			return nil, oerr
		}
		tokenType, jkt = dpop.Scheme, proof.JKT
	}
	if oerr := a.checkReplay(reg, jag, now); oerr != nil {
		return nil, oerr
	}

	token, err := a.issueAccessToken(jag, user, clientID, audience, scopes, jkt, now)
	if err != nil {
		return nil, newOAuthError(http.StatusInternalServerError, "server_error", "signing the access token failed: %v", err)
	}
	return &tokenResponse{
		TokenType:   tokenType,
		AccessToken: token,
		ExpiresIn:   int64(a.cfg.AccessTokenLifetime / time.Second),
		Scope:       strings.Join(scopes, " "),
	}, nil
}

// checkReplay records the ID-JAG's jti until the ID-JAG would be refused as
// expired anyway (EMA §7.4 requires replay detection). With AllowReplay a
// jti already recorded is accepted again, and one the full cache cannot
// record too: reuse is allowed, and the record only serves a later
// Update that disallows it.
func (a *Server) checkReplay(reg *registration, jag *idJAG, now time.Time) *oauthError {
	// jti is unique per issuer (RFC 7519 §4.1.7), so the key includes it.
	// The entry lives until exp + skew (and replayPast), which
	// checkIDJAGClaims keeps within the registration's MaxIDJAGLifetime
	// and twice the skew from now.
	// The user (issuer and sub) owns the entry: once the cache is half
	// full, one user holding 1% of it is refused, not every user.
	err := a.useJTI(replayKey(jag.Issuer+"\x00"+jag.JTI), jag.owner(), jag.Expiry.Add(a.cfg.Skew+replayPast), now)
	var full *replay.FullError
	switch {
	case reg.replayOK:
		return nil
	case err == nil && a.madeBeforeFloor(replayJTIKind, jag.IssuedAt):
		return invalidGrant("the ID-JAG was issued at %s, before this authorization server started at %s unable to read all of its record of redeemed ID-JAGs; it cannot tell whether this one was redeemed: get a new ID-JAG from the IdP", stamp(jag.IssuedAt), stamp(a.replayFloor))
	case err == nil:
		return nil
	case errors.Is(err, replay.ErrReplayed):
		return invalidGrant("ID-JAG jti %q was already redeemed; get a new ID-JAG from the IdP (replay detection, EMA §7.4)", jag.JTI)
	case errors.As(err, &full) && full.Owner != "":
		return temporarilyUnavailable(full.RetryAfter, "replay cache is half full of its %d entries and holds %d or more unexpired ID-JAGs of the user %q of %s, its share of it; retry in %s", full.Size, full.Share, jag.Subject, jag.Issuer, full.RetryAfter.Round(time.Second))
	case errors.As(err, &full):
		return temporarilyUnavailable(full.RetryAfter, "replay cache holds %d unexpired ID-JAGs; retry in %s", full.Size, full.RetryAfter.Round(time.Second))
	default:
		return temporarilyUnavailable(time.Second, "replay check: %v", err)
	}
}

// replayPast is how long past the last instant a JWT is accepted (exp +
// skew: checkIDJAGClaims and the client assertion's check refuse only
// after it; a SET's iat 10 minutes old) its jti is kept: a replay cache entry is live only before its
// time, so one kept until that instant was forgotten as it was recorded,
// and a JWT used at it (a frozen clock holds it) was accepted again and
// again. The IdP keeps its client assertions' jti a second longer too.
const replayPast = time.Second

// useJTI records an ID-JAG's jti until its exp + skew (until) on the
// server's clock and on the wall clock (useBoth), for owner (the user),
// and appends both records to the replay file.
func (a *Server) useJTI(key, owner string, until, now time.Time) error {
	return a.use(a.replay, a.replayWall, replayJTIKind, replayJTIWallKind, key, owner, until, now)
}

// mapSubject returns the local user the access token is for, among the
// users of the ID-JAG's issuer (User.Issuer): with SubjectEmail the user
// whose email is the ID-JAG's (compared without regard to ASCII case: see
// SameEmail; an address that two users have maps to neither), else the
// ID-JAG's sub, with the username of the user that has it, if any.
func (a *Server) mapSubject(reg *registration, jag *idJAG) (User, *oauthError) {
	ofIssuer := func(u User) bool { return u.Issuer == "" || u.Issuer == jag.Issuer }
	if a.cfg.Subject != SubjectEmail {
		for _, u := range reg.users {
			if u.Sub == jag.Subject && ofIssuer(u) {
				return u, nil
			}
		}
		return User{Issuer: jag.Issuer, Sub: jag.Subject, Email: verifiedEmail(jag)}, nil
	}
	if jag.Email == "" {
		return User{}, invalidGrant("the ID-JAG has no email claim, and this authorization server maps users by email: the IdP must include the user's email in ID-JAGs for it")
	}
	if oerr := checkEmailVerified(jag); oerr != nil {
		return User{}, oerr
	}
	var found []User
	for _, u := range reg.users {
		if SameEmail(u.Email, jag.Email) && ofIssuer(u) {
			found = append(found, u)
		}
	}
	switch len(found) {
	case 0:
		return User{}, invalidGrant("no local user has the ID-JAG's email %q; this authorization server maps users by email, among the users of the IdP that signed the ID-JAG (%s)", jag.Email, jag.Issuer)
	case 1:
		return found[0], nil
	}
	// Taking the first would make whoever holds the other address at the
	// IdP (another account there, ALICE@ for alice@) this user here.
	names := make([]string, len(found))
	for i, u := range found {
		names[i] = u.Username
	}
	return User{}, invalidGrant("%d local users (%s) have the ID-JAG's email %q, compared without regard to ASCII case; this authorization server maps users by email and does not guess which one is meant: give each user of the IdP a distinct address", len(found), strings.Join(names, ", "), jag.Email)
}

// verifiedEmail is the ID-JAG's email unless its IdP says it has not
// verified it (checkEmailVerified): an access token carries no address
// that mapping by email would refuse, since the MCP server may take it
// for who the user is.
func verifiedEmail(jag *idJAG) string {
	if checkEmailVerified(jag) != nil {
		return ""
	}
	return jag.Email
}

// checkEmailVerified refuses to map by email an address the IdP says it
// has not verified (email_verified false), or says so in a form that is
// no boolean (OpenID Connect Core §5.1: a boolean; a string "false" must
// not pass for an absent claim): whoever can put an unverified address in
// their IdP profile would otherwise be mapped to the local user who has it,
// the nOAuth account takeover. Without the claim (or with null) the address
// maps: Okta's and Claude's ID-JAGs carry email alone, and an IdP that
// sends an email for a relying party to map vouches for it.
func checkEmailVerified(jag *idJAG) *oauthError {
	raw := jag.EmailVerified
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err == nil {
		switch v {
		case nil, true:
			return nil
		case false:
			return invalidGrant("the ID-JAG's email %q has email_verified false, and this authorization server maps users by email: it does not map an address the IdP has not verified", jag.Email)
		}
	}
	return invalidGrant("the ID-JAG's email_verified %s is not a JSON boolean (OpenID Connect Core §5.1), and this authorization server maps users by email: it does not map an address the IdP may not have verified", truncate(string(raw), 80))
}

// SameEmail compares two email addresses as mail systems match them for
// an account, and as an authorization server with SubjectEmail maps users: equal but for the case of ASCII letters. strings.EqualFold
// folds Unicode too, so that "\u017fam@" (a long s, U+017F) or "\u212aim@" (the Kelvin sign, U+212A)
// would be taken for "sam@" or "kim@": someone able to register such an
// address at the IdP would be mapped to another user here.
func SameEmail(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// sameResource returns the value of list that names the URL v
// (urimatch.Same), or "".
func sameResource(list []string, v string) string {
	if slices.Contains(list, v) {
		return v
	}
	for _, have := range list {
		if urimatch.Same(have, v) {
			return have
		}
	}
	return ""
}
