package authserver_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestJWTBearer_AnExpCenturiesAheadIsNotGivenAMadeUpLifetime: an ID-JAG
// whose exp is centuries past its iat (year 9999, 1e12) is refused as too
// long-lived, but its lifetime, exp less iat, overflowed Go's durations
// and was given as the longest one, "2562047h47m16.854775807s" (292
// years), whatever the exp; the description says more than that.
func TestJWTBearer_AnExpCenturiesAheadIsNotGivenAMadeUpLifetime(t *testing.T) {
	e := newEnv(t)
	for _, exp := range []any{int64(253402300799), 1e12} {
		r := e.post(t, grant(e.jag(t, func(c map[string]any) { c["exp"] = exp })))
		d := r.str("error_description")
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(d, "more than 292 years") || strings.Contains(d, "2562047h") {
			t.Errorf("exp %v: HTTP %d %q, want invalid_grant saying the lifetime is more than 292 years", exp, r.status, d)
		}
	}
}
