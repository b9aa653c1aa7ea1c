package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	mathrand "math/rand"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// TestOracle_TokenEndpointAndExplain: on random small configurations, the
// token endpoint and GET /admin/api/explain decide a sample of random token
// exchanges as the oracle does (policytest.Model, an independent reading of
// the documented decision rules; policy's TestDecide_Oracle compares it with
// Decide on many more): the error, max_age, the granted scopes, and the
// ID-JAG's lifetime, cut at the expiry of the entries that grant it.
func TestOracle_TokenEndpointAndExplain(t *testing.T) {
	const seed, configs, requests = 20261206, 40, 30
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "es256.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	r := mathrand.New(mathrand.NewSource(seed))
	fails := 0
	for n := range configs {
		m := policytest.RandomModel(r)
		cfg, err := policy.Parse([]byte(m.YAML()), "oracle.yaml")
		if err != nil {
			t.Fatalf("seed %d config %d: %v\n%s", seed, n, err, m.YAML())
		}
		cfg.Signing.IDTokenAlg, cfg.Signing.IDJAGAlg, cfg.Signing.KeyFiles = "ES256", "ES256", []string{keyFile}
		ts, issuer, srv := serveIdP(t, cfg)
		srv.Clock().Freeze()
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: srv.Keys()[0].KID}},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}

		for k := range requests {
			req := m.RandomRequest(r)
			want := m.Decide(req)
			srv.Clock().Set(req.Now)
			report := func(via, diff string) {
				fails++
				if fails <= 3 {
					t.Errorf("seed %d config %d request %d, %s: %s\nrequest: %+v\noracle: %+v\nconfig:\n%s",
						seed, n, k, via, diff, req, want, m.YAML())
				}
			}
			if diff := exchangeDiffers(t, issuer, signer, req, want); diff != "" {
				report("token endpoint", diff)
			}
			if diff := auditDiffers(t, issuer, want); diff != "" {
				report("audit", diff)
			}
			if req.Audience != "" && !req.AuthTime.IsZero() {
				if diff := explainDiffers(t, issuer, req, want); diff != "" {
					report("admin explain", diff)
				}
			}
		}
		ts.Close()
		srv.Close()
	}
	if fails > 0 {
		t.Errorf("%d disagreements", fails)
	}
}

