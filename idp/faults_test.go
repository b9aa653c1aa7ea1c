package idp_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestFaults_TimesIsExactUnderConcurrency: a fault with times fires exactly
// that often however many requests race for it.
func TestFaults_TimesIsExactUnderConcurrency(t *testing.T) {
	srv := idptest.New(t)
	tok := srv.Login("alice")
	const times, requests = 5, 40
	srv.InjectFault(policy.Fault{
		Match: policy.FaultMatch{Server: "tracker"},
		Error: policy.FaultError{Code: "temporarily_unavailable"},
		Times: times,
	})
	var wg sync.WaitGroup
	errs := make([]error, requests)
	for i := range requests {
		wg.Go(func() { _, errs[i] = srv.Exchange(tok, "tracker") })
	}
	wg.Wait()
	faulted := 0
	for _, err := range errs {
		var e *idpclient.Error
		switch {
		case err == nil:
		case errors.As(err, &e) && e.Code == "temporarily_unavailable":
			faulted++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if faulted != times {
		t.Errorf("%d of %d exchanges met the fault, want exactly %d", faulted, requests, times)
	}
	if fs := srv.Faults(); fs[0].Fired != times || *fs[0].Remaining != 0 {
		t.Errorf("fault status %+v", fs[0])
	}
	injected := 0
	for _, ev := range srv.Audit(audit.Filter{Type: audit.TypeTokenExchange, Limit: 1000}) {
		if ev.Injected {
			injected++
		}
	}
	if injected != times {
		t.Errorf("%d injected events in the audit log, want %d", injected, times)
	}
}

// TestFaults_ClientMatchNeedsAuthentication: a fault for a client does not
// fire for a request that only claims to be that client; that request gets
// the real answer.
func TestFaults_ClientMatchNeedsAuthentication(t *testing.T) {
	srv := idptest.New(t)
	tok := srv.Login("alice")
	srv.InjectFault(policy.Fault{Match: policy.FaultMatch{Client: "mcp-client"}, HTTPStatus: http.StatusInternalServerError})
	tracker := srv.Config().Server("tracker")
	_, err := idpclient.Exchange(t.Context(), idpclient.ExchangeOptions{
		Issuer: srv.Issuer(), ClientID: "mcp-client", ClientSecret: "wrong",
		SubjectToken: tok.IDToken, Audience: tracker.Issuer, Resource: tracker.Resources[0],
	})
	var e *idpclient.Error
	if !errors.As(err, &e) || e.Code != "invalid_client" {
		t.Errorf("wrong secret: err = %v, want invalid_client (not the fault)", err)
	}
	if _, err := srv.Exchange(tok, "tracker"); err == nil {
		t.Error("the authenticated client did not meet the fault")
	}
}

// TestFaults_BrokenIDJAGsBreakOneThing: each broken ID-JAG differs from a
// sound one in exactly what its name says; the rest (signature with the
// published key, claims) is as usual.
func TestFaults_BrokenIDJAGsBreakOneThing(t *testing.T) {
	srv := idptest.New(t)
	keys := fetchKeySet(t, srv.Issuer()+"/keys")
	tracker := srv.Config().Server("tracker")
	sound := func(t *testing.T, h jose.Header, c map[string]any) {
		t.Helper()
		if h.ExtraHeaders[jose.HeaderType] != "oauth-id-jag+jwt" {
			t.Errorf("typ %v", h.ExtraHeaders[jose.HeaderType])
		}
		if c["aud"] != tracker.Issuer || c["client_id"] != "mcp-client-at-tracker" || c["resource"] != tracker.Resources[0] {
			t.Errorf("claims %v", c)
		}
		now := float64(time.Now().Unix())
		if exp, _ := c["exp"].(float64); exp < now {
			t.Errorf("exp %v is past", exp)
		}
		if nbf, ok := c["nbf"].(float64); ok && nbf > now {
			t.Errorf("nbf %v is ahead", nbf)
		}
	}
	cases := []struct {
		kind  string
		check func(t *testing.T, raw string)
	}{
		{policy.FaultWrongTyp, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			if h.ExtraHeaders[jose.HeaderType] != "JWT" {
				t.Errorf("typ %v, want JWT", h.ExtraHeaders[jose.HeaderType])
			}
			h.ExtraHeaders[jose.HeaderType] = "oauth-id-jag+jwt"
			sound(t, h, c)
		}},
		{policy.FaultWrongAud, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			if c["aud"] != tracker.Resources[0] {
				t.Errorf("aud %v, want the resource %s", c["aud"], tracker.Resources[0])
			}
			c["aud"] = tracker.Issuer
			sound(t, h, c)
		}},
		{policy.FaultExpired, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			exp, iat := c["exp"].(float64), c["iat"].(float64)
			if now := float64(time.Now().Unix()); exp > now-9*60 || exp-iat != 300 {
				t.Errorf("exp %v iat %v, want expired ten minutes ago after a normal lifetime", exp, iat)
			}
			c["exp"] = float64(time.Now().Add(time.Minute).Unix())
			sound(t, h, c)
		}},
		{policy.FaultNotYetValid, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			nbf, _ := c["nbf"].(float64)
			if now := float64(time.Now().Unix()); nbf < now+9*60 {
				t.Errorf("nbf %v, want ten minutes ahead", nbf)
			}
			// The lifetime (exp less iat) is the usual one: an
			// authorization server that bounds it, as RFC 7523 section 3
			// allows, must refuse this ID-JAG for its nbf alone.
			if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 300 {
				t.Errorf("exp %v iat %v: a lifetime of %vs, want the usual 300s", exp, iat, exp-iat)
			}
			delete(c, "nbf")
			sound(t, h, c)
		}},
		{policy.FaultBadSignature, func(t *testing.T, raw string) {
			tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]any
			if err := tok.Claims(keys.Key(tok.Headers[0].KeyID)[0].Key, &c); err == nil {
				t.Error("the signature verifies")
			}
		}},
		{policy.FaultUnknownKID, func(t *testing.T, raw string) {
			tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			if kid := tok.Headers[0].KeyID; len(keys.Key(kid)) != 0 {
				t.Errorf("kid %q is in the JWKS", kid)
			}
		}},
		{policy.FaultMissingClientID, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			if _, ok := c["client_id"]; ok {
				t.Errorf("client_id %v present", c["client_id"])
			}
			c["client_id"] = "mcp-client-at-tracker"
			sound(t, h, c)
		}},
		{policy.FaultAlgNone, func(t *testing.T, raw string) {
			// RFC 7519 section 6.1: an unsecured JWT has alg "none" and an
			// empty signature; a strict authorization server allow-lists
			// algorithms (RFC 8725 section 3.1, EMA section 7.4.1).
			parts := strings.Split(raw, ".")
			if len(parts) != 3 || parts[2] != "" {
				t.Fatalf("%d parts, signature %q; want three with an empty signature", len(parts), parts[len(parts)-1])
			}
			var h map[string]any
			var c map[string]any
			for i, v := range []*map[string]any{&h, &c} {
				b, err := base64.RawURLEncoding.DecodeString(parts[i])
				if err != nil || json.Unmarshal(b, v) != nil {
					t.Fatalf("part %d is not base64url JSON: %v", i, err)
				}
			}
			if h["alg"] != "none" || h["typ"] != "oauth-id-jag+jwt" || len(keys.Key(fmt.Sprint(h["kid"]))) != 1 {
				t.Errorf("header %v, want alg none, typ oauth-id-jag+jwt and the kid of a published key", h)
			}
			sound(t, jose.Header{ExtraHeaders: map[jose.HeaderKey]any{jose.HeaderType: h["typ"]}}, c)
		}},
		{policy.FaultUnmappedClient, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			if c["client_id"] != "mcp-client" {
				t.Errorf("client_id %v, want mcp-client, the client's id at the IdP", c["client_id"])
			}
			c["client_id"] = "mcp-client-at-tracker"
			sound(t, h, c)
		}},
		{policy.FaultWrongResource, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			if c["resource"] == tracker.Resources[0] {
				t.Error("resource is the tracker's")
			}
			c["resource"] = tracker.Resources[0]
			sound(t, h, c)
		}},
		{policy.FaultMultipleAud, func(t *testing.T, raw string) {
			// The authorization server and the MCP server: the draft
			// allows an array of exactly one element only.
			h, c := verifyAgainst(t, raw, keys)
			aud, _ := c["aud"].([]any)
			if len(aud) != 2 || aud[0] != tracker.Issuer || aud[1] != tracker.Resources[0] {
				t.Errorf("aud %#v, want [%s %s]", c["aud"], tracker.Issuer, tracker.Resources[0])
			}
			c["aud"] = tracker.Issuer
			sound(t, h, c)
		}},
		{policy.FaultWrongCnf, func(t *testing.T, raw string) {
			// Bound to a key no client holds: redeemed with no proof,
			// or with any client's, it must be refused.
			h, c := verifyAgainst(t, raw, keys)
			cnf, _ := c["cnf"].(map[string]any)
			if len(cnf) != 1 || cnf["jkt"] != "rkRxKMqdsMzIp7xCyOgWgHCCxI1YsZTMUYI9675C_SQ" {
				t.Errorf("cnf %v, want the jkt of no key", c["cnf"])
			}
			delete(c, "cnf")
			sound(t, h, c)
		}},
		{policy.FaultWrongIss, func(t *testing.T, raw string) {
			// Signed with the IdP's published key: only the issuer check
			// refuses it.
			h, c := verifyAgainst(t, raw, keys)
			if c["iss"] != "https://wrong-issuer.invalid" {
				t.Errorf("iss %v, want https://wrong-issuer.invalid", c["iss"])
			}
			sound(t, h, c)
		}},
		{policy.FaultMissingSub, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			if _, ok := c["sub"]; ok {
				t.Errorf("sub %v present", c["sub"])
			}
			if c["iss"] != srv.Issuer() {
				t.Errorf("iss %v", c["iss"])
			}
			sound(t, h, c)
		}},
		{policy.FaultMissingJTI, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			if _, ok := c["jti"]; ok {
				t.Errorf("jti %v present", c["jti"])
			}
			if c["sub"] == nil {
				t.Error("no sub")
			}
			sound(t, h, c)
		}},
		{policy.FaultUnknownScope, func(t *testing.T, raw string) {
			h, c := verifyAgainst(t, raw, keys)
			scopes := strings.Fields(fmt.Sprint(c["scope"]))
			if len(scopes) < 2 || scopes[len(scopes)-1] != "xaa-idp-fault-unknown-scope" || !slices.Contains(tracker.Scopes, scopes[0]) {
				t.Errorf("scope %v, want the granted scopes and xaa-idp-fault-unknown-scope", c["scope"])
			}
			sound(t, h, c)
		}},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			id := srv.InjectFault(policy.Fault{IDJAG: c.kind, Times: 1})
			defer srv.RemoveFault(id)
			c.check(t, srv.IDJAG("alice", "tracker"))
		})
	}
	h, c := verifyAgainst(t, srv.IDJAG("alice", "tracker"), keys)
	sound(t, h, c)
}

