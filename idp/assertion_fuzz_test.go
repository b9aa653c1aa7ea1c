package idp_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// FuzzExchangeJWTs throws arbitrary JOSE headers and claims at the token
// exchange: a client assertion signed with the client's own registered key
// (what anyone who hosts a metadata document with keys can send), and a
// subject token whose header was replaced. In the claims ISSUER, IAT, EXP
// and JTI are replaced by the IdP's issuer, now, a minute ahead and a fresh
// jti, so that the seeds stay live. Whatever comes in, no 5xx, a JSON error
// without a token for a refusal, and an ID-JAG only for an assertion whose
// iss and sub are the client and whose subject token is unchanged.
func FuzzExchangeJWTs(f *testing.F) {
	const (
		header = `{"alg":"ES256","kid":"k1","typ":"JWT"}`
		claims = `{"iss":"jwt-client","sub":"jwt-client","aud":"ISSUER","jti":"JTI","iat":IAT,"exp":EXP}`
	)
	f.Add(header, claims, "")
	f.Add(header, strings.Replace(claims, `"ISSUER"`, `"ISSUER/oauth/token"`, 1), "")
	f.Add(header, strings.Replace(claims, `"ISSUER"`, `["ISSUER","https://other.example"]`, 1), "")
	f.Add(`{"alg":"ES256"}`, claims, `{"alg":"none"}`)
	f.Add(`{"alg":"ES256","kid":"k1","crit":["b64"],"b64":false}`, claims, `{"alg":"RS256","kid":"x"}`)
	f.Add(`{"alg":"EdDSA","kid":"k1"}`, claims, `{"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"","y":""}}`)
	f.Add(`{"alg":"HS256","kid":"k1"}`, `{"iss":"jwt-client","sub":"other","aud":"ISSUER","jti":"JTI","exp":EXP}`, "")
	f.Add(header, `{"iss":"jwt-client","sub":"jwt-client","aud":"ISSUER","jti":"JTI","nbf":EXP,"exp":"EXP"}`, "")
	f.Add(header, `{"iss":"jwt-client","sub":"jwt-client","aud":"ISSUER","jti":"","exp":1e400}`, "")
	f.Add(header, `{"iss":"https://client.example/meta.json","sub":"https://client.example/meta.json","aud":"ISSUER","jti":"JTI","exp":EXP}`, "")
	// No metadata document is fetched: a fuzzed iss URL would go to the
	// network.
	p := startJWTClientIdP(f, func(o *idp.Options) { o.Config.CIMD = policy.CIMD{Allow: []string{}} })
	idToken := p.loginAlice(f)
	subjectHeader, _, _ := strings.Cut(idToken, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	n := 0
	f.Fuzz(func(t *testing.T, header, claims, subjectHdr string) {
		n++
		now := time.Now()
		claims = strings.NewReplacer("ISSUER", p.URL, "IAT", strconv.FormatInt(now.Unix(), 10),
			"EXP", strconv.FormatInt(now.Add(time.Minute).Unix(), 10), "JTI", "fuzz-"+strconv.Itoa(n)+"-"+strconv.FormatInt(now.UnixNano(), 36)).Replace(claims)
		form := exchangeForm(idToken)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", signES256(t, p.key, header, claims))
		subjectChanged := false
		if subjectHdr != "" {
			h := b64([]byte(subjectHdr))
			subjectChanged = h != subjectHeader
			form.Set("subject_token", h+idToken[len(subjectHeader):])
		}
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		var resp map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("status %d with a non-JSON body %q", rec.Code, rec.Body)
		}
		if rec.Code >= 500 && (rec.Code != http.StatusServiceUnavailable || resp["error"] != "temporarily_unavailable") {
			t.Fatalf("header %q claims %q subject header %q: status %d: %s", header, claims, subjectHdr, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			if _, ok := resp["access_token"]; ok || resp["error"] == nil {
				t.Fatalf("status %d: %v", rec.Code, resp)
			}
			return
		}
		var got map[string]any
		if json.Unmarshal([]byte(claims), &got) != nil || got["iss"] != "jwt-client" || got["sub"] != "jwt-client" || subjectChanged {
			t.Fatalf("an ID-JAG for header %q claims %q subject header %q: %v", header, claims, subjectHdr, resp)
		}
		if resp["issued_token_type"] != "urn:ietf:params:oauth:token-type:id-jag" {
			t.Fatalf("200 that is not an ID-JAG response: %v", resp)
		}
	})
}

// signES256 is the JWS of header and claims as sent, signed by key with
// ES256 whatever the header says.
func signES256(t *testing.T, key *ecdsa.PrivateKey, header, claims string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64([]byte(header)) + "." + b64([]byte(claims))
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

// FuzzSubjectToken throws arbitrary headers and claims, signed with the
// IdP's own key (signing.key_files), at the token exchange as its subject
// ID token: the claim checks see every shape a token of this IdP could
// have. In the header KID is the IdP's key id; in the claims ISSUER, IAT
// and EXP are the issuer, now and ten minutes ahead. Whatever comes in,
// no 5xx, a JSON error without a token for a refusal, and an ID-JAG only
// for a token of this issuer, for an active user (alice or bob, not the
// disabled carol), to the client, whose sub it carries.
func FuzzSubjectToken(f *testing.F) {
	const (
		header = `{"alg":"ES256","kid":"KID","typ":"JWT"}`
		claims = `{"iss":"ISSUER","sub":"u-alice","aud":"mcp-client","iat":IAT,"exp":EXP,"auth_time":IAT}`
	)
	f.Add(header, claims)
	f.Add(`{"alg":"ES256","kid":"KID"}`, strings.Replace(claims, `"mcp-client"`, `["mcp-client","other-client"],"azp":"mcp-client"`, 1))
	f.Add(`{"alg":"ES256","kid":"KID","typ":"oauth-id-jag+jwt"}`, claims)
	f.Add(`{"alg":"ES256","kid":"KID","typ":"at+jwt","crit":["exp"]}`, claims)
	f.Add(header, `{"iss":"ISSUER","sub":"u-bob","aud":"mcp-client","iat":IAT,"exp":EXP,"nbf":EXP,"sid":"x","nonce":"n"}`)
	f.Add(header, `{"iss":"ISSUER/","sub":"u-carol","aud":["mcp-client"],"iat":"IAT","exp":EXP.5,"auth_time":-1}`)
	f.Add(header, `{"iss":"ISSUER","sub":"u-alice","aud":"mcp-client","iat":IAT,"exp":1e308,"auth_time":1e308}`)
	f.Add(header, `{"iss":"ISSUER","sub":"u-alice","aud":"mcp-client","exp":EXP,"email":"alice@example.com","email_verified":"true","acr":0}`)
	key, keyFile := ownedES256Key(f)
	cfg := loadConfig(f, "testdata/conformance.yaml")
	cfg.Signing.IDTokenAlg, cfg.Signing.IDJAGAlg, cfg.Signing.KeyFiles = "ES256", "ES256", []string{keyFile}
	p := startIdP(f, cfg)
	kid := p.Keys()[0].KID
	f.Fuzz(func(t *testing.T, header, claims string) {
		now := time.Now()
		header = strings.ReplaceAll(header, "KID", kid)
		claims = strings.NewReplacer("ISSUER", p.URL, "IAT", strconv.FormatInt(now.Unix(), 10),
			"EXP", strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10)).Replace(claims)
		form := exchangeForm(signES256(t, key, header, claims))
		form.Set("client_id", "mcp-client")
		form.Set("client_secret", "s1")
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		var resp map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("status %d with a non-JSON body %q", rec.Code, rec.Body)
		}
		if rec.Code >= 500 && (rec.Code != http.StatusServiceUnavailable || resp["error"] != "temporarily_unavailable") {
			t.Fatalf("header %q claims %q: status %d: %s", header, claims, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			if _, ok := resp["access_token"]; ok || resp["error"] == nil {
				t.Fatalf("status %d: %v", rec.Code, resp)
			}
			return
		}
		var got map[string]any
		if json.Unmarshal([]byte(claims), &got) != nil || got["iss"] != p.URL || (got["sub"] != "u-alice" && got["sub"] != "u-bob") {
			t.Fatalf("an ID-JAG for header %q claims %q: %v", header, claims, resp)
		}
		if aud, ok := got["aud"].(string); ok && aud != "mcp-client" {
			t.Fatalf("an ID-JAG for a token to %q: claims %q", aud, claims)
		}
		jag, _ := resp["access_token"].(string)
		if _, c := p.verifyJWT(t, jag); c["sub"] != got["sub"] {
			t.Fatalf("an ID-JAG for %v from claims %q", c["sub"], claims)
		}
	})
}
