package authserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	gojson "github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/internal/jwscrit"
	"github.com/xaa-idp/xaa-idp/internal/jwstyp"
	"github.com/xaa-idp/xaa-idp/internal/jwtreason"
)

// idJAGAlgorithms is the signature allow-list (RFC 8725 §3.1, EMA §7.4.1):
// asymmetric algorithms only, so "none" and HS* (which would let anyone who
// knows the IdP's public key sign) are refused before any key is touched.
var idJAGAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// idJAG is a verified ID-JAG (claims per ID-JAG §3.1).
type idJAG struct {
	Issuer   string
	Subject  string
	ClientID string
	JTI      string
	Email    string
	// EmailVerified is the email_verified claim as sent (OpenID Connect
	// Core §5.1), nil when absent; mapSubject reads it when it maps by
	// email.
	EmailVerified json.RawMessage
	Resources     []string // the resource claim, string or array; nil if absent
	Scopes        []string // the scope claim; nil if absent
	// JKT is the cnf.jkt the IdP bound the ID-JAG to (RFC 9449 §6.1):
	// only a DPoP proof signed by that key redeems it. "" for an unbound
	// ID-JAG.
	JKT      string
	IssuedAt time.Time
	Expiry   time.Time
}

// owner is the user the ID-JAG is for (its issuer and sub), who owns its
// entries in the replay caches (replay.Cache.UseShared): its jti's and
// its DPoP proof's.
func (j *idJAG) owner() string { return j.Issuer + "\x00" + j.Subject }

// idJAGClaims is the wire form of the claims we read.
type idJAGClaims struct {
	jwt.Claims
	ClientID string          `json:"client_id"`
	Scope    *string         `json:"scope"`
	Resource json.RawMessage `json:"resource"`
	Email    string          `json:"email"`
	// EmailVerified is read only when a user is mapped by email, as
	// sent: its type is checked there, not here.
	EmailVerified json.RawMessage `json:"email_verified"`
	Cnf           json.RawMessage `json:"cnf"`
}

// joseHeader is the part of the protected header checked before go-jose
// parses the token, so that the refusal can name the offending value.
type joseHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

// validateIDJAG runs the RFC 7523 §3 and ID-JAG §4.4.1 checks on an
// assertion presented by the authenticated client. Every failure is an
// invalid_grant that names the check and the value, except an unreachable
// IdP JWKS, which is temporarily_unavailable.
func (a *Server) validateIDJAG(ctx context.Context, reg *registration, raw, clientID string, now time.Time) (*idJAG, *oauthError) {
	hdr, oerr := readJOSEHeader(raw)
	if oerr != nil {
		return nil, oerr
	}
	if !slices.Contains(idJAGAlgorithms, jose.SignatureAlgorithm(hdr.Alg)) {
		return nil, invalidGrant("ID-JAG alg %q is not allowed; accepted: RS256, ES256, EdDSA (RFC 8725 §3.1)", hdr.Alg)
	}
	// ID-JAG §3.1, §4.4.1: typ MUST be oauth-id-jag+jwt. It is what tells an ID-JAG
	// from an ID token or access token signed by the same IdP key.
	if !isIDJAGType(hdr.Typ) {
		return nil, invalidGrant("ID-JAG typ %q is not %q (ID-JAG §3.1)", hdr.Typ, IDJAGType)
	}
	tok, err := jwt.ParseSigned(raw, idJAGAlgorithms)
	if err != nil {
		return nil, invalidGrant("the assertion is not a valid JWS: %s", jwtreason.Parse(raw, err))
	}
	if err := jwscrit.Check(tok.Headers[0]); err != nil {
		return nil, invalidGrant("the ID-JAG's %v", err)
	}

	// The issuer is checked on the unverified claims first, so that tokens
	// from an untrusted issuer never make us fetch keys. Every other
	// decision waits for the signature.
	var unverified idJAGClaims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, invalidGrant("the ID-JAG claims are malformed: %s", jwtreason.Claims(raw, err))
	}
	keys, ok := reg.idpKeys[unverified.Issuer]
	if !ok {
		return nil, reg.untrusted(unverified.Issuer)
	}

	claims, oerr := verifyIDJAGSignature(ctx, keys, raw, tok, hdr)
	if oerr != nil {
		return nil, oerr
	}
	return a.checkIDJAGClaims(reg, claims, clientID, now)
}