func fetchKeySet(t *testing.T, url string) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set
}

func verifyAgainst(t *testing.T, raw string, keys jose.JSONWebKeySet) (jose.Header, map[string]any) {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	h := tok.Headers[0]
	found := keys.Key(h.KeyID)
	if len(found) != 1 {
		t.Fatalf("kid %q: %d keys", h.KeyID, len(found))
	}
	var c map[string]any
	if err := tok.Claims(found[0].Key, &c); err != nil {
		t.Fatalf("signature: %v", err)
	}
	return h, c
}

// TestFaults_ProductClientsAreExempt: the console signs in through the
// token endpoint like any client; a fault for every request must not lock
// the administrator out of removing it.
func TestFaults_ProductClientsAreExempt(t *testing.T) {
	srv := idptest.New(t)
	srv.IdP().RegisterClient(policy.Client{ClientID: "console", ClientSecret: "console-secret", RedirectURIs: []string{"http://127.0.0.1/console/callback"}}, "")
	srv.InjectFault(policy.Fault{HTTPStatus: http.StatusServiceUnavailable})
	login := func(clientID, secret string) error {
		_, err := idpclient.Login(t.Context(), idpclient.LoginOptions{
			Issuer: srv.Issuer(), ClientID: clientID, ClientSecret: secret, Username: "alice", Password: "alice",
			RedirectURI: "http://127.0.0.1/console/callback",
		})
		return err
	}
	if err := login("console", "console-secret"); err != nil {
		t.Errorf("the console's sign-in met the fault: %v", err)
	}
	if _, err := srv.TryLogin("mcp-client", "alice"); err == nil {
		t.Error("mcp-client's login did not meet the fault")
	}
}

