package idp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestExchange_ConcurrentReplayOfClientAssertion sends one client
// assertion many times at once: exactly one request may authenticate with
// it, however the requests interleave (RFC 7523 section 3, jti).
func TestExchange_ConcurrentReplayOfClientAssertion(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	base, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(base), "clients:\n", "clients:\n  - client_id: jwt-client\n    redirect_uris: [http://127.0.0.1/callback]\n    token_exchange: true\n    jwks: "+string(pub)+"\n", 1)
	text = strings.Replace(text, "      pub-client: pub-client-at-chat\n", "      pub-client: pub-client-at-chat\n      jwt-client: jwt-client-at-chat\n", 1)
	cfg, err := policy.Parse([]byte(text), "conformance+jwt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	assertion := func(jti string) string {
		return mintIDToken(t, key, "k1", jose.ES256, map[string]any{
			"iss": "jwt-client", "sub": "jwt-client", "aud": p.URL, "jti": jti,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
		})
	}
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.URL, ClientID: "jwt-client", Username: "alice", Password: "alice-pw", Scopes: []string{"openid"},
		ClientAssertion: assertion("login"),
	})
	if err != nil {
		t.Fatalf("login with private_key_jwt: %v", err)
	}
	const rounds, parallel = 20, 16
	for round := range rounds {
		form := exchangeForm(tok.IDToken())
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
