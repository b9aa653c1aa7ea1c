package authserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/internal/jwscrit"
	"github.com/xaa-idp/xaa-idp/internal/jwstyp"
	"github.com/xaa-idp/xaa-idp/internal/jwtreason"
	"github.com/xaa-idp/xaa-idp/internal/rawbasic"
	"github.com/xaa-idp/xaa-idp/internal/replay"
)

// Client authentication methods (RFC 7591 §2), as authenticateClient
// reports them.
const (
	authBasic         = "client_secret_basic"
	authPost          = "client_secret_post"
	authNone          = "none"
	authPrivateKeyJWT = "private_key_jwt"
)

// clientAssertionType is the RFC 7523 §2.2 client_assertion_type.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authenticateClient identifies and authenticates the client of a request
// to endpoint (RFC 6749 §2.3) among clients (client_id → secret; keys, the
// public keys of those that use private_key_jwt) and the clients with
// metadata documents, and returns its client_id and method.
// Accepted methods:
//
//   - client_secret_basic: the Authorization header, whose id and secret are
//     form-urlencoded before base64 (RFC 6749 §2.3.1); some clients skip the
//     encoding, so the raw values are tried too;
//   - client_secret_post: client_id and client_secret in the body;
//   - private_key_jwt: a client assertion (RFC 7523 §2.2) signed with a key
//     registered for the client (keys) or of its metadata document;
//   - none: client_id alone, for clients registered without a secret or
//     keys and metadata-document clients whose document says none.
//
// Using two methods at once is an invalid_request (RFC 6749 §2.3: "MUST NOT
// use more than one authentication method in each request").
func (a *Server) authenticateClient(r *http.Request, p tokenParams, clients map[string]string, keys map[string][]jose.JSONWebKey, endpoint string) (string, string, *oauthError) {
	if len(r.Header.Values("Authorization")) > 1 {
		// Header.Get reads the first: the request would be the first
		// client's, whatever the second says.
		return "", "", invalidRequest("the request has more than one Authorization header; send one (RFC 6749 §2.3)")
	}
	authorization := r.Header.Get("Authorization")
	postID, oerr := p.single("client_id")
	if oerr != nil {
		return "", "", oerr
	}
	postSecret, oerr := p.single("client_secret")
	if oerr != nil {
		return "", "", oerr
	}
	assertionType, oerr := p.single("client_assertion_type")
	if oerr != nil {
		return "", "", oerr
	}
	assertion, oerr := p.single("client_assertion")
	if oerr != nil {
		return "", "", oerr
	}

	if assertionType != "" || assertion != "" {
		if authorization != "" || postSecret != "" {
			return "", "", invalidRequest("the request uses both a client assertion and a client secret; use one (RFC 6749 §2.3)")
		}
		id, oerr := a.verifyClientAssertion(r.Context(), assertionType, assertion, postID, endpoint, clients, keys)
		return id, authPrivateKeyJWT, oerr
	}

	if authorization != "" {
		basicIDs, basicSecrets, oerr := parseBasic(authorization, clients)
		if oerr != nil {
			return "", "", oerr
		}
		if postSecret != "" {
			return "", "", invalidRequest("the request uses both client_secret_basic (Authorization header) and client_secret_post (client_secret in the body); use one (RFC 6749 §2.3)")
		}
		// A metadata-document client has no secret (its document may not
		// hold one): it authenticates as its document says, even when
		// clients lists its URL, as demo.Stack registers the ones an MCP
		// server maps. An empty Basic secret must not stand in for its key.
		for _, id := range basicIDs {
			if _, keyed := keys[id]; !keyed && a.isMetadataClient(clients, id) {
				return "", "", invalidClient("client %s has a Client ID Metadata Document and so no secret: authenticate as its document says, with a client assertion (private_key_jwt) or client_id alone in the body (none), not with client_secret_basic", id)
			}
		}
		id, ok := findClient(clients, basicIDs)
		if !ok {
			if strings.Contains(basicSecrets[len(basicSecrets)-1], ":") {
				return "", "", invalidClient("unknown client %q (client_secret_basic); the Basic credentials hold more than one ':', and a client_id with ':' (a URL, say) must be form-URL-encoded before base64 (RFC 6749 §2.3.1)", basicIDs[0])
			}
			return "", "", invalidClient("unknown client %q (client_secret_basic)%s", basicIDs[0], a.unknownClientHint(endpoint))
		}
		if postID != "" && postID != id {
			return "", "", invalidRequest("client_id %q in the body is not the client %q of the Authorization header", postID, id)
		}
		if _, keyed := keys[id]; keyed && clients[id] == "" {
			return "", "", keyedClient(id)
		}
		if !secretMatches(clients[id], basicSecrets) {
			return "", "", invalidClient("wrong client secret for client %q (client_secret_basic)", id)
		}
		if clients[id] == "" {
			// A public client's id with an empty password proves nothing:
			// it is client_id alone, method none, which the introspection
			// endpoint refuses.
			return id, authNone, nil
		}
		return id, authBasic, nil
	}

	if postID == "" {
		if postSecret != "" {
			return "", "", invalidRequest("client_secret is sent without client_id")
		}
		return "", "", invalidClient("no client authentication: send %s", a.authMethodsHint(endpoint))
	}
	if _, keyed := keys[postID]; keyed && clients[postID] == "" {
		// Before the metadata document: a URL registered with keys is
		// not resolved, as one registered with a secret is not.
		return "", "", keyedClient(postID)
	}
	if a.isMetadataClient(clients, postID) {
		return a.publicMetadataClient(r.Context(), postID, postSecret)
	}
	if oerr := a.unregisteredMetadataClient(clients, postID); oerr != nil {
		return "", "", oerr
	}
	if _, ok := clients[postID]; !ok {
		return "", "", invalidClient("unknown client %q%s", postID, a.unknownClientHint(endpoint))
	}
	if postSecret == "" {
		if clients[postID] != "" {
			return "", "", invalidClient("client %q is confidential: authenticate with client_secret_basic or client_secret_post", postID)
		}
		return postID, authNone, nil
	}
	if !secretMatches(clients[postID], []string{postSecret}) {
		if clients[postID] == "" {
			return "", "", invalidClient("client %q is a public client and has no secret, but a client_secret was sent", postID)
		}
		return "", "", invalidClient("wrong client secret for client %q (client_secret_post)", postID)
	}
	return postID, authPost, nil
}