// TestFaults_PublicClientAsBasicMeetsItsFaults: a public client sent as
// Basic with an empty password (golang.org/x/oauth2's way), which every
// grant authenticates as none, meets the faults for that client as it
// does with client_id in the body; with a password it is not
// authenticated and does not.
func TestFaults_PublicClientAsBasicMeetsItsFaults(t *testing.T) {
	srv := idptest.New(t)
	tok := srv.LoginVia("mcp-public", "alice")
	srv.InjectFault(policy.Fault{Match: policy.FaultMatch{Client: "mcp-public"}, Error: policy.FaultError{Code: "temporarily_unavailable"}})
	tracker := srv.Config().Server("tracker")
	exchange := func(t *testing.T, clientID string, basic *[2]string) (int, map[string]any) {
		t.Helper()
		form := url.Values{
			"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
			"subject_token":        {tok.IDToken},
			"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
			"audience":             {tracker.Issuer},
			"resource":             {tracker.Resources[0]},
		}
		if clientID != "" {
			form.Set("client_id", clientID)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.Issuer()+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic != nil {
			req.SetBasicAuth(basic[0], basic[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("HTTP %d, not JSON: %v", resp.StatusCode, err)
		}
		return resp.StatusCode, body
	}
	for name, c := range map[string]struct {
		clientID string
		basic    *[2]string
	}{
		"client_id in the body":           {"mcp-public", nil},
		"Basic with an empty password":    {"", &[2]string{"mcp-public", ""}},
		"Basic, form-encoded, empty pass": {"", &[2]string{"mcp%2Dpublic", ""}},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := exchange(t, c.clientID, c.basic)
			if status != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" {
				t.Errorf("HTTP %d %v, want the fault's 503 temporarily_unavailable", status, body)
			}
		})
	}
	t.Run("Basic with a password", func(t *testing.T) {
		status, body := exchange(t, "", &[2]string{"mcp-public", "x"})
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("HTTP %d %v, want 401 invalid_client (not the fault)", status, body)
		}
	})
}

