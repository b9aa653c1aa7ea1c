// Package dpop checks RFC 9449 DPoP proofs: the JWTs a client sends in the
// DPoP header to prove that it holds the private key a token is bound to.
// The IdP checks them on the token exchange before it binds an ID-JAG to the
// key (cnf.jkt), the demo authorization server on the JWT bearer grant, and
// the demo MCP servers on every request with a DPoP-bound access token.
//
// Verify runs the checks of RFC 9449 section 4.3 that need neither state
// nor the token. Two are the caller's: that the key of a bound token is
// the proof's (step 12: compare cnf.jkt with [Proof.JKT]), and that the
// proof is not replayed (section 11.1), which needs a store: [Proof.ReplayKey]
// is what to remember, [Proof.ReplayUntil] for how long. Server-provided
// nonces (section 8) are not supported.
//
// NewProof makes a proof: the CLI's `exchange --dpop-key` sends one to the
// IdP, and `dpop-proof` prints one for the client's own requests.
package dpop

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/xaa-idp/xaa-idp/internal/ed25519alg"
	"github.com/xaa-idp/xaa-idp/internal/jwscrit"
	"github.com/xaa-idp/xaa-idp/internal/jwstyp"
	"github.com/xaa-idp/xaa-idp/internal/jwtreason"
	"github.com/xaa-idp/xaa-idp/internal/redact"
	"github.com/xaa-idp/xaa-idp/internal/replay"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	gojson "github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	// Header is the request header that carries a proof (RFC 9449 section 4.1).
	Header = "DPoP"
	// Scheme is the Authorization scheme of a DPoP-bound access token
	// (RFC 9449 section 7.1), and the token_type of a token response that
	// carries one (section 5).
	Scheme = "DPoP"
	// ProofType is the typ header of every proof (RFC 9449 section 4.2).
	// Verify takes it in any case, with "application/" or without
	// (jwstyp.Is: a media type, RFC 7515 section 4.1.9).
	ProofType = "dpop+jwt"
	// DefaultWindow is how far a proof's iat may be from the server's clock,
	// either way, when Want.Window is zero.
	DefaultWindow = 60 * time.Second
	// MaxProofBytes bounds a proof. The largest accepted, of an RSA key of
	// jose.MaxRSAModulusBits (4096), is under 3 KB, and the replay stores
	// hold every jti for a while.
	MaxProofBytes = 8 << 10
	minRSABits    = 2048 // RFC 7518 section 3.3
)

// Algorithms are the accepted proof algorithms: asymmetric only (RFC 9449
// section 4.3 step 5), never none nor HS*, whose key anyone could supply.
// Ed25519 is EdDSA with an Ed25519 key under RFC 9864's name, which
// openid-client writes (ed25519alg).
var Algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA, ed25519alg.Alg}

// AlgorithmNames returns Algorithms as strings, the value of
// dpop_signing_alg_values_supported (RFC 9449 section 5.1, RFC 9728).
func AlgorithmNames() []string {
	names := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		names[i] = string(a)
	}
	return names
}

// privateMembers are the JWK members that only a private or symmetric key
// has (RFC 7518 section 6); a proof's jwk must have none of them.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// rsaBits is the size of the modulus of jwk, an RSA key's members as
// sent, or 0 when jwk is no RSA key or its n cannot be read (which
// go-jose then refuses).
func rsaBits(jwk map[string]json.RawMessage) int {
	var kty, n string
	if gojson.Unmarshal(jwk["kty"], &kty) != nil || kty != "RSA" || gojson.Unmarshal(jwk["n"], &n) != nil {
		return 0
	}
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		return 0
	}
	return new(big.Int).SetBytes(b).BitLen()
}

// ErrInvalidProof is what every error of Verify and FromHeader is
// (errors.Is); their text is the error_description of an
// invalid_dpop_proof answer.
var ErrInvalidProof = errors.New("invalid DPoP proof")

// proofError is a refusal that says which check failed.
type proofError string

func (e proofError) Error() string        { return string(e) }
func (e proofError) Is(target error) bool { return target == ErrInvalidProof }

func refuse(format string, args ...any) error { return proofError(fmt.Sprintf(format, args...)) }

// Want is what the request a proof arrived with says the proof must contain.
type Want struct {
	// Method is the request's method, the proof's htm.
	Method string
	// URL is the URL the server is reached at, the proof's htu; both are
	// compared without query and fragment, after RFC 3986 section 6.2.2 and
	// 6.2.3 normalisation (RFC 9449 section 4.3 step 9).
	URL string
	// Now is the server's clock.
	Now time.Time
	// Window is how far iat may be from Now, either way; 0 means
	// DefaultWindow.
	Window time.Duration
	// AccessToken is the access token the request presents to a protected
	// resource, whose hash ath must be (RFC 9449 section 4.3 step 12). It
	// is "" at a token endpoint, where a proof must have no ath.
	AccessToken string
}

// Proof is a proof that passed Verify.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key, base64url:
	// the cnf.jkt of a token bound to it (RFC 9449 section 6.1).
	JKT string
	// JTI is the proof's jti.
	JTI string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
	// ReplayUntil is when the proof stops passing the iat check: until then
	// its jti must be remembered, and the proof refused if seen again.
	ReplayUntil time.Time
}

