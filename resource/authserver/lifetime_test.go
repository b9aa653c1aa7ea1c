package authserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestTokenEndpoint_RefusesALongLivedIDJAG: an ID-JAG whose exp is far
// beyond its iat is refused invalid_grant naming the bound (RFC 7523 §3
// lets the server refuse an exp unreasonably far in the future, and EMA
// wants ID-JAGs short-lived), so that no jti stays in the replay cache
// for longer than the bound: with a cache of one entry, a year-long
// ID-JAG accepted would shut out every other for a year.
func TestTokenEndpoint_RefusesALongLivedIDJAG(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.ReplayCacheSize = 1 })
	now := e.clock.Now()
	for _, tt := range []struct {
		name     string
		iat, exp time.Time
	}{
		{"exp a year ahead", now, now.Add(365 * 24 * time.Hour)},
		{"one second over the bound", now, now.Add(authserver.DefaultMaxIDJAGLifetime + time.Second)},
		{"iat long past, exp near", now.Add(-2 * time.Hour), now.Add(5 * time.Minute)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, grant(e.jag(t, func(c map[string]any) {
				c["iat"], c["exp"] = tt.iat.Unix(), tt.exp.Unix()
			})))
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" ||
				!strings.Contains(r.str("error_description"), "longer than the 1h this authorization server accepts") {
				t.Fatalf("HTTP %d %s, want 400 invalid_grant naming the 1h bound", r.status, r.raw)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
		})
	}

	// An ID-JAG of exactly the bound redeems, and its jti leaves the cache
	// once it has expired (exp + skew): the one slot is free again then.
	atBound := e.jag(t, func(c map[string]any) { c["exp"] = now.Add(authserver.DefaultMaxIDJAGLifetime).Unix() })
	if r := e.post(t, grant(atBound)); r.status != http.StatusOK {
		t.Fatalf("lifetime of exactly the bound: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusServiceUnavailable {
		t.Fatalf("second ID-JAG with the cache full: HTTP %d %s, want 503", r.status, r.raw)
	}
	e.clock.Advance(authserver.DefaultMaxIDJAGLifetime + 31*time.Second)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Fatalf("after the bound and the skew: HTTP %d %s", r.status, r.raw)
	}
}

// TestTokenEndpoint_MaxIDJAGLifetimeIsConfigurable: Config.MaxIDJAGLifetime
// sets the bound, for an IdP known to issue longer-lived ID-JAGs.
func TestTokenEndpoint_MaxIDJAGLifetimeIsConfigurable(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.MaxIDJAGLifetime = 2 * time.Minute })
	now := e.clock.Now()
	r := e.post(t, grant(e.jag(t, nil))) // 5 minutes
	if r.status != http.StatusBadRequest || !strings.Contains(r.str("error_description"), "ID-JAG lifetime 5m ") ||
		!strings.Contains(r.str("error_description"), "longer than the 2m ") {
		t.Fatalf("HTTP %d %s, want invalid_grant naming 5m and the 2m bound", r.status, r.raw)
	}
	if r := e.post(t, grant(e.jag(t, func(c map[string]any) { c["exp"] = now.Add(2 * time.Minute).Unix() }))); r.status != http.StatusOK {
		t.Fatalf("2 minutes: HTTP %d %s", r.status, r.raw)
	}
}
