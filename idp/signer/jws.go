package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// The hot path of the IdP is one signature per token exchange. go-jose's
// jwt.Signed normalises the claims on every call (marshal, unmarshal into a
// map, marshal again, with reflection and a few hundred allocations) and
// builds the header afresh; none of that is needed for a token whose header
// never changes and whose claims are a plain struct. So the ring builds
// the compact serialisation itself (RFC 7515 section 7.1):
//
//	BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature)
//
// with the header encoded once per key and the payload marshalled once.
// go-jose still parses (subject tokens, client assertions, the tests) and
// publishes the JWK Set, and still signs the fault hook's broken ID-JAGs,
// which are not on the hot path.

var b64 = base64.RawURLEncoding // RFC 7515 section 2: base64url without padding

// joseHeader is the protected header of the tokens the ring signs. The
// fields are in the order go-jose writes them (sorted), so that the
// encoded header is byte for byte the one go-jose made.
type joseHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// encodedHeader returns BASE64URL(UTF8(header)) for this key's alg and
// kid with typ, the first part of the compact serialisation.
func encodedHeader(alg, kid, typ string) string {
	h, err := json.Marshal(joseHeader{Alg: alg, Kid: kid, Typ: typ})
	if err != nil {
		panic(err) // three strings always marshal
	}
	return b64.EncodeToString(h)
}

// signCompact returns the compact JWS of payload under the encoded header
// h, signed with priv according to alg. It does not keep payload.
func signCompact(alg string, priv crypto.Signer, h string, payload []byte) (string, error) {
	plen := b64.EncodedLen(len(payload))
	buf := make([]byte, 0, len(h)+1+plen+1+b64.EncodedLen(maxSignatureLen(priv)))
	buf = append(buf, h...)
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, payload)
	// The JWS Signing Input is ASCII(BASE64URL(header) '.'
	// BASE64URL(payload)) (RFC 7515 section 5.1, step 5).
	var es256 [64]byte
	sig, err := sign(alg, priv, buf, &es256)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	// buf is sized for the whole token and never written again: the
	// token shares its bytes rather than copying them.
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// sign signs the JWS Signing Input with the algorithm alg names. An
// ES256 signature is written to es256, the caller's, and returned.
func sign(alg string, priv crypto.Signer, input []byte, es256 *[64]byte) ([]byte, error) {
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if alg != "ES256" {
			break
		}
		// ES256: ECDSA P-256 over SHA-256; the signature is R and S as
		// 32-byte big-endian integers, concatenated (RFC 7518 section
		// 3.4), not the ASN.1 DER that crypto/ecdsa returns.
		digest := sha256.Sum256(input)
		der, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
		if err != nil {
			return nil, err
		}
		if err := derToRaw(der, es256[:]); err != nil {
			return nil, err
		}
		return es256[:], nil
	case *rsa.PrivateKey:
		if alg != "RS256" {
			break
		}
		// RS256: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 section 3.3).
		digest := sha256.Sum256(input)
		return rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:])
	case ed25519.PrivateKey:
		if alg != "EdDSA" {
			break
		}
		// EdDSA with Ed25519 signs the input itself, not a digest of it
		// (RFC 8037 section 3.1).
		return ed25519.Sign(k, input), nil
	}
	return nil, fmt.Errorf("signer: a %T cannot sign %s", priv, alg)
}

// maxSignatureLen is the length of a signature by priv, to size the
// token's buffer once.
func maxSignatureLen(priv crypto.Signer) int {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return k.Size()
	case ed25519.PrivateKey:
		return ed25519.SignatureSize
	}
	return 64
}

// derToRaw turns an ASN.1 ECDSA-Sig-Value (SEQUENCE of INTEGER r, INTEGER
// s; RFC 3279 section 2.2.3) into r||s in out, each left-padded to half
// of out's length.
func derToRaw(der, out []byte) error {
	size := len(out) / 2
	var seq, r, s cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&r, asn1.INTEGER) || !seq.ReadASN1(&s, asn1.INTEGER) || !seq.Empty() {
		return errors.New("signer: malformed ECDSA signature")
	}
	clear(out)
	for i, n := range []cryptobyte.String{r, s} {
		// DER integers are minimal and positive: a leading zero byte
		// only keeps the sign bit clear.
		for len(n) > 0 && n[0] == 0 {
			n = n[1:]
		}
		if len(n) > size {
			return errors.New("signer: malformed ECDSA signature")
		}
		copy(out[(i+1)*size-len(n):(i+1)*size], n)
	}
	return nil
}
