package idp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// timeBoundConfig gives bob crm.read until 08:00 (crm access[0]) and, on
// wiki, wiki.read until 08:00 and again, by a second entry, until 09:00,
// and wiki.write for ever.
const timeBoundConfig = `
users:
  - {username: bob, password: bob-pw, sub: u-bob}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: crm
    issuer: https://as.crm.example
    resources: [https://mcp.crm.example/mcp]
    scopes: [crm.read, crm.write]
    clients: {mcp-client: mcp-client}
    access:
      - {users: [bob], scopes: [crm.read], expires: "2030-01-01T08:00:00Z"}
  - id: wiki
    issuer: https://as.wiki.example
    resources: [https://mcp.wiki.example/mcp]
    scopes: [wiki.read, wiki.write]
    clients: {mcp-client: mcp-client}
    access:
      - {users: [bob], scopes: [wiki.read], expires: "2030-01-01T08:00:00Z"}
      - {users: [bob], scopes: [wiki.read], expires: "2030-01-01T09:00:00Z"}
      - {users: [bob], scopes: [wiki.write]}
`

// exchangeAt asks p for an ID-JAG for idToken at the MCP server of
// audience aud and resource res, with scope, as mcp-client with its secret
// in the body.
func exchangeAt(t *testing.T, p *testIdP, idToken, aud, res, scope string) (*http.Response, map[string]any) {
	t.Helper()
	form := exchangeForm(idToken)
	form.Set("client_id", "mcp-client")
	form.Set("client_secret", "s1")
	form.Set("audience", aud)
	form.Set("resource", res)
	form.Set("scope", scope)
	return p.postToken(t, form, nil)
}

// TestIDJAGDoesNotOutliveTimeBoundAccess: access that ends at T (an
// access entry's expires, docs/configuration.md "Time-bound access") is
// not carried past T by an ID-JAG issued just before it: its exp is at
// most the instant the granted scopes stop being granted, and expires_in
// says so. At T itself the exchange is refused.
func TestIDJAGDoesNotOutliveTimeBoundAccess(t *testing.T) {
	cfg, err := policy.Parse([]byte(timeBoundConfig), "timebound.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	at8 := time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC)
	p.Clock().Freeze()
	p.Clock().Set(at8.Add(-10 * time.Minute))
	tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw")

	exchange := func(aud, res, scope string) (int, map[string]any) {
		t.Helper()
		resp, body := exchangeAt(t, p, tok.IDToken(), aud, res, scope)
		return resp.StatusCode, body
	}
	crm := func(scope string) (int, map[string]any) {
		return exchange("https://as.crm.example", "https://mcp.crm.example/mcp", scope)
	}
	wiki := func(scope string) (int, map[string]any) {
		return exchange("https://as.wiki.example", "https://mcp.wiki.example/mcp", scope)
	}
	expOf := func(body map[string]any) (exp, iat int64) {
		t.Helper()
		raw, _ := body["access_token"].(string)
		_, claims := p.verifyJWT(t, raw)
		e, _ := claims["exp"].(float64)
		i, _ := claims["iat"].(float64)
		if in, _ := body["expires_in"].(float64); int64(in) != int64(e)-int64(i) {
			t.Errorf("expires_in %v, exp - iat %d", body["expires_in"], int64(e)-int64(i))
		}
		return int64(e), int64(i)
	}

	for _, c := range []struct {
		name   string
		now    time.Time
		do     func(string) (int, map[string]any)
		scope  string
		wantTo time.Time // the latest exp allowed
	}{
		{"crm one second before its access ends", at8.Add(-time.Second), crm, "crm.read", at8},
		{"crm four minutes before", at8.Add(-4 * time.Minute), crm, "crm.read", at8},
		{"wiki.read, which a second entry grants until 09:00", at8.Add(-time.Second), wiki, "wiki.read", at8.Add(-time.Second + 5*time.Minute)},
		{"wiki.read a second before 09:00", at8.Add(time.Hour - time.Second), wiki, "wiki.read", at8.Add(time.Hour)},
		{"wiki.read and wiki.write: the access to wiki.read ends at 09:00", at8.Add(time.Hour - time.Minute), wiki, "wiki.read wiki.write", at8.Add(time.Hour)},
		{"wiki.write, for ever", at8.Add(time.Hour - time.Second), wiki, "wiki.write", at8.Add(time.Hour - time.Second + 5*time.Minute)},
	} {
		p.Clock().Set(c.now)
		tok = p.login(t, "mcp-client", "s1", "bob", "bob-pw")
		status, body := c.do(c.scope)
		if status != 200 {
			t.Errorf("%s: %d %v", c.name, status, body)
			continue
		}
		exp, iat := expOf(body)
		if exp > c.wantTo.Unix() || exp <= iat {
			t.Errorf("%s: iat %s exp %s; want an exp after iat and at most %s", c.name,
				time.Unix(iat, 0).UTC().Format(time.RFC3339), time.Unix(exp, 0).UTC().Format(time.RFC3339), c.wantTo.Format(time.RFC3339))
		}
		if exp < c.wantTo.Unix() {
			t.Errorf("%s: exp %s, before %s: cut shorter than the access", c.name, time.Unix(exp, 0).UTC().Format(time.RFC3339), c.wantTo.Format(time.RFC3339))
		}
	}

	p.Clock().Set(at8.Add(-time.Minute))
	tok = p.login(t, "mcp-client", "s1", "bob", "bob-pw")
	p.Clock().Set(at8)
	if status, body := crm("crm.read"); status != 400 || body["error"] != "access_denied" {
		t.Errorf("crm at the instant its access ends: %d %v; want 400 access_denied", status, body)
	}
}

// TestIDJAGExpiryOfAnExpiresWithAFraction: exp counts whole seconds, so an
// expires of 08:00:00.5 gives exp 08:00:00 to an ID-JAG issued before that
// second, and iat plus one second to one issued in it, which is not
// expired when issued (docs/configuration.md, "Time-bound access").
func TestIDJAGExpiryOfAnExpiresWithAFraction(t *testing.T) {
	cfg, err := policy.Parse([]byte(strings.Replace(timeBoundConfig, `"2030-01-01T08:00:00Z"}
  - id: wiki`, `"2030-01-01T08:00:00.5Z"}
  - id: wiki`, 1)), "timebound.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	at8 := time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC)
	p.Clock().Freeze()
	for _, c := range []struct {
		now time.Time
		exp time.Time
	}{
		{at8.Add(-300 * time.Millisecond), at8},
		{at8.Add(200 * time.Millisecond), at8.Add(time.Second)},
	} {
		p.Clock().Set(c.now.Add(-time.Minute))
		tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw")
		p.Clock().Set(c.now)
		resp, body := exchangeAt(t, p, tok.IDToken(), "https://as.crm.example", "https://mcp.crm.example/mcp", "crm.read")
		if resp.StatusCode != 200 {
			t.Fatalf("at %s: %d %v", c.now.Format(time.RFC3339Nano), resp.StatusCode, body)
		}
		raw, _ := body["access_token"].(string)
		_, claims := p.verifyJWT(t, raw)
		if exp, _ := claims["exp"].(float64); int64(exp) != c.exp.Unix() {
			t.Errorf("at %s: exp %s, want %s", c.now.Format(time.RFC3339Nano),
				time.Unix(int64(exp), 0).UTC().Format(time.RFC3339), c.exp.Format(time.RFC3339))
		}
	}
}
