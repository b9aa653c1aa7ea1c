package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Params are what a proof made by NewProof says about its request.
type Params struct {
	// Method is the request's method, htm.
	Method string
	// URL is the request's URL, htu once query and fragment are dropped
	// (RFC 9449 section 4.2), and any user:password@, which the request
	// does not carry.
	URL string
	// Nonce is the nonce the server asked for in a DPoP-Nonce header
	// (RFC 9449 section 8); "" for none.
	Nonce string
	// AccessToken is the access token sent with the request, whose hash is
	// ath; "" at a token endpoint.
	AccessToken string
	// Now is iat; zero for the time now.
	Now time.Time
}

// KeyAlgorithm is the algorithm a proof signed with key uses: ES256 for an
// EC P-256 key, RS256 for RSA of 2048 to jose.MaxRSAModulusBits (4096)
// bits, EdDSA for Ed25519. A key Verify would refuse is an error that
// says why.
func KeyAlgorithm(key crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("an EC key on curve %s: DPoP here takes P-256 (ES256)", k.Curve.Params().Name)
		}
		return jose.ES256, nil
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return "", fmt.Errorf("an RSA key of %d bits: at least %d are required (RFC 7518 section 3.3)", k.N.BitLen(), minRSABits)
		}
		if k.N.BitLen() > jose.MaxRSAModulusBits {
			return "", fmt.Errorf("an RSA key of %d bits: at most %d are accepted (Verify, go-jose)", k.N.BitLen(), jose.MaxRSAModulusBits)
		}
		return jose.RS256, nil
	case ed25519.PrivateKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("a %T key: use an EC P-256 (ES256), RSA (RS256) or Ed25519 (EdDSA) key", key)
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of key's public part,
// base64url: the cnf.jkt of a token bound to it.
func Thumbprint(key crypto.Signer) (string, error) {
	sum, err := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// NewProof makes a proof of possession of key for one request (RFC 9449
// section 4.2): typ dpop+jwt, the public key as jwk, and a fresh jti, so
// that it passes Verify for that request once.
func NewProof(key crypto.Signer, p Params) (string, error) {
	alg, err := KeyAlgorithm(key)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("htu %q is not an http or https URL", p.URL)
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	if p.Method == "" {
		return "", fmt.Errorf("no htm: a proof names the request's method")
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	claims := map[string]any{
		"jti": base64.RawURLEncoding.EncodeToString(jti),
		"htm": p.Method,
		"htu": u.String(),
		"iat": p.Now.Unix(),
	}
	if p.Nonce != "" {
		claims["nonce"] = p.Nonce
	}
	if p.AccessToken != "" {
		claims["ath"] = AccessTokenHash(p.AccessToken)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(ProofType))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}
