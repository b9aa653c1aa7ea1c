package authserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// setClaims are the claims of a valid CAEP session-revoked SET for alice
// from the environment's IdP.
func (e *env) setClaims() map[string]any {
	subID := map[string]any{"format": "iss_sub", "iss": e.idp.issuer, "sub": alice}
	now := e.clock.Now()
	return map[string]any{
		"iss": e.idp.issuer, "iat": now.Unix(), "jti": randomString(), "aud": e.asURL, "sub_id": subID,
		"events": map[string]any{"https://schemas.openid.net/secevent/caep/event-type/session-revoked": map[string]any{
			"subject": subID, "event_timestamp": now.Unix()}},
	}
}

// pushRevocation pushes the IdP's session-revoked SET (setClaims), signed
// with its current key, and wants it accepted.
func (e *env) pushRevocation(t testing.TB) {
	t.Helper()
	k := e.idp.currentKey()
	if r := e.pushSET(t, sign(t, e.setClaims(), "secevent+jwt", k.KeyID, jose.ES256, k.Key), "application/secevent+jwt"); r.status != http.StatusAccepted {
		t.Fatalf("push: HTTP %d %v", r.status, r.body)
	}
}

func (e *env) pushSET(t testing.TB, set, contentType string) tokenReply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.asURL+"/events", strings.NewReader(set))
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := tokenReply{status: resp.StatusCode, header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&r.body)
	return r
}

// TestEvents_SessionRevokedRevokesTheUsersTokens pushes a valid SET: 202,
// and alice's access token issued before it is refused from then on, as
// is a replay of the SET.
func TestEvents_SessionRevokedRevokesTheUsersTokens(t *testing.T) {
	e := newEnv(t)
	token := e.accessToken(t, "issues.read")
	if _, err := e.as.VerifyAccessToken(context.Background(), token, e.mcpURL); err != nil {
		t.Fatalf("before the SET: %v", err)
	}
	k := e.idp.currentKey()
	set := sign(t, e.setClaims(), "secevent+jwt", k.KeyID, jose.ES256, k.Key)
	if r := e.pushSET(t, set, "application/secevent+jwt"); r.status != http.StatusAccepted {
		t.Fatalf("push: HTTP %d %v", r.status, r.body)
	}
	_, err := e.as.VerifyAccessToken(context.Background(), token, e.mcpURL)
	if err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("after the SET: %v, want revoked", err)
	}
	if r := e.pushSET(t, set, "application/secevent+jwt"); r.status != http.StatusBadRequest || r.str("err") != "invalid_request" {
		t.Errorf("replayed SET: HTTP %d %v", r.status, r.body)
	}
	e.clock.Advance(time.Second)
	if fresh := e.accessToken(t, "issues.read"); fresh == "" {
		t.Error("a token issued after the revocation is refused")
	}
}