// keyedClient refuses a client registered with keys and no secret that
// did not send a client assertion: its client_id proves nothing.
func keyedClient(id string) *oauthError {
	return invalidClient("client %q authenticates with private_key_jwt: send client_assertion_type %s and a client_assertion signed with its key (RFC 7523 §2.2)", id, clientAssertionType)
}

// authMethodsHint says how a client authenticates at endpoint: a public
// client's client_id alone only at the token endpoint, since the
// introspection endpoint needs credentials (RFC 7662 §2.1); a client
// assertion only where metadata-document clients are resolved.
func (a *Server) authMethodsHint(endpoint string) string {
	methods := "client_id and client_secret (client_secret_basic or client_secret_post)"
	if a.cfg.CIMD != nil || len(a.reg.Load().keys) > 0 {
		methods += ", a client assertion (private_key_jwt)"
	}
	if endpoint == a.endpoint("/token") {
		methods += ", or client_id alone for a public client"
	}
	return methods + " (RFC 6749 §2.3)"
}

// isMetadataClient reports whether the client_id id is resolved by its
// Client ID Metadata Document. A URL registered with a secret is not: the
// configuration mapped a confidential IdP client to it, as Claude's
// client_id at every MCP server is its document's URL
// (https://claude.ai/oauth/mcp-oauth-client-metadata), and demo.Stack
// registers such a client with its secret at the IdP (docs/http.md, "Demo authorization servers"),
// which authenticates it here without fetching the URL.
//
// With CIMDRegisteredOnly, a URL that clients lacks is no client at all
// (unregisteredMetadataClient).
func (a *Server) isMetadataClient(clients map[string]string, id string) bool {
	secret, registered := clients[id]
	return cimd.IsURL(id) && a.cfg.CIMD != nil && secret == "" && (registered || !a.cfg.CIMDRegisteredOnly)
}

