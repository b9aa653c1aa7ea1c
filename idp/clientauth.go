package idp

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/internal/ed25519alg"
	"github.com/xaa-idp/xaa-idp/internal/jwscrit"
	"github.com/xaa-idp/xaa-idp/internal/jwstyp"
	"github.com/xaa-idp/xaa-idp/internal/jwtreason"
	"github.com/xaa-idp/xaa-idp/internal/rawbasic"
	"github.com/xaa-idp/xaa-idp/internal/replay"
	"github.com/xaa-idp/xaa-idp/policy"
)

// clientAssertionAlgs are the signature algorithms accepted for
// private_key_jwt client assertions (RFC 7523 section 3); never none or HS*.
// Ed25519 is EdDSA with an Ed25519 key under RFC 9864's name, which
// openid-client writes (ed25519alg).
var clientAssertionAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA, ed25519alg.Alg}

// clientAssertionAlgNames are clientAssertionAlgs as discovery lists them.
var clientAssertionAlgNames = func() []string {
	names := make([]string, len(clientAssertionAlgs))
	for i, alg := range clientAssertionAlgs {
		names[i] = string(alg)
	}
	return names
}()

// clientAuthParams are the body parameters of client authentication.
var clientAuthParams = []string{"client_id", "client_secret", "client_assertion_type", "client_assertion"}

// ambiguousClientAuth refuses a token request that says two things about its client: more than one
// authentication method (RFC 6749 section 2.3: Basic, client_secret in the body, client_assertion),
// one of their parameters twice (RFC 6749 section 3.2), or Basic credentials of one client with
// another's client_id in the body. Every grant checks it before it authenticates: the code and
// refresh grants too, which zitadel authenticates by one of the two.
func ambiguousClientAuth(r *http.Request, form *tokenForm) *oauthError {
	for _, name := range clientAuthParams {
		if form.count(name) > 1 {
			return duplicateParam(name, "3.2")
		}
	}
	basicID, _, hasBasic := r.BasicAuth()
	if !hasBasic && basicScheme(r.Header.Get("Authorization")) {
		// Not read as no header: a public client's client_id in the body
		// would go through beside credentials that failed.
		return invalidClient("the Authorization header's Basic credentials are not base64 of client_id:client_secret (RFC 7617 section 2, RFC 6749 section 2.3.1)")
	}
	methods := 0
	for _, used := range []bool{hasBasic, form.Get("client_secret") != "", form.Get("client_assertion") != ""} {
		if used {
			methods++
		}
	}
	if methods > 1 {
		return invalidRequest("use one client authentication method per request (RFC 6749 section 2.3): Basic, client_secret in the body or client_assertion, not several")
	}
	if hasBasic {
		id := decodeBasic(basicID)
		if bodyID := form.Get("client_id"); bodyID != "" && bodyID != id {
			return invalidRequest("client_id %q in the body differs from the Basic credentials' client %q", bodyID, id)
		}
	}
	return nil
}

// basicScheme reports whether the Authorization header h names the Basic
// scheme, whatever follows it: net/http reads only "Basic " and a space,
// so "Basic" alone or followed by a tab are Basic credentials it cannot
// read.
func basicScheme(h string) bool {
	scheme, _, _ := strings.Cut(h, " ")
	scheme, _, _ = strings.Cut(scheme, "\t")
	return strings.EqualFold(scheme, "Basic")
}