// readJOSEHeader decodes the protected header of a JWS compact
// serialization (RFC 7515 §7.1). Header and claims are decoded with
// go-jose's JSON package, as go-jose decodes them: member names are
// case-sensitive (RFC 7515 §4, RFC 7519 §4), where encoding/json would
// take "Typ" or "Iss" for typ or iss, so that an extra member in another
// case could override the real one after the issuer's keys were chosen by
// it.
func readJOSEHeader(raw string) (*joseHeader, *oauthError) {
	parts := strings.Split(raw, ".")
	switch len(parts) {
	case 3:
	case 5:
		return nil, invalidGrant("the assertion is a JWE; encrypted ID-JAGs are not supported here")
	default:
		return nil, invalidGrant("the assertion is not a JWT: expected 3 dot-separated parts, got %d", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, invalidGrant("the assertion is not a valid JWS: %s", jwtreason.Parse(raw, err))
	}
	var members map[string]json.RawMessage
	if err := gojson.Unmarshal(b, &members); err != nil {
		return nil, invalidGrant("the assertion is not a valid JWS: %s", jwtreason.Parse(raw, err))
	}
	var h joseHeader
	if err := gojson.Unmarshal(b, &h); err != nil {
		return nil, invalidGrant("the assertion's JOSE header members alg, typ and kid must be strings (RFC 7515 section 4.1): %v", err)
	}
	return &h, nil
}

// untrusted refuses an ID-JAG of an issuer the registration does not
// trust, naming those it does.
func (reg *registration) untrusted(iss string) *oauthError {
	if len(reg.trusted) == 0 {
		return invalidGrant("untrusted issuer %q: this authorization server trusts no IdP at the moment", iss)
	}
	var out []string
	for _, ti := range reg.trusted {
		out = append(out, ti.Issuer)
	}
	return invalidGrant("untrusted issuer %q: this authorization server accepts ID-JAGs from %s only", iss, strings.Join(out, ", "))
}

// verifyIDJAGSignature finds the IdP key named by kid in the set of the
// ID-JAG's issuer and returns the claims it signed; raw is the ID-JAG.
func verifyIDJAGSignature(ctx context.Context, set *remoteKeySet, raw string, tok *jwt.JSONWebToken, hdr *joseHeader) (*idJAGClaims, *oauthError) {
	keys, err := set.lookup(ctx, hdr.Kid)
	if errors.Is(err, errUnknownKID) {
		return nil, invalidGrant("ID-JAG kid %q is not in the IdP JWKS (of %s)", hdr.Kid, set.issuer)
	}
	if err != nil {
		return nil, temporarilyUnavailable(jwksMinRefetch, "cannot verify the ID-JAG: %v", err)
	}
	for _, k := range keys {
		// A key that declares its algorithm is only good for that one
		// (RFC 7517 §4.4); this stops an RS256 key verifying PS256 and such.
		if k.Algorithm != "" && k.Algorithm != hdr.Alg {
			continue
		}
		var payload json.RawMessage
		if err := tok.Claims(k, &payload); err != nil {
			continue
		}
		var c idJAGClaims
		if err := gojson.Unmarshal(payload, &c); err != nil {
			return nil, invalidGrant("the ID-JAG claims are malformed: %s", jwtreason.Claims(raw, err))
		}
		return &c, nil
	}
	if hdr.Kid == "" {
		return nil, invalidGrant("ID-JAG signature (alg %s, no kid) does not verify with any key of the JWKS of the IdP %s", hdr.Alg, set.issuer)
	}
	return nil, invalidGrant("ID-JAG signature does not verify with the IdP key kid %q (alg %s)", hdr.Kid, hdr.Alg)
}

// checkIDJAGClaims checks the signed claims (ID-JAG §4.4.1, RFC 7523 §3).
func (a *Server) checkIDJAGClaims(reg *registration, c *idJAGClaims, clientID string, now time.Time) (*idJAG, *oauthError) {
	skew := a.cfg.Skew
	if _, ok := reg.idpKeys[c.Issuer]; !ok {
		return nil, reg.untrusted(c.Issuer)
	}
	// ID-JAG §4.4.1: aud is this authorization server's issuer, as a
	// string or an array of exactly that one element.
	switch len(c.Audience) {
	case 0:
		return nil, invalidGrant("ID-JAG has no aud; it must be this authorization server (%s)", a.cfg.Issuer)
	case 1:
		if c.Audience[0] != a.cfg.Issuer {
			return nil, invalidGrant("ID-JAG aud %q is not this authorization server (%s)", c.Audience[0], a.cfg.Issuer)
		}
	default:
		return nil, invalidGrant("ID-JAG aud has %d values %q; it must be exactly this authorization server (%s)", len(c.Audience), []string(c.Audience), a.cfg.Issuer)
	}
	if c.Subject == "" {
		return nil, invalidGrant("ID-JAG has no sub")
	}
	if c.ClientID == "" {
		return nil, invalidGrant("ID-JAG has no client_id; it must name the client %q", clientID)
	}
	if c.ClientID != clientID {
		return nil, invalidGrant("ID-JAG client_id %q is not the authenticated client %q (ID-JAG §4.4.1)", c.ClientID, clientID)
	}
	if c.Expiry == nil {
		return nil, invalidGrant("ID-JAG has no exp")
	}
	if exp := c.Expiry.Time(); now.After(exp.Add(skew)) {
		return nil, invalidGrant("ID-JAG expired at %s (now %s, skew %s)", stamp(exp), stamp(now), skew)
	}
	if c.IssuedAt == nil {
		return nil, invalidGrant("ID-JAG has no iat")
	}
	if iat := c.IssuedAt.Time(); iat.After(now.Add(skew)) {
		return nil, invalidGrant("ID-JAG iat %s is in the future (now %s, skew %s)", stamp(iat), stamp(now), skew)
	}
	if c.NotBefore != nil {
		if nbf := c.NotBefore.Time(); nbf.After(now.Add(skew)) {
			return nil, invalidGrant("ID-JAG is not valid before %s (now %s, skew %s)", stamp(nbf), stamp(now), skew)
		}
	}
	// RFC 7523 §3: an exp unreasonably far in the future, or an iat
	// unreasonably far in the past, may be refused. Bounding exp - iat
	// bounds how long the jti stays in the replay cache (checkReplay):
	// iat is at most the skew ahead, so exp + skew is at most the bound
	// and twice the skew ahead.
	if exp, iat := c.Expiry.Time(), c.IssuedAt.Time(); exp.Sub(iat) > reg.maxLife {
		life := shortDuration(exp.Sub(iat))
		if exp.Sub(iat) == math.MaxInt64 {
			life = "of more than 292 years" // Sub saturates at the longest Duration
		}
		return nil, invalidGrant("ID-JAG lifetime %s (iat %s, exp %s) is longer than the %s this authorization server accepts: ID-JAGs are short-lived (RFC 7523 §3, EMA)",
			life, stamp(iat), stamp(exp), shortDuration(reg.maxLife))
	}
	if c.ID == "" {
		return nil, invalidGrant("ID-JAG has no jti (required for replay detection, EMA §7.4)")
	}
	resources, err := stringOrStrings(c.Resource)
	if err != nil {
		return nil, invalidGrant("ID-JAG resource is malformed: %v", err)
	}
	// RFC 8707 §2: a resource the server does not serve is invalid_target,
	// whether the request or the ID-JAG names it.
	for _, r := range resources {
		if !slices.Contains(a.cfg.Resources, r) {
			return nil, invalidTarget("ID-JAG resource %q is not a resource of this authorization server (%s) (EMA §7.6)", r, strings.Join(a.cfg.Resources, ", "))
		}
	}
	jkt, err := confirmationKey(c.Cnf)
	if err != nil {
		return nil, invalidGrant("ID-JAG cnf is unusable: %v", err)
	}
	jag := &idJAG{
		Issuer:        c.Issuer,
		Subject:       c.Subject,
		ClientID:      c.ClientID,
		JTI:           c.ID,
		Email:         c.Email,
		EmailVerified: c.EmailVerified,
		Resources:     resources,
		JKT:           jkt,
		IssuedAt:      c.IssuedAt.Time(),
		Expiry:        c.Expiry.Time(),
	}
	if c.Scope != nil {
		jag.Scopes = strings.Fields(*c.Scope)
		if jag.Scopes == nil {
			jag.Scopes = []string{}
		}
	}
	return jag, nil
}

// selectResource picks the audience of the access token: the request's
// resource parameter (RFC 8707 §2), which the ID-JAG must allow when it
// names resources; else the ID-JAG's single resource; else this server's
// single resource.
func (a *Server) selectResource(jag *idJAG, requested string) (string, *oauthError) {
	allowed := jag.Resources
	if allowed == nil {
		allowed = a.cfg.Resources
	}
	if requested != "" {
		// The configured spelling, which the IdP puts in the ID-JAG
		// whichever spelling its client sent: the request may differ from
		// it as at the IdP (urimatch.Same: a trailing "/", which a client
		// that parses the protected-resource metadata's resource as a URL
		// adds to a URL without a path; scheme and host case; a default
		// port).
		resource := sameResource(a.cfg.Resources, requested)
		switch {
		case resource == "":
			return "", invalidTarget("resource %q is not a resource of this authorization server (%s)", requested, strings.Join(a.cfg.Resources, ", "))
		case !slices.Contains(allowed, resource):
			return "", invalidTarget("resource %q is not granted by the ID-JAG (resource %s)", requested, strings.Join(jag.Resources, ", "))
		}
		return resource, nil
	}
	if len(allowed) == 1 {
		return allowed[0], nil
	}
	return "", invalidTarget("the access token needs one audience and %d resources are possible (%s): send the resource parameter (RFC 8707)", len(allowed), strings.Join(allowed, ", "))
}

// grantScopes returns the scopes of the access token: those of the ID-JAG,
// narrowed to the request's scope parameter when one is sent. The IdP's
// policy decided the ID-JAG's scopes; the client may only ask for less
// (RFC 6749 §3.3): a scope of this server that the ID-JAG lacks is dropped,
// one this server does not know is refused, as a strict server does. An
// ID-JAG without scope grants none.
func (a *Server) grantScopes(reg *registration, jag *idJAG, requested string) ([]string, *oauthError) {
	for _, s := range jag.Scopes {
		if !slices.Contains(reg.scopes, s) {
			return nil, invalidScope("ID-JAG scope %q is not a scope of this authorization server (%s)", s, strings.Join(reg.scopes, " "))
		}
	}
	if requested == "" {
		return dedupe(jag.Scopes), nil
	}
	var granted []string
	for _, s := range strings.Fields(requested) {
		if !slices.Contains(reg.scopes, s) {
			return nil, invalidScope("requested scope %q is not a scope of this authorization server (%s)", s, strings.Join(reg.scopes, " "))
		}
		if slices.Contains(jag.Scopes, s) {
			granted = append(granted, s)
		}
	}
	if len(granted) == 0 {
		return nil, invalidScope("none of the requested scopes %q is granted by the ID-JAG (scope %q)", requested, strings.Join(jag.Scopes, " "))
	}
	return dedupe(granted), nil
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// confirmationKey returns the jkt of a cnf claim (RFC 7800), "" when there
// is none. A binding this server cannot check (another confirmation
// method, RFC 7800 §3.1) is an error rather than no binding: the ID-JAG
// must not pass as a bearer assertion.
func confirmationKey(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var cnf map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cnf); err != nil {
		return "", fmt.Errorf("want a JSON object, got %s", truncate(string(raw), 80))
	}
	var jkt string
	if err := json.Unmarshal(cnf["jkt"], &jkt); err != nil || jkt == "" {
		return "", fmt.Errorf("no jkt in %s; this authorization server checks DPoP key binding only (RFC 9449 §6)", truncate(string(raw), 80))
	}
	for m := range cnf {
		if m != "jkt" {
			return "", fmt.Errorf("it has the confirmation method %q, which this authorization server cannot check; it checks jkt only (RFC 9449 §6)", m)
		}
	}
	return jkt, nil
}

// stringOrStrings decodes a claim that may be a string or an array of
// strings, as resource is (ID-JAG §3.1).
func stringOrStrings(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, errors.New("empty string")
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("want a string or an array of strings, got %s", truncate(string(raw), 80))
	}
	if len(many) == 0 {
		return nil, errors.New("empty array")
	}
	return many, nil
}

// shortDuration formats d as time.Duration does, less the zero units it
// appends ("1h", not "1h0m0s").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// stamp formats a time for error descriptions.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// isIDJAGType reports whether a JWS typ names the ID-JAG media type: typ
// is a media type whose "application/" prefix may be left out (RFC 7515
// §4.1.9, which has the recipient put it back), compared without regard to
// case (RFC 2045 §5.1), as every typ here is (jwstyp).
func isIDJAGType(typ string) bool { return jwstyp.Is(typ, IDJAGType) }
