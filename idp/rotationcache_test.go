package idp_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestRotation_RetiredKeyRefusesAnIDTokenAlreadyExchanged: the exchange
// keeps the signature checks of the ID tokens it saw, and a key rotation
// retires the old key after the overlap, the longest token lifetime of the
// configuration then (README "Operations", key rotation). Lifetimes
// shortened before the rotation retire the key while an ID token it signed
// under the longer ones still lives: that token is refused as one of a
// retired key, whether or not it was exchanged before, as docs/http.md
// (/keys) says of a token older than the overlap.
func TestRotation_RetiredKeyRefusesAnIDTokenAlreadyExchanged(t *testing.T) {
	clock := idp.NewClock(nil)
	f := startOpsFixture(t, clock)
	idToken := f.loginAlice(t).IDToken() // lives an hour
	f.idJAG(t, idToken)                  // its signature check is kept
	oldKid := kidOf(t, idToken)

	cfg := *f.Config()
	short := policy.Duration(5 * time.Minute)
	cfg.Lifetimes.IDToken, cfg.Lifetimes.AccessToken, cfg.Lifetimes.IDJAG = short, short, short
	f.SetConfig(&cfg)
	if _, err := f.RotateKeys("alice"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(f.KeyOverlap() + time.Second)
	if kids := f.publishedKids(t); slices.Contains(kids, oldKid) {
		t.Fatalf("JWKS %v still has the retired key %s", kids, oldKid)
	}

	resp, body := f.exchangeIDToken(t, idToken)
	desc, _ := body["error_description"].(string)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(desc, "key '"+oldKid+"' (RS256), which a key rotation retired at") {
		t.Fatalf("an ID token of a retired key, exchanged before: HTTP %d %v, want 400 saying that a rotation retired its key", resp.StatusCode, body)
	}
	if _, ok := body["access_token"]; ok {
		t.Fatalf("an ID token of a retired key got an ID-JAG: %v", body)
	}
}
