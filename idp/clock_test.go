package idp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

func TestClock_SetAdvanceFreeze(t *testing.T) {
	wall := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	source := func() time.Time { mu.Lock(); defer mu.Unlock(); return wall }
	tick := func(d time.Duration) { mu.Lock(); wall = wall.Add(d); mu.Unlock() }

	c := idp.NewClock(source)
	if !c.Now().Equal(wall) || c.Offset() != 0 || c.Frozen() {
		t.Fatalf("new clock reads %v (offset %v, frozen %v), want the source", c.Now(), c.Offset(), c.Frozen())
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(at)
	tick(time.Second)
	if got := c.Now(); !got.Equal(at.Add(time.Second)) {
		t.Errorf("a set clock runs on: %v, want %v", got, at.Add(time.Second))
	}
	c.Freeze()
	tick(time.Minute)
	if got := c.Now(); !got.Equal(at.Add(time.Second)) {
		t.Errorf("a frozen clock moved: %v", got)
	}
	c.Advance(5 * time.Minute)
	c.Freeze() // a second freeze changes nothing
	if got := c.Now(); !got.Equal(at.Add(5*time.Minute + time.Second)) {
		t.Errorf("advanced frozen clock reads %v", got)
	}
	c.Set(at)
	if got := c.Now(); !got.Equal(at) || !c.Frozen() {
		t.Errorf("set on a frozen clock: %v frozen=%v, want %v and still frozen", got, c.Frozen(), at)
	}
	c.Unfreeze()
	tick(2 * time.Second)
	if got := c.Now(); !got.Equal(at.Add(2 * time.Second)) {
		t.Errorf("unfrozen clock reads %v, want it to run on from %v", got, at)
	}
	c.Advance(-time.Hour)
	if got := c.Now(); !got.Equal(at.Add(2*time.Second - time.Hour)) {
		t.Errorf("advanced backwards: %v", got)
	}

	var zero idp.Clock // the zero Clock is the wall clock
	if d := time.Since(zero.Now()).Abs(); d > time.Second {
		t.Errorf("zero Clock is %v off the wall clock", d)
	}
}

func TestClock_ConcurrentUse(t *testing.T) {
	c := idp.NewClock(nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				switch i % 4 {
				case 0:
					c.Advance(time.Millisecond)
				case 1:
					c.Freeze()
					c.Unfreeze()
				case 2:
					c.Set(time.Now().Add(time.Hour))
				default:
					_ = c.Now()
					_ = c.Offset()
				}
			}
		})
	}
	wg.Wait()
}

// opsFixture is a real IdP whose clock the test holds, and an
// authorization server (resource/authserver) for its one MCP server, on
// the same clock: the resource side of every expiry test.
type opsFixture struct {
	*testIdP
	clock  *idp.Clock
	as     *authserver.Server
	asURL  string
	mcpURL string
}

const (
	opsClientAtAS = "mcp-client-at-tracker"
	opsASSecret   = "tracker-secret"
)

