package authserver_test

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/errdesc"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

var wirePieces = []string{
	`"`, `\`, `'`, "\x00", "\n", "\x7f", "\u202e", "а", "ａ", "😀", "\xff", "%zz", "§", "…",
	confidentialClient, confidentialSecret, publicClient, "issues.read", "http://127.0.0.1/callback", "code", "x", " ",
}

func randomValue(rng *rand.Rand) string {
	var b strings.Builder
	for range 1 + rng.IntN(4) {
		if rng.IntN(8) == 0 {
			b.WriteByte(byte(rng.IntN(256)))
			continue
		}
		b.WriteString(wirePieces[rng.IntN(len(wirePieces))])
	}
	return b.String()
}

// TestErrorDescriptions_InTheRFCSet throws random values (quotes,
// backslashes, controls, unicode, stray bytes) in the ID-JAG's claims and
// every parameter of /token and /authorize: every error_description on the
// wire, in a JSON body or an error redirect, is in the RFC 6749 section 5.2
// set.
func TestErrorDescriptions_InTheRFCSet(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.RedirectURIs = map[string][]string{confidentialClient: {"http://127.0.0.1/callback"}}
	})
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	check := func(what string, hr *http.Request) {
		t.Helper()
		resp, err := hc.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			if d, ok := m["error_description"].(string); ok && !errdesc.Valid(d) {
				t.Fatalf("%s: HTTP %d error_description %q is outside the RFC 6749 section 5.2 set", what, resp.StatusCode, d)
			}
		}
		if loc, err := url.Parse(resp.Header.Get("Location")); err == nil {
			if d := loc.Query().Get("error_description"); !errdesc.Valid(d) {
				t.Fatalf("%s: redirect's error_description %q is outside the set", what, d)
			}
		}
	}
	rng := rand.New(rand.NewPCG(24, 6))
	claims := []string{"iss", "aud", "client_id", "sub", "email", "resource", "scope", "jti"}
	for i := range 1500 {
		if i%3 == 2 {
			q := url.Values{}
			for _, k := range []string{"client_id", "redirect_uri", "response_type", "state", "scope"} {
				if rng.IntN(3) > 0 {
					q.Set(k, randomValue(rng))
				}
			}
			if rng.IntN(2) == 0 {
				q.Set("client_id", confidentialClient)
				q.Set("redirect_uri", "http://127.0.0.1/callback")
			}
			hr, _ := http.NewRequest(http.MethodGet, e.asURL+"/authorize?"+q.Encode(), nil)
			check("authorize", hr)
			continue
		}
		jag := e.jag(t, func(c map[string]any) {
			for _, k := range claims {
				if rng.IntN(3) == 0 {
					c[k] = randomValue(rng)
				}
			}
		})
		form := url.Values{"grant_type": {authserver.GrantTypeJWTBearer}, "assertion": {jag}}
		for _, k := range []string{"grant_type", "assertion", "resource", "scope", "client_id", "client_secret"} {
			if rng.IntN(4) == 0 {
				form.Set(k, randomValue(rng))
			}
		}
		hr, _ := http.NewRequest(http.MethodPost, e.asURL+"/token", strings.NewReader(form.Encode()))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if rng.IntN(3) > 0 {
			hr.SetBasicAuth(url.QueryEscape(confidentialClient), url.QueryEscape(confidentialSecret))
		} else {
			hr.SetBasicAuth(url.QueryEscape(randomValue(rng)), url.QueryEscape(randomValue(rng)))
		}
		check("token", hr)
	}
}