// TestEvents_Refusals checks the RFC 8935 section 2.3 error of each kind
// of bad SET, and that none of them revokes anything.
func TestEvents_Refusals(t *testing.T) {
	e := newEnv(t)
	token := e.accessToken(t, "issues.read")
	k := e.idp.currentKey()
	stranger := newECKey(t)
	tests := []struct {
		name, contentType, typ, kid string
		key                         any
		edit                        func(map[string]any)
		want                        string
	}{
		{name: "wrong content type", contentType: "application/jwt", want: "invalid_request"},
		{name: "wrong typ", typ: "JWT", want: "invalid_request"},
		{name: "untrusted issuer", edit: func(c map[string]any) { c["iss"] = "https://evil.example" }, want: "invalid_issuer"},
		{name: "unknown key", kid: "nope", key: stranger, want: "invalid_key"},
		{name: "forged signature", key: stranger, want: "authentication_failed"},
		{name: "another audience", edit: func(c map[string]any) { c["aud"] = "https://as.other.example" }, want: "invalid_audience"},
		{name: "stale", edit: func(c map[string]any) { c["iat"] = e.clock.Now().Add(-time.Hour).Unix() }, want: "invalid_request"},
		{name: "no jti", edit: func(c map[string]any) { delete(c, "jti") }, want: "invalid_request"},
		{name: "no known event", edit: func(c map[string]any) { c["events"] = map[string]any{"urn:other": map[string]any{}} }, want: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.setClaims()
			if tt.edit != nil {
				tt.edit(c)
			}
			typ, kid, key, ct := "secevent+jwt", k.KeyID, any(k.Key), "application/secevent+jwt"
			if tt.typ != "" {
				typ = tt.typ
			}
			if tt.kid != "" {
				kid = tt.kid
			}
			if tt.key != nil {
				key = tt.key
			}
			if tt.contentType != "" {
				ct = tt.contentType
			}
			r := e.pushSET(t, sign(t, c, typ, kid, jose.ES256, key), ct)
			if r.status != http.StatusBadRequest || r.str("err") != tt.want || r.str("description") == "" {
				t.Errorf("HTTP %d %v, want 400 %s", r.status, r.body, tt.want)
			}
		})
	}
	if _, err := e.as.VerifyAccessToken(context.Background(), token, e.mcpURL); err != nil {
		t.Errorf("a refused SET revoked the token: %v", err)
	}
}

// FuzzEventsEndpoint posts arbitrary bodies: never a 5xx, never a
// revocation.
func FuzzEventsEndpoint(f *testing.F) {
	e := newEnv(f)
	token := e.accessToken(f, "issues.read")
	f.Add(sign(f, e.setClaims(), "secevent+jwt", "wrong-kid", jose.ES256, newECKey(f)), "application/secevent+jwt")
	f.Add("a.b.c", "application/secevent+jwt")
	f.Add("", "")
	f.Add("eyJhbGciOiJub25lIn0.e30.", "application/secevent+jwt; charset=utf-8")
	f.Add(strings.Repeat("A", 70<<10), "application/secevent+jwt")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		e.as.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("HTTP %d %s", rec.Code, rec.Body)
		}
		if _, err := e.as.VerifyAccessToken(context.Background(), token, e.mcpURL); err != nil {
			t.Fatalf("HTTP %d revoked the token: %v", rec.Code, err)
		}
	})
}

// TestEvents_ARevocationIsNeverMovedEarlier: a second SET for a user,
// received with the clock moved back (the demo follows the IdP's clock,
// which an admin moves), revokes what was issued until then, and leaves
// the first revocation as it was: it set the user's revocation to the
// earlier time, so that an ID-JAG the first SET had revoked was accepted
// again once the clock went forward.
func TestEvents_ARevocationIsNeverMovedEarlier(t *testing.T) {
	e := newEnv(t)
	k := e.idp.currentKey()
	push := func(when string) {
		t.Helper()
		if r := e.pushSET(t, sign(t, e.setClaims(), "secevent+jwt", k.KeyID, jose.ES256, k.Key), "application/secevent+jwt"); r.status != http.StatusAccepted {
			t.Fatalf("push %s: HTTP %d %v", when, r.status, r.body)
		}
	}
	before := e.jag(t, nil)
	e.clock.Advance(2 * time.Second)
	push("after the ID-JAG")
	e.clock.Advance(-time.Minute)
	push("with the clock moved back")
	e.clock.Advance(time.Minute)
	if r := e.post(t, grant(before)); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "revoked") {
		t.Errorf("an ID-JAG issued before the first SET: HTTP %d %s, want 400 invalid_grant, revoked", r.status, r.raw)
	}
}