// unregisteredMetadataClient refuses a URL client_id that clients lacks
// at a server with CIMDRegisteredOnly, or returns nil.
func (a *Server) unregisteredMetadataClient(clients map[string]string, id string) *oauthError {
	if _, registered := clients[id]; registered || !a.cfg.CIMDRegisteredOnly || !cimd.IsURL(id) {
		return nil
	}
	return invalidClient("unknown client %s: its metadata document is not enough here, the client must be registered at this authorization server (an MCP server's clients map names it), and it is not (or no longer)", id)
}

// publicMetadataClient authenticates a client_id URL sent alone: its
// metadata document must declare token_endpoint_auth_method none.
func (a *Server) publicMetadataClient(ctx context.Context, clientID, secret string) (string, string, *oauthError) {
	c, err := a.cfg.CIMD.Resolve(ctx, clientID)
	if err != nil {
		return "", "", cimdRefusal(err, invalidClient("%v", err))
	}
	switch {
	case secret != "":
		return "", "", invalidClient("client %s has a metadata document and so no secret, but a client_secret was sent", clientID)
	case c.TokenEndpointAuthMethod != cimd.AuthNone:
		return "", "", invalidClient("client %s authenticates with %s, as its metadata document says: send a client assertion (RFC 7523 §2.2)", clientID, c.TokenEndpointAuthMethod)
	}
	return clientID, authNone, nil
}

