package idp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestExchange_AnotherIssuersIDToken: an ID token of another IdP (another
// tenant of the same process, a hosted IdP) presented here is refused
// with the issuer it names, so that the client learns to exchange it at
// that IdP instead of being left with a key id it cannot place. The
// issuer is read unverified, and only said: the refusal is the same.
func TestExchange_AnotherIssuersIDToken(t *testing.T) {
	p := startConformanceIdP(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := map[string]any{"iss": "https://other-idp.example", "sub": "u-alice", "aud": "mcp-client",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for _, c := range []struct {
		name, iss, want string
	}{
		{"another issuer", "https://other-idp.example", "its iss 'https://other-idp.example' is not this IdP (" + p.URL + "): exchange it at the IdP that issued it"},
		{"this issuer", p.URL, "subject_token is not signed by this IdP: unknown key 'stranger' (ES256)"},
	} {
		claims["iss"] = c.iss
		form := exchangeForm(mintIDToken(t, key, "stranger", jose.ES256, claims))
		form.Set("client_id", "mcp-client")
		form.Set("client_secret", "s1")
		resp, body := p.postToken(t, form, nil)
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, c.want) {
			t.Errorf("%s: %s %v, want 400 invalid_request saying %q", c.name, resp.Status, body, c.want)
		}
	}
}
