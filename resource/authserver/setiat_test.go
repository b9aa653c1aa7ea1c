package authserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestEvents_ASETIssuedAtTheEpochOrBetweenSecondsIsTaken: a SET's iat was
// read as a whole number with 0 for none, so the IdP's own SETs, signed
// under a clock set to the first second of its range (serve --clock
// 1970-01-01T00:00:00Z), were refused as "iat is missing" and the
// revocation never landed; and an iat with a fraction, which a
// NumericDate may have (RFC 7519 section 2), was refused as claims that
// are "not the JSON object RFC 7519 section 4 describes". An iat too old
// says the time it was judged at, as one in the future does.
func TestEvents_ASETIssuedAtTheEpochOrBetweenSecondsIsTaken(t *testing.T) {
	e := newEnv(t)
	push := func(iat any) tokenReply {
		t.Helper()
		k := e.idp.currentKey()
		c := e.setClaims()
		if iat == nil {
			delete(c, "iat")
		} else {
			c["iat"] = iat
		}
		return e.pushSET(t, sign(t, c, "secevent+jwt", k.KeyID, jose.ES256, k.Key), "application/secevent+jwt")
	}
	n := e.clock.Now().Unix()
	if r := push(float64(n) + 0.5); r.status != http.StatusAccepted {
		t.Errorf("a SET with iat %d.5: HTTP %d %v, want 202", n, r.status, r.body)
	}
	r := push(n - 601)
	if d, _ := r.body["description"].(string); r.status != http.StatusBadRequest || !strings.Contains(d, "older than 10m0s (now "+time.Unix(n, 0).UTC().Format(time.RFC3339)+")") {
		t.Errorf("a SET with an iat 601 s old: HTTP %d %v, want 400 saying older than 10m0s and now", r.status, r.body)
	}
	if r := push(nil); r.status != http.StatusBadRequest || !strings.Contains(r.body["description"].(string), "iat is missing") {
		t.Errorf("a SET without iat: HTTP %d %v, want 400 iat is missing", r.status, r.body)
	}

	e.clock.Advance(time.Unix(0, 0).Sub(e.clock.Now())) // the first instant of the IdP's clock
	if r := push(0); r.status != http.StatusAccepted {
		t.Errorf("a SET issued at the epoch, on a clock standing there: HTTP %d %v, want 202", r.status, r.body)
	}
}