func startOpsFixture(t *testing.T, clock *idp.Clock, tweak ...func(*idp.Options)) *opsFixture {
	t.Helper()
	asTS := httptest.NewUnstartedServer(nil)
	asURL := "http://" + asTS.Listener.Addr().String()
	f := &opsFixture{clock: clock, asURL: asURL, mcpURL: asURL + "/mcp"}
	cfg, err := policy.Parse([]byte(fmt.Sprintf(`
signing: {id_token_alg: RS256, id_jag_alg: ES256}
groups: [{name: eng}, {name: mkt}]
users:
  - {username: alice, password: alice-pw, sub: u-alice, groups: [eng], admin: true}
  - {username: bob, password: bob-pw, sub: u-bob, groups: [mkt]}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: tracker
    issuer: %s
    resources: [%s]
    scopes: [issues.read]
    clients: {mcp-client: %s}
    access: [{groups: [eng], scopes: [issues.read]}]
`, asURL, f.mcpURL, opsClientAtAS)), "ops.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f.testIdP = startIdP(t, cfg, append([]func(*idp.Options){func(o *idp.Options) { o.Clock = clock }}, tweak...)...)
	f.as, err = authserver.New(authserver.Config{
		Issuer: asURL, IdPIssuer: f.URL, IdPJWKSURL: f.URL + "/keys",
		Resources: []string{f.mcpURL}, Scopes: []string{"issues.read"},
		Clients: map[string]string{opsClientAtAS: opsASSecret},
		Now:     clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	asTS.Config.Handler = f.as
	asTS.Start()
	t.Cleanup(asTS.Close)
	return f
}

func (f *opsFixture) loginAlice(t *testing.T) idpclient.Tokens {
	t.Helper()
	return f.login(t, "mcp-client", "s1", "alice", "alice-pw")
}

// idJAG exchanges an ID token for an ID-JAG for the tracker.
func (f *opsFixture) idJAG(t *testing.T, idToken string) string {
	t.Helper()
	resp, body := f.exchangeIDToken(t, idToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: HTTP %d %v", resp.StatusCode, body)
	}
	return body["access_token"].(string)
}

func (f *opsFixture) exchangeIDToken(t *testing.T, idToken string) (*http.Response, map[string]any) {
	t.Helper()
	return f.postToken(t, url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
		"subject_token":        {idToken},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
		"audience":             {f.asURL},
		"resource":             {f.mcpURL},
		"client_id":            {"mcp-client"},
		"client_secret":        {"s1"},
	}, nil)
}

// redeem presents an ID-JAG at the authorization server (RFC 7523).
func (f *opsFixture) redeem(t *testing.T, jag string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {authserver.GrantTypeJWTBearer}, "assertion": {jag}}
	req, _ := http.NewRequest(http.MethodPost, f.asURL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(opsClientAtAS, opsASSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestClock_IDTokenExpiredByAdvancingIsRefusedAsSubject(t *testing.T) {
	clock := idp.NewClock(nil)
	f := startOpsFixture(t, clock)
	idToken := f.loginAlice(t).IDToken()
	if resp, body := f.exchangeIDToken(t, idToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh ID token: HTTP %d %v", resp.StatusCode, body)
	}

	// One hour (the ID token lifetime) and the 30 s skew later, no sleeping.
	clock.Advance(time.Hour + time.Minute)
	resp, body := f.exchangeIDToken(t, idToken)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Fatalf("expired ID token: HTTP %d %v, want 400 invalid_request", resp.StatusCode, body)
	}
	if d, _ := body["error_description"].(string); !strings.Contains(d, "expired") {
		t.Errorf("error_description = %q, want it to say the token expired", d)
	}
	ev := f.Audit.Query(audit.Filter{Type: audit.TypeTokenExchange, Limit: 1})[0]
	if ev.Outcome != audit.Error || !ev.Time.After(time.Now().Add(59*time.Minute)) {
		t.Errorf("audit event %s at %v, want an error stamped with the advanced clock", ev.Outcome, ev.Time)
	}

	// A new login on the advanced clock gives a token that works again.
	if resp, body := f.exchangeIDToken(t, f.loginAlice(t).IDToken()); resp.StatusCode != http.StatusOK {
		t.Fatalf("ID token issued on the advanced clock: HTTP %d %v", resp.StatusCode, body)
	}
}

func TestClock_LoginAtASetClockStampsTheIDToken(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := idp.NewClock(nil)
	clock.Freeze()
	clock.Set(at)
	f := startOpsFixture(t, clock)

	tok := f.loginAlice(t)
	_, claims := f.verifyJWT(t, tok.IDToken()) // re-signed: still verifies with the published key
	for name, want := range map[string]int64{
		"iat":       at.Unix(),
		"exp":       at.Add(time.Hour).Unix(),
		"auth_time": at.Unix(),
	} {
		if got, _ := claims[name].(float64); int64(got) != want {
			t.Errorf("ID token %s = %v, want %d (%s)", name, claims[name], want, at)
		}
	}
	if claims["nonce"] != "n-0S6_WzA2Mj" || claims["sub"] != "u-alice" || claims["at_hash"] == nil {
		t.Errorf("re-stamping lost claims: %v", claims)
	}
	if got, _ := tok["expires_in"].(float64); got != 3600 {
		t.Errorf("expires_in = %v, want 3600 on a frozen clock", tok["expires_in"])
	}

	// The refresh grant is re-stamped too, an hour later.
	clock.Advance(time.Hour)
	resp, body := f.postToken(t, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken()},
		"client_id": {"mcp-client"}, "client_secret": {"s1"},
	}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: HTTP %d %v", resp.StatusCode, body)
	}
	_, claims = f.verifyJWT(t, body["id_token"].(string))
	if got, _ := claims["iat"].(float64); int64(got) != at.Add(time.Hour).Unix() {
		t.Errorf("refreshed ID token iat = %v, want %d", claims["iat"], at.Add(time.Hour).Unix())
	}
	if got, _ := claims["auth_time"].(float64); int64(got) != at.Unix() {
		t.Errorf("refreshed ID token auth_time = %v, want the login's %d", claims["auth_time"], at.Unix())
	}

	// The ID-JAG, the audit events and the exchange all follow the clock.
	jag := f.idJAG(t, body["id_token"].(string))
	_, jc := f.verifyJWT(t, jag)
	if got, _ := jc["iat"].(float64); int64(got) != at.Add(time.Hour).Unix() {
		t.Errorf("ID-JAG iat = %v, want %d", jc["iat"], at.Add(time.Hour).Unix())
	}
	if got, _ := jc["exp"].(float64); int64(got) != at.Add(time.Hour+5*time.Minute).Unix() {
		t.Errorf("ID-JAG exp = %v, want 5 minutes after iat", jc["exp"])
	}
	for _, ev := range f.Audit.Query(audit.Filter{}) {
		if ev.Time.Before(at) {
			t.Errorf("%s event stamped %v, before the IdP clock %v", ev.Type, ev.Time, at)
		}
	}
}

func TestClock_AuthorizationServerRefusesIDJAGAfterItsFiveMinutes(t *testing.T) {
	clock := idp.NewClock(nil)
	f := startOpsFixture(t, clock)
	idToken := f.loginAlice(t).IDToken()

	if status, body := f.redeem(t, f.idJAG(t, idToken)); status != http.StatusOK {
		t.Fatalf("fresh ID-JAG at the authorization server: HTTP %d %v", status, body)
	}
	jag := f.idJAG(t, idToken)
	clock.Advance(5*time.Minute + 31*time.Second) // lifetime plus the 30 s skew
	status, body := f.redeem(t, jag)
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("ID-JAG after 5 minutes: HTTP %d %v, want 400 invalid_grant", status, body)
	}
	if d, _ := body["error_description"].(string); !strings.Contains(d, "expired") {
		t.Errorf("error_description = %q, want it to say the ID-JAG expired", d)
	}
}