// ReplayKey is the key under which to remember the proof in a replay store:
// its jti, which only has to be unique per key, with the key's thumbprint.
func (p *Proof) ReplayKey() string { return p.JKT + "\x00" + p.JTI }

// FromHeader returns the proof of a request: "" when it has none, an error
// when it has several (RFC 9449 section 4.3 step 1).
func FromHeader(h http.Header) (string, error) {
	switch v := h.Values(Header); len(v) {
	case 0:
		return "", nil
	case 1:
		if v[0] == "" {
			return "", refuse("the DPoP header is empty")
		}
		return v[0], nil
	default:
		return "", refuse("the request has %d DPoP headers; send exactly one (RFC 9449 section 4.3)", len(v))
	}
}

// proofHeader is the part of the JOSE header read before go-jose parses the
// proof, so that a refusal can name the offending value.
type proofHeader struct {
	Typ string                     `json:"typ"`
	Alg string                     `json:"alg"`
	JWK map[string]json.RawMessage `json:"jwk"`
}

// unreadableKey says why jwk is no public key go-jose reads, or "" when it
// is one: go-jose's refusal of the header ("invalid EC key, missing x/y")
// reached the client as "its JOSE header is not one this server can
// verify", of a header whose typ, alg and form are right.
func unreadableKey(jwk map[string]json.RawMessage) string {
	raw, err := json.Marshal(jwk)
	if err != nil {
		return ""
	}
	var key jose.JSONWebKey
	if key.UnmarshalJSON(raw) == nil && key.Valid() {
		return ""
	}
	var kty string
	_ = json.Unmarshal(jwk["kty"], &kty)
	return fmt.Sprintf("the DPoP proof's jwk is not a public key this server reads (kty %q): an EC key needs crv P-256 and the x and y of a point on it, an RSA key n and e, an OKP key crv Ed25519 and x (RFC 7518 section 6, RFC 8037 section 2)", clip(kty))
}

// proofClaims are the claims of RFC 9449 section 4.2.
type proofClaims struct {
	JTI string           `json:"jti"`
	HTM string           `json:"htm"`
	HTU string           `json:"htu"`
	IAT *jwt.NumericDate `json:"iat"`
	ATH *string          `json:"ath"`
	// EXP and NBF are no claims of RFC 9449, but a proof that has them
	// is bound by them (RFC 7519 sections 4.1.4 and 4.1.5).
	EXP *jwt.NumericDate `json:"exp"`
	NBF *jwt.NumericDate `json:"nbf"`
}

