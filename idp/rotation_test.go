package idp_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
)

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Headers[0].KeyID
}

func (p *testIdP) publishedKids(t *testing.T) []string {
	t.Helper()
	var kids []string
	for _, k := range p.jwks(t).Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

func TestRotation_OldTokensVerifyDuringTheOverlapAndFailAfterRetirement(t *testing.T) {
	clock := idp.NewClock(nil)
	f := startOpsFixture(t, clock)
	idToken := f.loginAlice(t).IDToken()
	oldJAG := f.idJAG(t, idToken)
	oldIDKid, oldJAGKid := kidOf(t, idToken), kidOf(t, oldJAG)

	before := clock.Now()
	rotations, err := f.RotateKeys("alice")
	if err != nil {
		t.Fatal(err)
	}
	after := clock.Now() // a new RSA key takes seconds on a loaded machine
	if len(rotations) != 2 {
		t.Fatalf("rotations = %+v, want the RS256 ID-token key and the ES256 ID-JAG key", rotations)
	}
	var newKids []string
	for _, r := range rotations {
		if r.OldKID != oldIDKid && r.OldKID != oldJAGKid || r.NewKID == r.OldKID {
			t.Errorf("rotation %+v does not replace %s or %s", r, oldIDKid, oldJAGKid)
		}
		if r.RetireAt.Before(before.Add(f.KeyOverlap()).Add(-time.Second)) || r.RetireAt.After(after.Add(f.KeyOverlap()).Add(time.Second)) {
			t.Errorf("%s retires at %v, want the rotation's time (%v to %v) plus the overlap %v", r.OldKID, r.RetireAt, before, after, f.KeyOverlap())
		}
		newKids = append(newKids, r.NewKID)
	}
	if f.KeyOverlap() < time.Hour {
		t.Errorf("overlap %v is shorter than the longest token lifetime (1h)", f.KeyOverlap())
	}

	// During the overlap: JWKS has both generations, the old ID token is
	// still a good subject token, new tokens carry the new kids.
	resp, err := http.Get(f.URL + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("JWKS Cache-Control = %q, want public, max-age=300", cc)
	}
	kids := f.publishedKids(t)
	for _, kid := range append([]string{oldIDKid, oldJAGKid}, newKids...) {
		if !slices.Contains(kids, kid) {
			t.Errorf("JWKS %v lacks %s during the overlap", kids, kid)
		}
	}
	jag := f.idJAG(t, idToken)
	if kid := kidOf(t, jag); !slices.Contains(newKids, kid) {
		t.Errorf("ID-JAG after the rotation is signed with %s, want a new key %v", kid, newKids)
	}
	newIDToken := f.loginAlice(t).IDToken()
	if kid := kidOf(t, newIDToken); !slices.Contains(newKids, kid) {
		t.Errorf("ID token after the rotation is signed with %s, want a new key %v", kid, newKids)
	}
	f.verifyJWT(t, idToken)
	f.verifyJWT(t, oldJAG)

	var events []audit.Event
	for _, ev := range f.Audit.Query(audit.Filter{Type: audit.TypeKeyRotation}) {
		if ev.Admin != "alice" || ev.Outcome != audit.Allowed {
			t.Errorf("key_rotation event %+v", ev)
		}
		events = append(events, ev)
	}
	if len(events) != 2 || !slices.ContainsFunc(events, func(e audit.Event) bool {
		return e.Details["old_kid"] == oldJAGKid && slices.Contains(newKids, e.Details["new_kid"].(string))
	}) {
		t.Errorf("key_rotation events = %+v, want one per key with old_kid and new_kid", events)
	}

	// After retirement, by the clock: the old keys are gone from JWKS, and
	// a token they signed no longer verifies.
	clock.Advance(f.KeyOverlap() + time.Second)
	kids = f.publishedKids(t)
	if slices.Contains(kids, oldIDKid) || slices.Contains(kids, oldJAGKid) || len(kids) != 2 {
		t.Errorf("JWKS after retirement = %v, want only the new keys %v", kids, newKids)
	}
	resp2, body := f.exchangeIDToken(t, idToken)
	if resp2.StatusCode != http.StatusBadRequest || !strings.Contains(body["error_description"].(string), "key '"+oldIDKid+"' (RS256), which a key rotation retired at") {
		t.Errorf("ID token of a retired key: HTTP %d %v, want 400 saying that a rotation retired its key", resp2.StatusCode, body)
	}
	if got := f.Keys(); len(got) != 2 || got[0].Status != "current" {
		t.Errorf("Keys() after retirement = %+v", got)
	}
}

// TestRotation_CachingVerifierKeepsWorking uses the demo authorization
// server, which caches the IdP's JWKS and refetches it when an ID-JAG
// names a kid it does not hold: at most once every 5 seconds, paced on the
// IdP's clock or the real time, whichever moved further
// (resource/authserver/jwks.go), so that the clock moved ahead here lets
// the refetch come at once.
func TestRotation_CachingVerifierKeepsWorking(t *testing.T) {
	clock := idp.NewClock(nil)
	f := startOpsFixture(t, clock)
	idToken := f.loginAlice(t).IDToken()

	if status, body := f.redeem(t, f.idJAG(t, idToken)); status != http.StatusOK {
		t.Fatalf("before the rotation: HTTP %d %v", status, body) // the AS caches JWKS now
	}
	signedBefore := f.idJAG(t, idToken)
	if _, err := f.RotateKeys("alice"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	signedAfter := f.idJAG(t, idToken)
	if status, body := f.redeem(t, signedAfter); status != http.StatusOK {
		t.Errorf("ID-JAG with the new kid: HTTP %d %v, want the AS to refetch JWKS and accept it", status, body)
	}
	if status, body := f.redeem(t, signedBefore); status != http.StatusOK {
		t.Errorf("ID-JAG signed before the rotation, within its lifetime: HTTP %d %v", status, body)
	}
}

func TestRotation_ConcurrentWithExchanges(t *testing.T) {
	f := startOpsFixture(t, idp.NewClock(nil))
	idToken := f.loginAlice(t).IDToken()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				if resp, body := f.exchangeIDToken(t, idToken); resp.StatusCode != http.StatusOK {
					t.Errorf("exchange during rotations: HTTP %d %v", resp.StatusCode, body)
				}
			}
		})
	}
	for range 3 {
		if _, err := f.RotateKeys("alice"); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	if n := len(f.Keys()); n != 2+2*3 {
		t.Errorf("%d published keys after three rotations, want 2 current and 6 previous", n)
	}
}

