package dpop_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/dpop"
)

// FuzzVerify feeds arbitrary proofs to Verify: it never panics, and it
// either refuses with ErrInvalidProof or returns a proof with a thumbprint
// and a jti.
func FuzzVerify(f *testing.F) {
	f.Add(mint(f, proofSpec{}))
	f.Add(mint(f, proofSpec{alg: "none"}))
	f.Add(mint(f, proofSpec{header: map[string]any{"jwk": map[string]string{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}}))
	f.Add("eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7fX0.e30.AAAA")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := dpop.Verify(proof, dpop.Want{Method: http.MethodPost, URL: tokenEndpoint, Now: now, Window: time.Hour})
		switch {
		case err != nil && !errors.Is(err, dpop.ErrInvalidProof):
			t.Fatalf("error %v does not wrap ErrInvalidProof", err)
		case err == nil && (p.JKT == "" || p.JTI == ""):
			t.Fatalf("accepted proof without thumbprint or jti: %+v", p)
		}
	})
}
