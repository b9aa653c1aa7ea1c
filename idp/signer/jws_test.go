package signer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
)

// TestES256SignatureIsRawRS checks RFC 7518 section 3.4 on the wire: the
// signature is 64 bytes, R then S, each 32 bytes big-endian, and
// crypto/ecdsa verifies it as such.
func TestES256SignatureIsRawRS(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := encodedHeader("ES256", "k1", IDJAGType)
	for range 64 { // some R or S has a leading zero byte among these
		tok, err := signCompact("ES256", priv, h, []byte(`{"sub":"u"}`))
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(tok, ".")
		sig, err := b64.DecodeString(parts[2])
		if err != nil || len(sig) != 64 {
			t.Fatalf("signature %q: %d bytes, %v", parts[2], len(sig), err)
		}
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(&priv.PublicKey, digest[:], r, s) {
			t.Fatalf("%s does not verify", tok)
		}
	}
}

// TestDERToRawPads checks that short integers are left-padded and the
// sign byte of DER dropped.
func TestDERToRawPads(t *testing.T) {
	r := big.NewInt(0x0102)
	s := new(big.Int).Lsh(big.NewInt(0xff), 248) // 32 bytes, high bit set: DER adds a zero byte
	der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	raw := bytes.Repeat([]byte{0xee}, 64) // derToRaw writes every byte
	if err := derToRaw(der, raw); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 64)
	want[30], want[31] = 0x01, 0x02
	s.FillBytes(want[32:])
	if !bytes.Equal(raw, want) {
		t.Fatalf("raw %x, want %x", raw, want)
	}
	for _, bad := range [][]byte{nil, der[:len(der)-1], append(der, 0)} {
		if err := derToRaw(bad, make([]byte, 64)); err == nil {
			t.Errorf("derToRaw(%x) accepted", bad)
		}
	}
}

// TestHeaderIsGoJoses pins the encoded header: go-jose writes the members
// sorted, and clients have seen this exact header.
func TestHeaderIsGoJoses(t *testing.T) {
	got, _ := b64.DecodeString(encodedHeader("ES256", "es256-abc", IDJAGType))
	if want := `{"alg":"ES256","kid":"es256-abc","typ":"oauth-id-jag+jwt"}`; string(got) != want {
		t.Fatalf("header %s, want %s", got, want)
	}
}
