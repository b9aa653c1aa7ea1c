package idp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"github.com/xaa-idp/xaa-idp/idp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestExchange_PrivateKeyJWT authenticates the token exchange with a
// client assertion (RFC 7523 section 2.2), the method the ID-JAG draft's
// examples use, signed by a key registered in the client's jwks.
func TestExchange_PrivateKeyJWT(t *testing.T) {
	p := startJWTClientIdP(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idToken := p.loginAlice(t)
	key, assertion := p.key, func(k *ecdsa.PrivateKey, aud, jti string, exp time.Time) string {
		return p.assertion(t, k, aud, jti, exp)
	}
	in := time.Now().Add(time.Minute)
	// claims are a valid assertion's, with change (nil deletes a claim).
	claims := func(change map[string]any) string {
		c := map[string]any{"iss": "jwt-client", "sub": "jwt-client", "aud": p.URL, "jti": "j9", "iat": time.Now().Unix(), "exp": in.Unix()}
		for k, v := range change {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return mintIDToken(t, key, "k1", jose.ES256, c)
	}
	rows := []struct {
		name      string
		assertion string
		status    int
		code      string
	}{
		{"valid, aud = token endpoint", assertion(key, p.URL+"/oauth/token", "j1", in), http.StatusOK, ""},
		{"valid, aud = issuer", assertion(key, p.URL, "j2", in), http.StatusOK, ""},
		{"replayed jti", assertion(key, p.URL, "j2", in), http.StatusUnauthorized, "invalid_client"},
		{"signed by another key", assertion(other, p.URL, "j3", in), http.StatusUnauthorized, "invalid_client"},
		{"for another audience", assertion(key, "https://elsewhere.example", "j4", in), http.StatusUnauthorized, "invalid_client"},
		{"expired", assertion(key, p.URL, "j5", time.Now().Add(-time.Hour)), http.StatusUnauthorized, "invalid_client"},
		// Its jti would be remembered until exp: bounded in time and size.
		{"expiring in a year", assertion(key, p.URL, "j6", time.Now().Add(365*24*time.Hour)), http.StatusUnauthorized, "invalid_client"},
		{"expiring within the hour", assertion(key, p.URL, "j7", time.Now().Add(59*time.Minute)), http.StatusOK, ""},
		{"a jti of 257 bytes", assertion(key, p.URL, strings.Repeat("j", 257), in), http.StatusUnauthorized, "invalid_client"},
		{"a jti of 256 bytes", assertion(key, p.URL, strings.Repeat("j", 256), in), http.StatusOK, ""},
		// Without jti, the first use would pass unremembered.
		{"without jti", claims(map[string]any{"jti": nil}), http.StatusUnauthorized, "invalid_client"},
		// iss names the client whose key signs; sub must name it too.
		{"sub another client", claims(map[string]any{"sub": "mcp-client", "jti": "j10"}), http.StatusUnauthorized, "invalid_client"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			form := exchangeForm(idToken)
			form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			form.Set("client_assertion", r.assertion)
			resp, body := p.postToken(t, form, nil)
			if resp.StatusCode != r.status || (r.code != "" && body["error"] != r.code) {
				t.Fatalf("status %d body %v, want %d %s", resp.StatusCode, body, r.status, r.code)
			}
			if r.status == http.StatusOK {
				_, claims := p.verifyJWT(t, body["access_token"].(string))
				if claims["client_id"] != "jwt-client-at-chat" || claims["sub"] != "u-alice" {
					t.Errorf("ID-JAG claims %v", claims)
				}
			} else if body["access_token"] != nil {
				t.Errorf("a refusal carries a token: %v", body)
			}
		})
	}
}

// TestPrivateKeyJWT_MetadataDocumentFloodLeavesConfiguredClientsAlone: anyone who hosts a client
// metadata document with keys can mint valid assertions without end. Theirs fill a replay cache of
// their own: a configured client's private_key_jwt still works when that one is full.
func TestPrivateKeyJWT_MetadataDocumentFloodLeavesConfiguredClientsAlone(t *testing.T) {
	p := startJWTClientIdP(t)
	idToken := p.loginAlice(t)
	idp.FillCIMDAssertionCache(p.Server)
	form := exchangeForm(idToken)
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", p.assertion(t, p.key, p.URL, "after-the-flood", time.Now().Add(time.Minute)))
	if resp, body := p.postToken(t, form, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("a configured client's assertion after a flood of metadata-document ones: %d %v", resp.StatusCode, body)
	}
}

// TestPrivateKeyJWT_AnnouncedWhereverItIsAccepted: introspection and
// revocation authenticate clients as the token endpoint does, assertions
// included, so discovery lists private_key_jwt for them too, with the
// algorithms (RFC 8414 section 2: the alg list MUST be present when
// private_key_jwt is), and an assertion works at both.
func TestPrivateKeyJWT_AnnouncedWhereverItIsAccepted(t *testing.T) {
	p := startJWTClientIdP(t)
	resp, err := http.Get(p.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, endpoint := range []string{"token", "revocation", "introspection"} {
		methods, _ := doc[endpoint+"_endpoint_auth_methods_supported"].([]any)
		if !slices.Contains(methods, any("private_key_jwt")) {
			t.Errorf("%s_endpoint_auth_methods_supported = %v, without private_key_jwt", endpoint, methods)
		}
		if algs, _ := doc[endpoint+"_endpoint_auth_signing_alg_values_supported"].([]any); len(algs) == 0 {
			t.Errorf("%s_endpoint_auth_signing_alg_values_supported is missing", endpoint)
		}
	}
	for i, path := range []string{"/oauth/introspect", "/revoke"} {
		form := url.Values{"token": {"unknown"}, "client_id": {"jwt-client"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {p.assertion(t, p.key, p.URL, fmt.Sprint("announced-", i), time.Now().Add(time.Minute))}}
		resp, err := http.PostForm(p.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s with a client assertion: %d, want 200", path, resp.StatusCode)
		}
	}
}