// Verify checks proof against want: RFC 9449 section 4.3 steps 2 to 9, 11
// and the ath of step 12. Every error is an ErrInvalidProof and says which
// check failed, with the value that failed it.
func Verify(proof string, want Want) (*Proof, error) {
	fail := func(format string, args ...any) (*Proof, error) {
		return nil, refuse(format, args...)
	}
	if len(proof) > MaxProofBytes {
		return fail("the DPoP proof is %d bytes, more than the %d accepted", len(proof), MaxProofBytes)
	}
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		return fail("the DPoP proof is not a JWT: expected 3 dot-separated parts, got %d", len(parts))
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return fail("the DPoP proof is not a JWT: %s", jwtreason.Parse(proof, err))
	}
	// go-jose's JSON, as go-jose reads the header and claims: member
	// names are case-sensitive (RFC 7515 section 4, RFC 7519 section 4),
	// where encoding/json takes "HTM" for htm, and a name twice is refused.
	var h proofHeader
	if err := gojson.Unmarshal(rawHeader, &h); err != nil {
		if why := jwtreason.Form(proof); why != "" {
			return fail("the DPoP proof is not a JWT: %s", why)
		}
		return fail("the DPoP proof's JOSE header is not a JSON object with string typ and alg and an object jwk")
	}
	if !jwstyp.Is(h.Typ, ProofType) {
		return fail("the DPoP proof's typ %q is not %q (RFC 9449 section 4.2)", clip(h.Typ), ProofType)
	}
	if !slices.Contains(Algorithms, jose.SignatureAlgorithm(h.Alg)) {
		return fail("the DPoP proof's alg %q is not accepted; use one of %s (asymmetric only, RFC 9449 section 4.2)", clip(h.Alg), strings.Join(AlgorithmNames(), ", "))
	}
	if h.JWK == nil {
		return fail("the DPoP proof has no jwk header: it must carry the public key it is signed with (RFC 9449 section 4.2)")
	}
	for _, m := range privateMembers {
		if _, ok := h.JWK[m]; ok {
			return fail("the DPoP proof's jwk has the private member %q: send the public key only (RFC 9449 section 4.3)", m)
		}
	}

	if bits := rsaBits(h.JWK); bits > jose.MaxRSAModulusBits {
		// go-jose reads no larger key, and would say "unsupported key type".
		return fail("the DPoP proof's RSA key has %d bits; at most %d are accepted", bits, jose.MaxRSAModulusBits)
	}

	// go-jose reads the jwk as it parses: only a jwk it refuses, or reads
	// as no valid key, is read again, to say why.
	tok, err := jwt.ParseSigned(proof, Algorithms)
	if err != nil || tok.Headers[0].JSONWebKey == nil || !tok.Headers[0].JSONWebKey.Valid() {
		if why := unreadableKey(h.JWK); why != "" {
			return fail("%s", why)
		}
	}
	if err != nil {
		return fail("the DPoP proof is not a valid JWS: %s", jwtreason.Parse(proof, err))
	}
	hdr := tok.Headers[0]
	if typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string); !jwstyp.Is(typ, ProofType) || hdr.JSONWebKey == nil {
		return fail("the DPoP proof's header is ambiguous")
	}
	if err := jwscrit.Check(hdr); err != nil {
		return fail("the DPoP proof's %v", err)
	}
	jwk := hdr.JSONWebKey
	if !jwk.IsPublic() {
		return fail("the DPoP proof's jwk is not a public key")
	}
	if k, ok := jwk.Key.(*rsa.PublicKey); ok && k.N.BitLen() < minRSABits {
		return fail("the DPoP proof's RSA key has %d bits; at least %d are required (RFC 7518 section 3.3)", k.N.BitLen(), minRSABits)
	}
	var payload json.RawMessage
	if err := ed25519alg.Claims(tok, proof, jwk.Key, &payload); err != nil {
		return fail("the DPoP proof's signature does not verify with its jwk (alg %s)", hdr.Algorithm)
	}
	var c proofClaims
	if err := gojson.Unmarshal(payload, &c); err != nil {
		return fail("the DPoP proof's claims are malformed: %s", jwtreason.Claims(proof, err))
	}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return fail("the DPoP proof's jwk has no thumbprint: %v", err)
	}

	if c.HTM != want.Method {
		return fail("the DPoP proof's htm %q is not the request's method %s", clip(c.HTM), want.Method)
	}
	if c.HTU == "" {
		return fail("the DPoP proof has no htu")
	}
	if !SameURL(c.HTU, want.URL) {
		return fail("the DPoP proof's htu %q is not %s (query and fragment are ignored, RFC 9449 section 4.3)", clip(redact.URL(c.HTU)), want.URL)
	}
	window := want.Window
	if window <= 0 {
		window = DefaultWindow
	}
	if c.IAT == nil {
		return fail("the DPoP proof has no iat")
	}
	iat := c.IAT.Time()
	if iat.Before(want.Now.Add(-window)) {
		return fail("the DPoP proof was made at %s, more than %s before now (%s): make a new proof for every request", stamp(iat), window, stamp(want.Now))
	}
	if iat.After(want.Now.Add(window)) {
		return fail("the DPoP proof's iat %s is more than %s in the future (now %s)", stamp(iat), window, stamp(want.Now))
	}
	if c.EXP != nil && want.Now.After(c.EXP.Time().Add(window)) {
		return fail("the DPoP proof expired at %s (now %s)", stamp(c.EXP.Time()), stamp(want.Now))
	}
	if c.NBF != nil && c.NBF.Time().After(want.Now.Add(window)) {
		return fail("the DPoP proof is not valid before %s (now %s)", stamp(c.NBF.Time()), stamp(want.Now))
	}
	if c.JTI == "" {
		return fail("the DPoP proof has no jti")
	}
	if len(c.JTI) > replay.MaxJTIBytes {
		return fail("the DPoP proof's jti is %d bytes, more than the %d accepted", len(c.JTI), replay.MaxJTIBytes)
	}
	switch {
	case want.AccessToken == "" && c.ATH != nil:
		return fail("the DPoP proof has an ath, which only a request with an access token may carry (RFC 9449 section 4.2)")
	case want.AccessToken != "" && c.ATH == nil:
		return fail("the DPoP proof has no ath: a request with an access token needs the token's hash (RFC 9449 section 4.2)")
	case want.AccessToken != "" && *c.ATH != AccessTokenHash(want.AccessToken):
		return fail("the DPoP proof's ath %q is not the hash of the access token sent with it", clip(*c.ATH))
	}
	return &Proof{
		JKT:         base64.RawURLEncoding.EncodeToString(thumb),
		JTI:         c.JTI,
		IssuedAt:    iat,
		ReplayUntil: iat.Add(window + time.Second),
	}, nil
}

// AccessTokenHash is a proof's ath for an access token: the base64url
// SHA-256 of its ASCII (RFC 9449 section 4.2).
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SameURL reports whether two absolute http(s) URLs name the same resource
// once query and fragment are dropped and both are normalised (RFC 3986
// section 6.2.2 and 6.2.3: scheme and host case, default port, empty path).
// A URL with userinfo names none: no request's URI has one (RFC 9110
// section 4.2.4), so an htu with one is not the request's (RFC 9449
// section 4.3 step 9).
func SameURL(a, b string) bool {
	na, ok := normalURL(a)
	if !ok {
		return false
	}
	nb, ok := normalURL(b)
	return ok && na == nb
}

func normalURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// clip shortens a value of the proof for an error description, which the
// IdP also writes to its audit log.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
