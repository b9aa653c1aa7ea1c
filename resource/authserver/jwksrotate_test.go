package authserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestJWKS_RefetchIsPacedOnTheWallClock: the demo authorization servers
// run on the IdP's clock (Config.Now), which an admin may stop or move
// back (README "Operations", "Clock"). The refetch of the IdP's key set on
// an unknown kid is paced on the real time: an IdP clock stopped or moved
// back must not keep the new key of a rotation out for as long as it
// stands (until 2026-12-07 every ID-JAG the IdP signed after a rotation
// under a frozen clock was refused, "kid ... is not in the IdP JWKS").
func TestJWKS_RefetchIsPacedOnTheWallClock(t *testing.T) {
	for _, tc := range []struct {
		name string
		move func(c *clock)
	}{
		{"IdP clock frozen", func(*clock) {}},
		{"IdP clock moved back", func(c *clock) { c.Advance(-24 * time.Hour) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wall := newClock()
			e := newEnv(t, func(c *authserver.Config) { c.Wall = wall.Now })
			if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
				t.Fatalf("first key: HTTP %d %s", r.status, r.raw)
			}
			tc.move(e.clock)
			wall.Advance(time.Minute) // the real time runs on
			e.idp.rotate(t)
			if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
				t.Fatalf("an ID-JAG of the rotated-in key, a minute after the last fetch: HTTP %d %s", r.status, r.raw)
			}
			if got := e.idp.jwksHits.Load(); got != 2 {
				t.Errorf("%d JWKS fetches, want 2", got)
			}
		})
	}
}

// TestJWKS_NewKidRightAfterAFetchIsAccepted: a rotation at the IdP within
// the refetch interval of the last fetch (a client connected, the key
// rotated, the client connects again) is waited for, not refused: the
// request waits for the interval to end and the one fetch then, and an ID-JAG
// of the new key is redeemed (until 2026-12-07 it was refused, "kid ... is
// not in the IdP JWKS", for up to 5 seconds after each fetch, and made-up
// kids sent every few seconds could keep it so). Made-up kids arriving
// meanwhile share that one fetch.
func TestJWKS_NewKidRightAfterAFetchIsAccepted(t *testing.T) {
	e := newEnv(t)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Fatalf("first key: HTTP %d %s", r.status, r.raw)
	}
	e.idp.rotate(t) // no time passes: within the refetch interval

	// The made-up kids are sent as the new one is: each waits as it does,
	// and they share its fetch.
	rogue := make([]string, 5)
	for i := range rogue {
		rogue[i] = sign(t, e.claims(), authserver.IDJAGType, "rogue", jose.ES256, newECKey(t))
	}
	var wg sync.WaitGroup
	answers := make([]string, len(rogue))
	for i, jag := range rogue {
		wg.Go(func() { answers[i] = postNoFail(e, grant(jag)) })
	}
	r := e.post(t, grant(e.jag(t, nil)))
	wg.Wait()
	if r.status != http.StatusOK {
		t.Fatalf("an ID-JAG of the key rotated in right after a fetch: HTTP %d %s", r.status, r.raw)
	}
	for i, a := range answers {
		if a != "400 invalid_grant" {
			t.Errorf("made-up kid %d: %s, want 400 invalid_grant", i+1, a)
		}
	}
	// 2: the first and the one after the wait; a made-up kid sent so late
	// that it missed that fetch waits for its own, so not one each.
	if got := e.idp.jwksHits.Load(); got > 3 {
		t.Errorf("%d JWKS fetches for a new kid and %d made-up ones within the interval, want 2", got, len(rogue))
	}
}

// postNoFail posts req as e.post does, from a goroutine other than the
// test's: it returns "STATUS error" or what went wrong, and never fails
// the test itself.
func postNoFail(e *env, req tokenRequest) string {
	hr, err := http.NewRequest(http.MethodPost, e.asURL+"/token", strings.NewReader(req.form.Encode()))
	if err != nil {
		return err.Error()
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.SetBasicAuth(url.QueryEscape(req.basic[0]), url.QueryEscape(req.basic[1]))
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Sprintf("%d, body is not JSON: %v", resp.StatusCode, err)
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, body.Error)
}

// TestJWKS_MadeUpKidsWaitingAreBounded: the wait of an unknown kid for the
// next JWKS fetch holds the request, its goroutine and its connection, and
// anyone may send made-up kids (the events endpoint asks for no client
// authentication). Past JWKSMaxWaiting waiting for one key set, a request
// is answered at once, 503 temporarily_unavailable with Retry-After (a
// rotated-in key is accepted on a retry), rather than held: until
// 2026-12-07 a flood of made-up kids held a connection 5 seconds each, and
// the server's connections could all be so held.
func TestJWKS_MadeUpKidsWaitingAreBounded(t *testing.T) {
	e := newEnv(t)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Fatalf("first key: HTTP %d %s", r.status, r.raw)
	}
	made := func(i int) tokenRequest {
		return grant(sign(t, e.claims(), authserver.IDJAGType, fmt.Sprintf("made-up-%d", i), jose.ES256, newECKey(t)))
	}
	var wg sync.WaitGroup
	answers := make([]string, authserver.JWKSMaxWaiting)
	for i := range answers {
		req := made(i)
		wg.Go(func() { answers[i] = postNoFail(e, req) })
	}
	defer wg.Wait()
	for deadline := time.Now().Add(4 * time.Second); authserver.JWKSWaiting(e.as) < authserver.JWKSMaxWaiting; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait for the next JWKS fetch, want %d", authserver.JWKSWaiting(e.as), authserver.JWKSMaxWaiting)
		}
	}
	r := e.post(t, made(len(answers)))
	if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" || r.header.Get("Retry-After") == "" {
		t.Errorf("a made-up kid while %d wait: HTTP %d Retry-After %q %s; want 503 temporarily_unavailable with Retry-After", authserver.JWKSMaxWaiting, r.status, r.header.Get("Retry-After"), r.raw)
	}
	if d := r.str("error_description"); !strings.Contains(d, "retry") {
		t.Errorf("error_description %q does not say to retry", d)
	}
	wg.Wait()
	for i, a := range answers {
		if a != "400 invalid_grant" {
			t.Errorf("made-up kid %d, waiting: %s, want 400 invalid_grant", i+1, a)
		}
	}
	if got := authserver.JWKSWaiting(e.as); got != 0 {
		t.Errorf("%d requests still counted as waiting once all were answered", got)
	}
}