func TestRotation_PersistsInTheStateDir(t *testing.T) {
	dir := t.TempDir()
	clock := idp.NewClock(nil)
	withState := func(o *idp.Options) { o.StateDir = dir }
	f := startOpsFixture(t, clock, withState)
	idToken := f.loginAlice(t).IDToken()
	if _, err := f.RotateKeys("alice"); err != nil {
		t.Fatal(err)
	}
	before := f.Keys()

	// A restart finds the same current keys and the previous ones, which
	// still verify the ID token signed before the rotation.
	g := startOpsFixture(t, clock, withState)
	after := g.Keys()
	if len(after) != 4 {
		t.Fatalf("keys after restart = %+v, want 2 current and 2 previous", after)
	}
	for i := range before {
		if before[i].KID != after[i].KID || before[i].Status != after[i].Status {
			t.Errorf("key %d: %+v before the restart, %+v after", i, before[i], after[i])
		}
	}
	// The ID token's audience and issuer are the first IdP's, so check its
	// signature against the second IdP's JWKS directly.
	if !slices.Contains(g.publishedKids(t), kidOf(t, idToken)) {
		t.Errorf("the restarted IdP does not publish the previous key %s", kidOf(t, idToken))
	}
	if fi, err := os.Stat(filepath.Join(dir, "keys", "previous.json")); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("keys/previous.json has mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "keys"))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	// Once retired, a restart no longer loads them.
	clock.Advance(f.KeyOverlap() + time.Second)
	if h := startOpsFixture(t, clock, withState); len(h.Keys()) != 2 {
		t.Errorf("keys after retirement and restart = %+v, want the 2 current ones", h.Keys())
	}
}

// TestRotation_UnderAMovedClockRetiresInRealTime: a rotation made while
// the IdP's clock is set years ahead (--clock, PUT /admin/api/clock) does
// not keep the old key published for years once the IdP restarts on the
// real clock: retire_at is the real time of the rotation plus the overlap.
func TestRotation_UnderAMovedClockRetiresInRealTime(t *testing.T) {
	dir := t.TempDir()
	withState := func(o *idp.Options) { o.StateDir = dir }
	moved := idp.NewClock(nil)
	moved.Set(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	f := startOpsFixture(t, moved, withState)
	before := time.Now()
	rotations, err := f.RotateKeys("alice")
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	latest := after.Add(f.KeyOverlap()).Add(time.Second)
	for _, r := range rotations {
		if r.RetireAt.Before(before.Add(f.KeyOverlap()).Add(-time.Second)) || r.RetireAt.After(latest) {
			t.Errorf("%s retires at %v, want the real time of the rotation plus %v", r.OldKID, r.RetireAt, f.KeyOverlap())
		}
	}
	g := startOpsFixture(t, idp.NewClock(nil), withState)
	previous := 0
	for _, k := range g.Keys() {
		if k.Status != "previous" {
			continue
		}
		previous++
		if k.RetireAt.After(latest) {
			t.Errorf("after a restart on the real clock, %s stays published until %v", k.KID, k.RetireAt)
		}
	}
	if previous != len(rotations) {
		t.Errorf("after a restart within the overlap, %d previous keys are published, want %d", previous, len(rotations))
	}
}