// verifyClientAssertion checks a private_key_jwt client assertion (RFC 7523
// §3) of a client registered with keys, or of a client with a metadata
// document, which clients must have with CIMDRegisteredOnly, and returns
// its client_id.
// The aud may be this server's issuer or the URL of the endpoint called.
func (a *Server) verifyClientAssertion(ctx context.Context, assertionType, raw, postID, endpoint string, clients map[string]string, keys map[string][]jose.JSONWebKey) (string, *oauthError) {
	if assertionType != clientAssertionType {
		return "", invalidClient("client_assertion_type %q is not %s (RFC 7523 §2.2)", assertionType, clientAssertionType)
	}
	if raw == "" {
		return "", invalidClient("client_assertion is missing (RFC 7523 §2.2)")
	}
	tok, err := jwt.ParseSigned(raw, idJAGAlgorithms)
	if err != nil {
		return "", invalidClient("the client assertion is not a JWS signed with RS256, ES256 or EdDSA: %s", jwtreason.Parse(raw, err))
	}
	typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string)
	if why := jwstyp.NotAssertion(typ); why != "" {
		return "", invalidClient("the client assertion's %s", why)
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return "", invalidClient("the client assertion's claims are malformed: %s", jwtreason.Claims(raw, err))
	}
	id := unverified.Issuer
	registered, keyed := keys[id]
	switch {
	case id == "" || unverified.Subject != id:
		return "", invalidClient("the client assertion's iss %q and sub %q must both be the client_id (RFC 7523 §3)", id, unverified.Subject)
	case postID != "" && postID != id:
		return "", invalidClient("client_id %q is not the client assertion's iss %q", postID, id)
	case !keyed && (!cimd.IsURL(id) || a.cfg.CIMD == nil):
		return "", invalidClient("client %q cannot use private_key_jwt here: only clients registered with keys or with a Client ID Metadata Document can", id)
	}
	asked := time.Now() // the resolver's clock (cimd.Resolver.Refetch)
	c := &cimd.Client{Keys: registered}
	if !keyed {
		if oerr := a.unregisteredMetadataClient(clients, id); oerr != nil {
			return "", oerr
		}
		if c, err = a.cfg.CIMD.Resolve(ctx, id); err != nil {
			return "", cimdRefusal(err, invalidClient("%v", err))
		}
		if c.TokenEndpointAuthMethod != cimd.AuthPrivateKeyJWT {
			return "", invalidClient("client %s authenticates with %s, as its metadata document says, not with a client assertion", id, c.TokenEndpointAuthMethod)
		}
	}
	hdr := tok.Headers[0]
	if err := jwscrit.Check(hdr); err != nil {
		return "", invalidClient("the client assertion's %v", err)
	}
	var claims jwt.Claims
	verifies := func(c *cimd.Client) bool {
		for _, k := range c.Keys {
			if (hdr.KeyID != "" && k.KeyID != hdr.KeyID) || (k.Algorithm != "" && k.Algorithm != hdr.Algorithm) {
				continue
			}
			if tok.Claims(k, &claims) == nil {
				return true
			}
		}
		return false
	}
	verified := verifies(c)
	if !verified && keyed {
		return "", invalidClient("the client assertion (alg %s, kid %q) does not verify with any key registered for client %q", hdr.Algorithm, hdr.KeyID, id)
	}
	if !verified {
		// The client may have rotated its key since its document was
		// cached: fetch it again, at most once per cimd.RefetchInterval.
		nc, err := a.cfg.CIMD.Refetch(ctx, id, asked)
		if errors.Is(err, cimd.ErrBusy) {
			return "", cimdRefusal(err, nil)
		}
		if nc != nil && nc.TokenEndpointAuthMethod == cimd.AuthPrivateKeyJWT {
			verified = verifies(nc)
		}
	}
	if !verified {
		return "", invalidClient("the client assertion (alg %s, kid %q) does not verify with any key of the metadata document of %s", hdr.Algorithm, hdr.KeyID, id)
	}
	now := a.cfg.Now()
	if !claims.Audience.Contains(a.cfg.Issuer) && !claims.Audience.Contains(endpoint) {
		return "", invalidClient("the client assertion's aud %q is neither this authorization server (%s) nor %s (RFC 7523 §3)", []string(claims.Audience), a.cfg.Issuer, endpoint)
	}
	if claims.Expiry == nil {
		return "", invalidClient("the client assertion has no exp (RFC 7523 §3)")
	}
	exp := claims.Expiry.Time()
	if now.After(exp.Add(a.cfg.Skew)) {
		return "", invalidClient("the client assertion expired at %s (now %s)", stamp(exp), stamp(now))
	}
	if claims.IssuedAt != nil && claims.IssuedAt.Time().After(now.Add(a.cfg.Skew)) {
		return "", invalidClient("the client assertion was issued in the future, at %s (now %s)", stamp(claims.IssuedAt.Time()), stamp(now))
	}
	if claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(a.cfg.Skew)) {
		return "", invalidClient("the client assertion is not valid before %s (now %s)", stamp(claims.NotBefore.Time()), stamp(now))
	}
	if exp.After(now.Add(replay.MaxAssertionLifetime + a.cfg.Skew)) {
		return "", invalidClient("the client assertion's exp %s is too far in the future (now %s): make it expire within %s (RFC 7523 §3)", stamp(exp), stamp(now), replay.MaxAssertionLifetime)
	}
	if claims.ID == "" {
		return "", invalidClient("the client assertion has no jti; it is needed for replay detection (RFC 7523 §3)")
	}
	if len(claims.ID) > replay.MaxJTIBytes {
		return "", invalidClient("the client assertion's jti is %d bytes, more than the %d accepted", len(claims.ID), replay.MaxJTIBytes)
	}
	// Without iat, it was made at most MaxAssertionLifetime before exp.
	made := exp.Add(-replay.MaxAssertionLifetime)
	if claims.IssuedAt != nil {
		made = claims.IssuedAt.Time()
	}
	err = a.use(a.clientAs, a.clientAsWall, replayAssertionKind, replayAssertionWallKind, replayKey("client_assertion\x00"+id+"\x00"+claims.ID), "", exp.Add(a.cfg.Skew+replayPast), now)
	var full *replay.FullError
	switch {
	case err == nil && a.madeBeforeFloor(replayAssertionKind, made):
		return "", invalidClient("the client assertion was made at %s, before this authorization server started at %s unable to read all of its record of used assertions; it cannot tell whether this one was used: make a new assertion", stamp(made), stamp(a.replayFloor))
	case err == nil:
		return id, nil
	case errors.Is(err, replay.ErrReplayed):
		return "", invalidClient("the client assertion's jti %q was already used; make a new assertion for every request (RFC 7523 §3)", claims.ID)
	case errors.As(err, &full):
		return "", temporarilyUnavailable(full.RetryAfter, "replay cache holds %d unexpired assertions; retry in %s", full.Size, full.RetryAfter.Round(time.Second))
	default:
		return "", temporarilyUnavailable(time.Second, "replay check: %v", err)
	}
}