// authenticateClient implements RFC 6749 section 2.3 for the token
// exchange: client_secret_basic (URL-decoded, section 2.3.1),
// client_secret_post, private_key_jwt (RFC 7523 section 2.2), or none for
// a public client. One method per request.
func (s *Server) authenticateClient(r *http.Request, form *tokenForm) (*policy.Client, *oauthError) {
	cfg := s.Config()
	ctx := r.Context()
	if e := ambiguousClientAuth(r, form); e != nil {
		return nil, e
	}
	basicID, basicSecret, hasBasic := r.BasicAuth()
	postSecret := form.Get("client_secret")
	assertion := form.Get("client_assertion")
	switch {
	case hasBasic:
		id := decodeBasic(basicID)
		c, err := s.tokenClient(ctx, cfg, id)
		if err != nil {
			return nil, cimdRefusal(err)
		}
		if c == nil {
			if strings.Contains(basicSecret, ":") {
				return nil, invalidClient("client_id %q is not registered at this IdP; the Basic credentials hold more than one ':', and a client_id with ':' (a URL, say) must be form-URL-encoded before base64 (RFC 6749 section 2.3.1)", id)
			}
			return nil, invalidClient("client_id %q is not registered at this IdP", id)
		}
		if c.Public() && basicSecret == "" {
			// client_id alone, in the header: golang.org/x/oauth2 sends
			// a public client so (Basic with an empty password), and
			// zitadel's code and refresh grants and the demo
			// authorization servers take it as none.
			return c, nil
		}
		if e := secretOfPublic(r, form, c); e != nil {
			return nil, e
		}
		if !secretMatches(c, basicSecret) && !secretMatches(c, decodeBasic(basicSecret)) {
			return nil, invalidClient("client authentication failed for %q: wrong client_secret", id)
		}
		return c, nil
	case postSecret != "":
		id := form.Get("client_id")
		if id == "" {
			return nil, invalidClient("client_secret was sent without client_id")
		}
		c, err := s.tokenClient(ctx, cfg, id)
		if err != nil {
			return nil, cimdRefusal(err)
		}
		if c == nil {
			return nil, invalidClient("client_id %q is not registered at this IdP", id)
		}
		if e := secretOfPublic(r, form, c); e != nil {
			return nil, e
		}
		if !secretMatches(c, postSecret) {
			return nil, invalidClient("client authentication failed for %q: wrong client_secret", id)
		}
		return c, nil
	case assertion != "":
		return s.authenticateAssertion(r, cfg, form)
	}
	id := form.Get("client_id")
	if id == "" {
		return nil, invalidClient("no client authentication: send client_id (and client_secret, for a confidential client) with Basic or in the body")
	}
	c, err := s.tokenClient(ctx, cfg, id)
	if err != nil {
		return nil, cimdRefusal(err)
	}
	if c == nil {
		return nil, invalidClient("client_id %q is not registered at this IdP", id)
	}
	if !c.Public() {
		if keysOnly(c) {
			return nil, assertionMissing(id)
		}
		return nil, invalidClient("client %q is confidential: authenticate with client_secret_basic, client_secret_post or private_key_jwt", id)
	}
	return c, nil
}

// secretOfPublic refuses a secret, a Basic password or a client_secret in
// the body, sent for the public client c: it has none, so no secret
// authenticates it (OpenID Connect Core section 9, auth method none;
// RFC 6749 section 2.3: one method per request). Every grant refuses it,
// the code and refresh grants too, before the code or refresh token is
// looked at: a client that believes itself confidential learns of the
// mismatch at its first request, not at the token exchange, and a secret
// is never taken whatever it is. The official SDKs send a public client's
// client_id alone, or Basic with an empty password.
func secretOfPublic(r *http.Request, form *tokenForm, c *policy.Client) *oauthError {
	if !c.Public() {
		return nil
	}
	if _, pw, ok := r.BasicAuth(); ok && pw != "" {
		return invalidClient("client %q is a public client and has no secret, but Basic credentials with a password were sent: send an empty password or client_id alone in the body", c.ClientID)
	}
	if form.Get("client_secret") != "" {
		return invalidClient("client %q is a public client and has no secret, but client_secret was sent: send client_id alone (token endpoint auth method none), or give the client a client_secret in the configuration", c.ClientID)
	}
	return nil
}

// keysOnly reports whether c authenticates with private_key_jwt alone: it
// has keys and no secret (a metadata document's client, say), so no
// secret method can work for it.
func keysOnly(c *policy.Client) bool { return c.ClientSecret == "" && len(c.JWKS) > 0 }

// assertionMissing is the answer to a keysOnly client that sent no client
// assertion, at every grant.
func assertionMissing(id string) *oauthError {
	return invalidClient("client %q authenticates with private_key_jwt: send client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer and a client_assertion signed with its key (RFC 7523 section 2.2)", id)
}

// canonicalBasic rewrites the request's HTTP Basic credentials into the
// form RFC 6749 section 2.3.1 asks for (client_id and secret
// form-URL-encoded before base64) when the client sent them as they are,
// so that every reader of the header (ours and op's, which decodes them)
// names the client the client meant. The decoded client_id comes first;
// only when no client has it, the value as sent does if a client has that
// (a client_id holding '+' or '%', unencoded), so that it never makes
// another client authenticate than the one the decoded id names. The
// secret likewise: decoded, or as sent when that is the client's secret.
// A header that already decodes to what it names is left alone (the
// token exchange's usual case, which should not pay for a rewrite).
func (s *Server) canonicalBasic(r *http.Request) {
	rawID, rawSecret, ok := r.BasicAuth()
	if !ok {
		return
	}
	cfg := s.Config()
	if id, secret, split := s.splitRawBasic(cfg, rawID, rawSecret); split {
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		return
	}
	if !strings.ContainsAny(rawID, "%+") && !strings.ContainsAny(rawSecret, "%+") {
		return // nothing to decode: the header names what it says
	}
	id := decodeBasic(rawID)
	if id != rawID && s.client(cfg, id) == nil && !cimd.IsURL(id) && s.client(cfg, rawID) != nil {
		id = rawID
	}
	secret := decodeBasic(rawSecret)
	if c := s.client(cfg, id); c != nil && !secretMatches(c, secret) && secretMatches(c, rawSecret) {
		secret = rawSecret
	}
	if decodes(rawID, id) && decodes(rawSecret, secret) {
		return // every reader already decodes the header to these
	}
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
}