// exchangeDiffers exchanges an ID token of req's user, logged in at
// req.AuthTime, as req says, and names how the answer differs from want.
func exchangeDiffers(t *testing.T, issuer string, signer jose.Signer, req policy.Request, want policytest.OracleOutcome) string {
	t.Helper()
	claims := map[string]any{
		"iss": issuer, "sub": policy.DefaultSub(req.Username), "aud": req.ClientID,
		"iat": req.Now.Unix(), "exp": req.Now.Add(5 * time.Minute).Unix(),
	}
	if !req.AuthTime.IsZero() {
		claims["auth_time"] = req.AuthTime.Unix()
	}
	idToken, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
		"subject_token":        {idToken},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
		"client_id":            {req.ClientID},
		"client_secret":        {"secret-" + req.ClientID},
	}
	for k, v := range map[string]string{"audience": req.Audience, "resource": req.Resource, "scope": strings.Join(req.Scopes, " ")} {
		if v != "" {
			form.Set(k, v)
		}
	}
	resp, err := http.PostForm(issuer+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error     string   `json:"error"`
		Desc      string   `json:"error_description"`
		MaxAge    *int64   `json:"max_age"`
		Scope     string   `json:"scope"`
		ExpiresIn *float64 `json:"expires_in"`
		Token     string   `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Sprintf("%s with a body that is not JSON: %v", resp.Status, err)
	}
	status := http.StatusOK
	switch want.Error {
	case "":
	case "invalid_client":
		status = http.StatusUnauthorized
	default:
		status = http.StatusBadRequest
	}
	if resp.StatusCode != status || body.Error != want.Error {
		return fmt.Sprintf("%s %q (%s), oracle %d %q", resp.Status, body.Error, body.Desc, status, want.Error)
	}
	if want.MaxAge > 0 && (body.MaxAge == nil || *body.MaxAge != int64(want.MaxAge/time.Second)) {
		return fmt.Sprintf("max_age %v, oracle %v", body.MaxAge, want.MaxAge)
	}
	if got := strings.Fields(body.Scope); !slices.Equal(got, want.Granted) {
		return fmt.Sprintf("scope %q, oracle %q", got, want.Granted)
	}
	if want.Error == "" {
		// The ID-JAG lives 5m, but not past the access that grants it.
		end := req.Now.Add(5 * time.Minute)
		if !want.Until.IsZero() && want.Until.Before(end) {
			end = want.Until
		}
		var c struct{ Exp, Iat int64 }
		if part := strings.Split(body.Token, "."); len(part) != 3 {
			return "the access_token is not a JWT"
		} else if b, err := base64.RawURLEncoding.DecodeString(part[1]); err != nil || json.Unmarshal(b, &c) != nil {
			return "the ID-JAG's payload is not JSON"
		}
		// exp is the whole second at or before the end, or, when that is
		// not after iat, the next second: never expired when issued
		// (docs/configuration.md, "Time-bound access").
		exp := end.Unix()
		if exp <= req.Now.Unix() {
			exp = req.Now.Unix() + 1
		}
		if c.Exp != exp {
			return fmt.Sprintf("exp %s, oracle %s (end %s)", time.Unix(c.Exp, 0).UTC().Format(time.RFC3339),
				time.Unix(exp, 0).UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339Nano))
		}
		if body.ExpiresIn == nil || *body.ExpiresIn != float64(c.Exp-c.Iat) && *body.ExpiresIn != float64(c.Exp-req.Now.Unix()) {
			return fmt.Sprintf("expires_in %v, exp-iat %d", body.ExpiresIn, c.Exp-c.Iat)
		}
	}
	return ""
}

// explainDiffers asks GET /admin/api/explain for req's decision and names
// how it differs from want.
func explainDiffers(t *testing.T, issuer string, req policy.Request, want policytest.OracleOutcome) string {
	t.Helper()
	q := url.Values{"user": {req.Username}, "client": {req.ClientID}, "audience": {req.Audience},
		"auth_age": {req.Now.Sub(req.AuthTime).String()}}
	if req.Resource != "" {
		q.Set("resource", req.Resource)
	}
	if len(req.Scopes) > 0 {
		q.Set("scope", strings.Join(req.Scopes, " "))
	}
	hr, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/explain?"+q.Encode(), nil)
	hr.SetBasicAuth("root", "pw")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e policy.Explanation
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("%s (%v)", resp.Status, err)
	}
	if e.Allowed != (want.Error == "") || e.Error != want.Error {
		return fmt.Sprintf("allowed %v error %q, oracle %q", e.Allowed, e.Error, want.Error)
	}
	if e.MaxAge != int64(want.MaxAge/time.Second) {
		return fmt.Sprintf("max_age %d, oracle %v", e.MaxAge, want.MaxAge)
	}
	if !slices.Equal(e.Scopes, want.Granted) {
		return fmt.Sprintf("scopes %q, oracle %q", e.Scopes, want.Granted)
	}
	if want.ReachedAccess {
		var expired []string
		for _, x := range e.Expired {
			expired = append(expired, x.Rule)
		}
		if !slices.Equal(expired, want.Expired) {
			return fmt.Sprintf("expired %q, oracle %q", expired, want.Expired)
		}
	}
	return ""
}

// auditDiffers reads the newest token_exchange event and names how it
// differs from want: its outcome and granted scopes.
func auditDiffers(t *testing.T, issuer string, want policytest.OracleOutcome) string {
	t.Helper()
	hr, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/audit?type=token_exchange&limit=1", nil)
	hr.SetBasicAuth("root", "pw")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []struct {
		Outcome      string `json:"outcome"`
		Error        string `json:"error"`
		ScopeGranted string `json:"scope_granted"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&events); err != nil || len(events) != 1 {
		return fmt.Sprintf("%s: %d events (%v)", resp.Status, len(events), err)
	}
	e := events[0]
	outcome := "allowed"
	switch {
	case want.Error == "":
	case want.Denied:
		outcome = "denied"
	default:
		outcome = "error"
	}
	if e.Outcome != outcome || e.Error != want.Error || e.ScopeGranted != strings.Join(want.Granted, " ") {
		return fmt.Sprintf("outcome %q error %q scope_granted %q, oracle %q %q %q",
			e.Outcome, e.Error, e.ScopeGranted, outcome, want.Error, strings.Join(want.Granted, " "))
	}
	return ""
}