// TestEvents_QuotedValuesAreCut: a refusal that quotes what the SET said
// (its issuer, its audience, its typ and kid headers)
// cuts each quoted value to 512 bytes with the marker the audit uses,
// "…[truncated N bytes]", and keeps the RFC 8935 section 2.3 shape.
// Before, a SET of 60 KiB had it all sent back in the description.
func TestEvents_QuotedValuesAreCut(t *testing.T) {
	e := newEnv(t)
	k := e.idp.currentKey()
	long := "https://evil.example/" + strings.Repeat("a", 20<<10)
	for _, c := range []struct {
		name, typ, kid string
		edit           func(map[string]any)
		want           string
	}{
		{name: "issuer", edit: func(c map[string]any) { c["iss"] = long }, want: "invalid_issuer"},
		{name: "typ", typ: strings.Repeat("t", 20<<10), want: "invalid_request"},
		{name: "audience", edit: func(c map[string]any) { c["aud"] = []string{long, long} }, want: "invalid_audience"},
		{name: "key id", kid: strings.Repeat("k", 20<<10), want: "invalid_key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			claims := e.setClaims()
			if c.edit != nil {
				c.edit(claims)
			}
			typ, kid := "secevent+jwt", k.KeyID
			if c.typ != "" {
				typ = c.typ
			}
			if c.kid != "" {
				kid = c.kid
			}
			r := e.pushSET(t, sign(t, claims, typ, kid, jose.ES256, k.Key), "application/secevent+jwt")
			desc := r.str("description")
			if r.status != http.StatusBadRequest || r.str("err") != c.want || len(r.body) != 2 {
				t.Fatalf("HTTP %d %.300v, want 400 %s with err and description alone", r.status, r.body, c.want)
			}
			if len(desc) > 2*512+200 || !strings.Contains(desc, "…[truncated ") {
				t.Errorf("description of %d bytes: %.700s, want each quoted value cut to 512 bytes with the marker", len(desc), desc)
			}
		})
	}
}

// TestEvents_UnknownCriticalExtension: a SET whose crit names an
// extension the recipient does not understand is refused (RFC 7515
// section 4.1.11) as the malformed request it is; it was
// authentication_failed, "the signature does not verify", which sends
// the IdP's operator to keys that are fine.
func TestEvents_UnknownCriticalExtension(t *testing.T) {
	e := newEnv(t)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: e.idp.currentKey()},
		(&jose.SignerOptions{}).WithType("secevent+jwt").WithCritical("urn:example:ext").WithHeader("urn:example:ext", true))
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwt.Signed(signer).Claims(e.setClaims()).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	r := e.pushSET(t, set, "application/secevent+jwt")
	if r.status != http.StatusBadRequest || r.str("err") != "invalid_request" || !strings.Contains(r.str("description"), `crit names "urn:example:ext"`) {
		t.Errorf("HTTP %d %v, want 400 invalid_request naming crit", r.status, r.body)
	}
}

// TestEvents_KeysThatCannotBeFetchedAreTemporary: a SET that arrives while
// the IdP's JWKS cannot be fetched (an outage, or the requests waiting for
// the next fetch at their bound) is not the SET's fault: it is answered
// 503 temporarily_unavailable with Retry-After, which the IdP's pusher
// retries, and is accepted once the keys can be fetched. Until 2026-12-07
// it was 400 invalid_key, which RFC 8935 section 2.3 says not to retry:
// the revocation was dropped.
func TestEvents_KeysThatCannotBeFetchedAreTemporary(t *testing.T) {
	e := newEnv(t)
	e.idp.jwksDown.Store(true)
	k := e.idp.currentKey()
	set := sign(t, e.setClaims(), "secevent+jwt", k.KeyID, jose.ES256, k.Key)
	r := e.pushSET(t, set, "application/secevent+jwt")
	if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("a SET while the IdP's JWKS is down: HTTP %d Retry-After %q %v, want 503 temporarily_unavailable with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	e.idp.jwksDown.Store(false)
	e.clock.Advance(6 * time.Second)
	if r := e.pushSET(t, set, "application/secevent+jwt"); r.status != http.StatusAccepted {
		t.Fatalf("the same SET once the JWKS is back: HTTP %d %v, want 202", r.status, r.body)
	}
}
