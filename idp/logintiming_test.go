package idp_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
	"golang.org/x/crypto/bcrypt"
)

// TestLogin_UnknownUserTakesAsLongAsWrongPassword: with bcrypt password
// hashes, a wrong password cost a bcrypt check (some 50 ms at cost 10) and
// an unknown username none (well under 1 ms), so the login form told a
// stranger which usernames exist by its answer's time alone, however alike
// the answers read. An unknown username now costs a check of the same
// cost. So does an address that is no user's email, while a user's email
// costs what the user's username does.
func TestLogin_UnknownUserTakesAsLongAsWrongPassword(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right-pw"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := policy.Parse([]byte(`
users:
  - {username: u1, email: u1@example.com, password_bcrypt: "`+string(hash)+`"}
  - {username: u2, email: u2@example.com, password_bcrypt: "`+string(hash)+`"}
  - {username: u3, email: u3@example.com, password_bcrypt: "`+string(hash)+`"}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback]}
`), "bcrypt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	_, challenge := pkce()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	attempt := func(username string) time.Duration {
		params := authParams("http://127.0.0.1/callback", challenge)
		resp, err := noRedirect.Get(p.URL + "/authorize?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		id := loc.Query().Get("authRequestID")
		if id == "" {
			t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		form := url.Values{"authRequestID": {id}, "username": {username}, "password": {"wrong-pw"}}
		start := time.Now()
		resp, err = noRedirect.Post(p.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("login as %s with a wrong password: %d, want 401", username, resp.StatusCode)
		}
		return took
	}
	// Each unknown username timed against a wrong password right beside
	// it (in turn first and second), and the median of the pairs' ratios
	// judged: a busy machine that stalls some attempts moves a few ratios,
	// not the median. (Until 2026-12-07 the fastest of six of each: under
	// a load of 30 every known attempt could fall in a busier moment than
	// the luckiest unknown one.) Without the equalising check, every pair
	// reads some 50 times faster for the unknown username.
	var ratios []float64
	for i := range 9 {
		n := fmt.Sprint(i%3 + 1)
		k, u := "u"+n, "nobody"+n
		if i%2 == 1 {
			k, u = "U"+n+"@example.com", "nobody"+n+"@example.com"
		}
		var known, unknown time.Duration
		if i%2 == 0 {
			known = attempt(k)
			unknown = attempt(u)
		} else {
			unknown = attempt(u)
			known = attempt(k)
		}
		ratios = append(ratios, float64(unknown)/float64(known))
	}
	slices.Sort(ratios)
	if median := ratios[len(ratios)/2]; median < 1.0/3 {
		t.Errorf("an unknown username took %.2f of a wrong password's time (median of %d pairs: %.2f): the time tells which usernames exist", median, len(ratios), ratios)
	}
}