// splitRawBasic finds the client of Basic credentials whose client_id
// holds ':' and was sent as it is, not form-URL-encoded (curl -u, Python's
// HTTPBasicAuth, the TypeScript SDK's btoa(id + ":" + secret)), as the
// demo authorization servers find it (rawbasic.Split), among the
// configured clients; the secret is as sent, or decoded if that is the
// client's secret. A metadata document URL is not looked for so: fetching
// every prefix of the credentials is not worth a client that can encode.
func (s *Server) splitRawBasic(cfg *policy.Config, rawID, rawSecret string) (id, secret string, ok bool) {
	id, secret, ok = rawbasic.Split(rawID, rawSecret, func(c string) bool { return s.client(cfg, c) != nil })
	if !ok {
		return "", "", false
	}
	if c := s.client(cfg, id); !secretMatches(c, secret) && secretMatches(c, decodeBasic(secret)) {
		secret = decodeBasic(secret)
	}
	return id, secret, true
}

// decodes reports whether raw form-URL-decodes, without error, to v.
func decodes(raw, v string) bool {
	d, err := url.QueryUnescape(raw)
	return err == nil && d == v
}

func decodeBasic(v string) string {
	if d, err := url.QueryUnescape(v); err == nil {
		return d
	}
	return v
}

func secretMatches(c *policy.Client, secret string) bool {
	return c.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(c.ClientSecret), []byte(secret)) == 1
}

// assertionIssuer is the iss of the client assertion raw, unverified, or
// "" when raw is none or not a JWT.
func assertionIssuer(raw string) string {
	if raw == "" {
		return ""
	}
	tok, err := jwt.ParseSigned(raw, clientAssertionAlgs)
	if err != nil {
		return ""
	}
	var claims jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&claims) != nil {
		return ""
	}
	return claims.Issuer
}