// findClient returns the first of the candidate ids that clients has.
func findClient(clients map[string]string, ids []string) (string, bool) {
	for _, id := range ids {
		if _, ok := clients[id]; ok {
			return id, true
		}
	}
	return "", false
}

// secretMatches compares in constant time. Hashing first makes the time
// independent of the secrets' lengths as well as their contents.
func secretMatches(secret string, candidates []string) bool {
	want := sha256.Sum256([]byte(secret))
	match := 0
	for _, c := range candidates {
		got := sha256.Sum256([]byte(c))
		match |= subtle.ConstantTimeCompare(want[:], got[:])
	}
	return match == 1
}

// parseBasic decodes an RFC 7617 Basic header into candidate ids and
// secrets: the RFC 6749 §2.3.1 form-urldecoded values first, then the raw
// ones when they differ, for clients that do not encode. A client that
// does not encode a client_id holding ':' (the TypeScript SDK's
// client_secret_basic, btoa(id + ":" + secret)) is found as the IdP finds
// it (rawbasic.Split).
func parseBasic(authorization string, clients map[string]string) (ids, secrets []string, _ *oauthError) {
	scheme, cred, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return nil, nil, invalidClient("Authorization scheme %q is not accepted at the token endpoint; use Basic (client_secret_basic) or client_secret_post", scheme)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return nil, nil, invalidClient("the Basic credentials are not valid base64: %v", err)
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, nil, invalidClient("the Basic credentials have no ':' between client id and secret")
	}
	if c, s, split := rawbasic.Split(id, secret, func(c string) bool { _, ok := clients[c]; return ok }); split {
		return []string{c}, decodedAndRaw(s), nil
	}
	return decodedAndRaw(id), decodedAndRaw(secret), nil
}

func decodedAndRaw(s string) []string {
	d, err := url.QueryUnescape(s)
	if err != nil || d == s {
		return []string{s}
	}
	return []string{d, s}
}

// unknownClientHint follows "unknown client" at the token endpoint, where
// the usual cause is the client_id the client has at the IdP: this
// authorization server registers each client under the client_id an MCP
// server's clients: map gives it, which the IdP writes into the ID-JAG
// (ID-JAG draft section 3, client_id). The value is not quoted here: a
// description says nothing a token holds.
func (a *Server) unknownClientHint(endpoint string) string {
	if endpoint != a.endpoint("/token") {
		return ""
	}
	return "; authenticate as the client this authorization server registered, whose client_id the ID-JAG carries (at xaa-idp: the value the MCP server's clients: maps the IdP client to)"
}

// cimdRefusal is the answer to a client_id URL that did not resolve:
// refusal, unless the process was fetching as many metadata documents as
// it may (cimd.ErrBusy, a bound the IdP shares under demo), which is no
// fault of the client's: 503 temporarily_unavailable with Retry-After, as
// the IdP answers it.
func cimdRefusal(err error, refusal *oauthError) *oauthError {
	if errors.Is(err, cimd.ErrBusy) {
		return temporarilyUnavailable(cimd.DefaultTimeout, "%v", err)
	}
	return refusal
}
