package idp_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestExchange_ConcurrentReplayOfClientAssertion sends one client
// assertion many times at once: exactly one request may authenticate with
// it, however the requests interleave (RFC 7523 section 3, jti).
func TestExchange_ConcurrentReplayOfClientAssertion(t *testing.T) {
	p := startJWTClientIdP(t)
	assertion := func(jti string) string { return p.assertion(t, p.key, p.URL, jti, time.Now().Add(time.Minute)) }
	idToken := p.loginAlice(t)
	const rounds, parallel = 20, 16
	for round := range rounds {
		form := exchangeForm(idToken)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion(fmt.Sprintf("race-%d", round)))
		var ok atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, _ := p.postToken(t, form, nil)
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := ok.Load(); n != 1 {
			t.Fatalf("round %d: %d of %d concurrent requests with one assertion succeeded, want exactly 1", round, n, parallel)
		}
	}
}