// TestFaults_WrongAudKeepsTheShape: under id_jag knobs that write aud as an
// array and leave resource out (the okta persona's shape), wrong_aud still
// breaks the one thing it names: aud is the MCP server's URL, written as
// the knob writes aud.
func TestFaults_WrongAudKeepsTheShape(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML("id_jag: {aud: array, resource_claim: false}\n"+string(fixtures.Demo)))
	keys := fetchKeySet(t, srv.Issuer()+"/keys")
	tracker := srv.Config().Server("tracker")
	_, c := verifyAgainst(t, srv.IDJAG("alice", "tracker"), keys)
	if aud, ok := c["aud"].([]any); !ok || len(aud) != 1 || aud[0] != tracker.Issuer {
		t.Fatalf("sound ID-JAG: aud %v, want [%s]", c["aud"], tracker.Issuer)
	}
	srv.InjectFault(policy.Fault{IDJAG: policy.FaultWrongAud, Times: 1})
	_, c = verifyAgainst(t, srv.IDJAG("alice", "tracker"), keys)
	if aud, ok := c["aud"].([]any); !ok || len(aud) != 1 || aud[0] != tracker.Resources[0] {
		t.Errorf("wrong_aud: aud %#v, want [%s]: the MCP server's URL, as an array", c["aud"], tracker.Resources[0])
	}
	if _, ok := c["resource"]; ok {
		t.Errorf("wrong_aud added resource %v", c["resource"])
	}
}