// authenticateAssertion verifies a private_key_jwt client assertion: iss
// and sub are the client, aud names this IdP (issuer or token endpoint),
// it is signed by one of the client's registered keys, it is live, and its
// jti is not replayed. r is the request that carries it.
func (s *Server) authenticateAssertion(r *http.Request, cfg *policy.Config, form *tokenForm) (*policy.Client, *oauthError) {
	ctx := r.Context()
	if t := form.Get("client_assertion_type"); t != clientAssertionJWT {
		return nil, invalidClient("client_assertion_type must be %s, got %q", clientAssertionJWT, t)
	}
	raw := form.Get("client_assertion")
	tok, err := jwt.ParseSigned(raw, clientAssertionAlgs)
	if err != nil {
		return nil, invalidClient("client_assertion is not a signed JWT with an accepted algorithm (%s): %s", strings.Join(clientAssertionAlgNames, ", "), jwtreason.Parse(raw, err))
	}
	typ, _ := headerType(tok.Headers[0])
	if why := jwstyp.NotAssertion(typ); why != "" {
		return nil, invalidClient("client_assertion %s", why)
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, invalidClient("client_assertion claims are malformed: %s", jwtreason.Claims(raw, err))
	}
	id := unverified.Issuer
	if bodyID := form.Get("client_id"); bodyID != "" && bodyID != id {
		return nil, invalidClient("client_assertion iss %q differs from client_id %q", id, bodyID)
	}
	asked := time.Now() // the metadata document resolver's clock (refetchCIMD)
	c, err := s.tokenClient(ctx, cfg, id)
	if err != nil {
		return nil, cimdRefusal(err)
	}
	if c == nil {
		return nil, invalidClient("client_assertion iss %q is not a registered client", id)
	}
	keys, err := clientKeys(c)
	if err != nil || len(keys.Keys) == 0 {
		return nil, invalidClient("client %q has no registered keys for private_key_jwt", id)
	}
	hdr := tok.Headers[0]
	if err := jwscrit.Check(hdr); err != nil {
		return nil, invalidClient("client_assertion %v", err)
	}
	kid := hdr.KeyID
	var claims jwt.Claims
	unfit := ""
	verifies := func(keys *jose.JSONWebKeySet) bool {
		for _, k := range keys.Keys {
			if kid != "" && k.KeyID != kid {
				continue
			}
			// A key that declares its use or algorithm is good only for
			// that (RFC 7517 sections 4.2 and 4.4, RFC 8725 section 3.1),
			// as at the demo authorization servers: an RS256 key verifies
			// no PS256.
			if k.Use != "" && k.Use != "sig" {
				unfit = fmt.Sprintf("; key %q is registered with use %q, not sig", k.KeyID, k.Use)
				continue
			}
			if k.Algorithm != "" && !ed25519alg.SameAlg(k.Algorithm, hdr.Algorithm) {
				unfit = fmt.Sprintf("; key %q is registered for alg %s, not the assertion's alg %s", k.KeyID, k.Algorithm, hdr.Algorithm)
				continue
			}
			if err := ed25519alg.Claims(tok, raw, k.Key, &claims); err == nil {
				return true
			}
		}
		return false
	}
	verified := verifies(keys)
	if !verified && cfg.Client(id) == nil && cimd.IsURL(id) {
		// A metadata document client may have rotated its key since its
		// document was cached: fetch it again, at most once per
		// cimd.RefetchInterval for the client (cimd.go).
		dc, busy := s.refetchCIMD(ctx, cfg, id, asked)
		if busy != nil {
			return nil, busy
		}
		if dc != nil {
			if keys, err := clientKeys(dc); err == nil {
				unfit = ""
				c, verified = dc, verifies(keys)
			}
		}
	}
	if !verified {
		return nil, invalidClient("client_assertion signature does not verify with client %q's registered keys (kid %q)%s", id, kid, unfit)
	}
	// The wall clock, not the IdP's Clock: the client signs its assertion on
	// its own clock (the SDKs use time.Now), which a test that moves the
	// IdP's clock does not move, and op checks the assertions of the code
	// and refresh grants on the wall clock too.
	now := time.Now()
	if claims.Subject != id {
		return nil, invalidClient("client_assertion sub %q must equal iss %q (RFC 7523 section 3)", claims.Subject, id)
	}
	okta := cfg.OktaPaths() && slices.Contains([]string(claims.Audience), s.issuer+oktaTokenPath)
	if !okta && !slices.Contains([]string(claims.Audience), s.issuer) && !slices.Contains([]string(claims.Audience), s.issuer+pathToken) {
		return nil, invalidClient("client_assertion aud %v must contain the issuer %s or the token endpoint %s", []string(claims.Audience), s.issuer, s.issuer+pathToken)
	}
	if claims.Expiry == nil {
		return nil, invalidClient("client_assertion has no exp")
	}
	// Each refusal says the time it names and the one it was judged at,
	// on which clock, as the demo authorization servers do: the IdP's
	// clock may have been moved, and this is not it.
	judged := func() string { return fmt.Sprintf("now %s on the wall clock, skew %s", stamp(now), subjectSkew) }
	if exp := claims.Expiry.Time(); now.After(exp.Add(subjectSkew)) {
		return nil, invalidClient("client_assertion expired at %s (exp; %s)", stamp(exp), judged())
	}
	if claims.IssuedAt != nil && claims.IssuedAt.Time().After(now.Add(subjectSkew)) {
		return nil, invalidClient("client_assertion was issued in the future, at %s (iat; %s)", stamp(claims.IssuedAt.Time()), judged())
	}
	if claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(subjectSkew)) {
		return nil, invalidClient("client_assertion is not valid before %s (nbf; %s)", stamp(claims.NotBefore.Time()), judged())
	}
	if limit := now.Add(replay.MaxAssertionLifetime + subjectSkew); claims.Expiry.Time().After(limit) {
		return nil, invalidClient("client_assertion exp %s is too far ahead (now %s on the wall clock): make it expire within %s (RFC 7523 section 3)", stamp(claims.Expiry.Time()), stamp(now), replay.MaxAssertionLifetime)
	}
	if claims.ID == "" {
		return nil, invalidClient("client_assertion has no jti")
	}
	if len(claims.ID) > replay.MaxJTIBytes {
		return nil, invalidClient("client_assertion jti is %d bytes, more than the %d accepted", len(claims.ID), replay.MaxJTIBytes)
	}
	// One step, check and record: with a Get then a Put, concurrent
	// requests carrying the same assertion could all pass (RFC 7523
	// section 3, item 7).
	key := id + "\x00" + claims.ID
	used, owner := s.usedJTIs, ""
	if cimd.IsURL(id) {
		// Anyone who hosts a metadata document with keys can mint valid
		// assertions, as many as they like: theirs fill a cache of their
		// own, never the one the configured clients need, and there one
		// client address holds no more than its share once it is half
		// full, as at /authorize (pendingShare).
		used, owner = s.cimdJTIs, sourceOf(r)
	}
	if err := used.UseShared(key, owner, claims.Expiry.Time().Add(pastExp), now); err != nil {
		return nil, replayRefusal(err, invalidClient("client_assertion jti %q was already used", claims.ID))
	}
	return c, nil
}
