package resource_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/xaa-idp/xaa-idp/resource"
)

// proof is an RFC 9449 DPoP proof to mint with mintProof: by default for a
// POST, made now by the environment's clock, without ath.
type proof struct {
	htm    string         // "": POST
	htu    string         // required
	token  string         // the access token whose hash is ath; "" for none
	iat    time.Time      // zero: now
	claims map[string]any // replaces these claims; a nil value deletes
}

// mintProof signs a DPoP proof with key, its public part in the jwk header.
func (e *env) mintProof(t testing.TB, key *ecdsa.PrivateKey, p proof) string {
	t.Helper()
	raw, err := e.signProof(key, p)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (e *env) signProof(key *ecdsa.PrivateKey, p proof) (string, error) {
	if p.htm == "" {
		p.htm = http.MethodPost
	}
	if p.iat.IsZero() {
		p.iat = e.clock.Now()
	}
	claims := map[string]any{"jti": randomString(), "htm": p.htm, "htu": p.htu, "iat": p.iat.Unix()}
	if p.token != "" {
		sum := sha256.Sum256([]byte(p.token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	for k, v := range p.claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// jkt is the RFC 7638 thumbprint of key, base64url: what cnf.jkt says.
func jkt(t testing.TB, key *ecdsa.PrivateKey) string {
	t.Helper()
	sum, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

// tokenProof mints a proof for the authorization server's token endpoint.
func (e *env) tokenProof(t testing.TB, key *ecdsa.PrivateKey) string {
	return e.mintProof(t, key, proof{htu: e.asURL + "/token"})
}

// boundJAG mints a valid ID-JAG bound to the key with thumbprint jkt.
func (e *env) boundJAG(t testing.TB, jkt string) string {
	return e.jag(t, func(c map[string]any) { c["cnf"] = map[string]any{"jkt": jkt} })
}

// dpopAccessToken runs the grant with a proof of key and returns the
// DPoP-bound access token.
func (e *env) dpopAccessToken(t testing.TB, key *ecdsa.PrivateKey, scope string) string {
	t.Helper()
	req := grant(e.jag(t, func(c map[string]any) {
		c["scope"] = scope
		c["cnf"] = map[string]any{"jkt": jkt(t, key)}
	}))
	req.dpop = []string{e.tokenProof(t, key)}
	r := e.post(t, req)
	if r.status != http.StatusOK || r.str("token_type") != "DPoP" {
		t.Fatalf("token endpoint: HTTP %d %s", r.status, r.raw)
	}
	return r.str("access_token")
}

func withProofs(r tokenRequest, proofs ...string) tokenRequest {
	r.dpop = proofs
	return r
}

// TestTokenEndpoint_DPoP covers the JWT bearer grant with DPoP (RFC 9449
// §5): a bound ID-JAG (cnf.jkt) needs a proof of its key, and any valid
// proof gets a DPoP-bound access token.
func TestTokenEndpoint_DPoP(t *testing.T) {
	e := newEnv(t)
	keyA, keyB := newECKey(t), newECKey(t)
	jktA, jktB := jkt(t, keyA), jkt(t, keyB)
	now := e.clock.Now()

	tests := []struct {
		name       string
		req        func(t *testing.T) tokenRequest
		wantStatus int
		wantError  string // for a refusal
		wantDesc   string // a substring of error_description
		wantType   string // token_type of a success
		wantJKT    string // cnf.jkt of the access token, "" for none
	}{
		{
			name:       "bound ID-JAG without a proof",
			req:        func(t *testing.T) tokenRequest { return grant(e.boundJAG(t, jktA)) },
			wantStatus: 400, wantError: "invalid_grant",
			wantDesc: `the ID-JAG is DPoP-bound (cnf.jkt "` + jktA + `"); send a DPoP proof with that key`,
		},
		{
			name:       "bound ID-JAG with a proof of another key",
			req:        func(t *testing.T) tokenRequest { return withProofs(grant(e.boundJAG(t, jktA)), e.tokenProof(t, keyB)) },
			wantStatus: 400, wantError: "invalid_grant",
			wantDesc: `the ID-JAG is DPoP-bound (cnf.jkt "` + jktA + `"); send a DPoP proof with that key, not with the key "` + jktB + `"`,
		},
		{
			name:       "bound ID-JAG with a proof of its key",
			req:        func(t *testing.T) tokenRequest { return withProofs(grant(e.boundJAG(t, jktA)), e.tokenProof(t, keyA)) },
			wantStatus: 200, wantType: "DPoP", wantJKT: jktA,
		},
		{
			name: "bound ID-JAG with a proof of its key, client_secret_post",
			req: func(t *testing.T) tokenRequest {
				r := withProofs(grant(e.boundJAG(t, jktA)), e.tokenProof(t, keyA))
				r.basic = nil
				r.form.Set("client_id", confidentialClient)
				r.form.Set("client_secret", confidentialSecret)
				return r
			},
			wantStatus: 200, wantType: "DPoP", wantJKT: jktA,
		},
		{
			name:       "unbound ID-JAG with a proof",
			req:        func(t *testing.T) tokenRequest { return withProofs(grant(e.jag(t, nil)), e.tokenProof(t, keyB)) },
			wantStatus: 200, wantType: "DPoP", wantJKT: jktB,
		},
		{
			name:       "unbound ID-JAG without a proof",
			req:        func(t *testing.T) tokenRequest { return grant(e.jag(t, nil)) },
			wantStatus: 200, wantType: "Bearer",
		},
		{
			name: "bound ID-JAG with an invalid proof of its key",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.boundJAG(t, jktA)), e.mintProof(t, keyA, proof{htm: http.MethodGet, htu: e.asURL + "/token"}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: `htm "GET" is not the request's method POST`,
		},
		{
			name: "proof for another token endpoint",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: e.idp.issuer + "/token"}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: `htu "` + e.idp.issuer + `/token" is not ` + e.asURL + "/token",
		},
		{
			name: "proof with ath",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: e.asURL + "/token", token: "x"}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: "has an ath",
		},
		{
			name: "proof made too long ago",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.jag(t, nil)), e.mintProof(t, keyA, proof{htu: e.asURL + "/token", iat: now.Add(-2 * time.Minute)}))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: "before now",
		},
		{
			name: "two proofs",
			req: func(t *testing.T) tokenRequest {
				return withProofs(grant(e.boundJAG(t, jktA)), e.tokenProof(t, keyA), e.tokenProof(t, keyA))
			},
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: "2 DPoP headers",
		},
		{
			name:       "not a JWT",
			req:        func(t *testing.T) tokenRequest { return withProofs(grant(e.jag(t, nil)), "not-a-jwt") },
			wantStatus: 400, wantError: "invalid_dpop_proof", wantDesc: "not a JWT",
		},
		{
			name:       "cnf with a confirmation method other than jkt",
			req:        e.withBinding(map[string]any{"jkt": jktA, "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: `confirmation method "x5t#S256"`,
		},
		{
			name:       "cnf without jkt",
			req:        e.withBinding(map[string]any{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "cnf is unusable: no jkt",
		},
		{
			name:       "cnf not an object",
			req:        e.withBinding(jktA),
			wantStatus: 400, wantError: "invalid_grant", wantDesc: "want a JSON object",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, tt.req(t))
			if r.status != tt.wantStatus {
				t.Fatalf("HTTP %d %s, want %d", r.status, r.raw, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				if r.str("error") != tt.wantError || !strings.Contains(r.str("error_description"), tt.wantDesc) {
					t.Errorf("got %s, want %s with %q", r.raw, tt.wantError, tt.wantDesc)
				}
				if _, ok := r.body["access_token"]; ok {
					t.Errorf("a refusal carries an access token: %s", r.raw)
				}
				return
			}
			if r.str("token_type") != tt.wantType {
				t.Errorf("token_type %q, want %q", r.str("token_type"), tt.wantType)
			}
			at, err := e.as.VerifyAccessToken(r.str("access_token"), e.mcpURL)
			if err != nil {
				t.Fatal(err)
			}
			if at.JKT != tt.wantJKT {
				t.Errorf("access token JKT %q, want %q", at.JKT, tt.wantJKT)
			}
			var claims map[string]any
			tok, _ := jwt.ParseSigned(r.str("access_token"), []jose.SignatureAlgorithm{jose.ES256})
			_ = tok.UnsafeClaimsWithoutVerification(&claims)
			cnf, bound := claims["cnf"].(map[string]any)
			if bound != (tt.wantJKT != "") || (bound && cnf["jkt"] != tt.wantJKT) {
				t.Errorf("access token cnf %v, want jkt %q", claims["cnf"], tt.wantJKT)
			}
		})
	}
}

// withBinding mints an ID-JAG whose cnf claim is cnf.
func (e *env) withBinding(cnf any) func(*testing.T) tokenRequest {
	return func(t *testing.T) tokenRequest {
		return grant(e.jag(t, func(c map[string]any) { c["cnf"] = cnf }))
	}
}

// TestTokenEndpoint_DPoPProofIsSingleUse: a proof redeems one grant; a
// refusal for the proof does not burn the ID-JAG.
func TestTokenEndpoint_DPoPProofIsSingleUse(t *testing.T) {
	e := newEnv(t)
	key := newECKey(t)
	p := e.tokenProof(t, key)
	if r := e.post(t, withProofs(grant(e.boundJAG(t, jkt(t, key))), p)); r.status != http.StatusOK {
		t.Fatalf("first use: HTTP %d %s", r.status, r.raw)
	}
	jag := e.boundJAG(t, jkt(t, key))
	r := e.post(t, withProofs(grant(jag), p))
	if r.status != http.StatusBadRequest || r.str("error") != "invalid_dpop_proof" || !strings.Contains(r.str("error_description"), "already used") {
		t.Fatalf("replayed proof: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, grant(jag)); r.str("error") != "invalid_grant" {
		t.Fatalf("without a proof: HTTP %d %s", r.status, r.raw)
	}
	if r := e.post(t, withProofs(grant(jag), e.tokenProof(t, key))); r.status != http.StatusOK {
		t.Fatalf("the ID-JAG with a fresh proof after two refusals: HTTP %d %s", r.status, r.raw)
	}
}

// mcpReply is an MCP server's answer, whatever its content type.
type mcpReply struct {
	status int
	header http.Header
	body   string
}

// callTool posts a tools/call to the tracker with the given Authorization
// header and DPoP proofs.
func (e *env) callTool(t *testing.T, tool, authorization string, proofs ...string) mcpReply {
	t.Helper()
	args := `{}`
	if tool == "create_issue" {
		args = `{"title":"t"}`
	}
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
	req, _ := http.NewRequest(http.MethodPost, e.mcpURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", authorization)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return mcpReply{resp.StatusCode, resp.Header, string(raw)}
}

// TestMCPServer_DPoPBoundTokens covers RFC 9449 §7 at the MCP server: a
// DPoP-bound token needs the DPoP scheme and a proof of its key for each
// request; a bearer token keeps working as Bearer.
func TestMCPServer_DPoPBoundTokens(t *testing.T) {
	e := newEnv(t)
	key, other := newECKey(t), newECKey(t)
	token := e.dpopAccessToken(t, key, "issues.read")
	bearerToken := e.accessToken(t, "issues.read")
	proofFor := func(k *ecdsa.PrivateKey, p proof) string {
		if p.htu == "" {
			p.htu = e.mcpURL
		}
		return e.mintProof(t, k, p)
	}
	used := proofFor(key, proof{token: token})

	tests := []struct {
		name          string
		tool          string // "": whoami
		authorization string
		proofs        []string
		wantStatus    int
		wantScheme    string // of the challenge
		wantError     string // error= of the challenge
		wantDesc      string
	}{
		{name: "bound token with its proof", authorization: "DPoP " + token, proofs: []string{used}, wantStatus: 200},
		// The rows run in order: this one replays the proof of the first.
		{name: "the same proof again", authorization: "DPoP " + token, proofs: []string{used},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "already used"},
		{name: "bound token with its proof, scheme in lower case", authorization: "dpop " + token, proofs: []string{proofFor(key, proof{token: token})}, wantStatus: 200},
		{name: "bound token as Bearer", authorization: "Bearer " + token,
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_token", wantDesc: "the access token is DPoP-bound"},
		{name: "bound token as Bearer with a proof", authorization: "Bearer " + token, proofs: []string{proofFor(key, proof{token: token})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_token", wantDesc: "the access token is DPoP-bound"},
		{name: "bound token without a proof", authorization: "DPoP " + token,
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "no DPoP proof"},
		{name: "proof of another key", authorization: "DPoP " + token, proofs: []string{proofFor(other, proof{token: token})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_token", wantDesc: "the access token is bound to"},
		{name: "proof without ath", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "has no ath"},
		{name: "proof with the ath of another token", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: bearerToken})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "not the hash of the access token"},
		{name: "proof for another URL", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: token, htu: e.asURL + "/token"})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "htu"},
		{name: "proof for GET", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: token, htm: http.MethodGet})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: `htm "GET"`},
		{name: "proof made too long ago", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: token, iat: e.clock.Now().Add(-time.Hour)})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "before now"},
		{name: "two proofs", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: token}), proofFor(key, proof{token: token})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "2 DPoP headers"},
		{name: "bearer token as Bearer", authorization: "Bearer " + bearerToken, wantStatus: 200},
		{name: "bearer token with the DPoP scheme", authorization: "DPoP " + bearerToken, proofs: []string{proofFor(key, proof{token: bearerToken})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_token", wantDesc: "not DPoP-bound"},
		{name: "an invalid token with the DPoP scheme", authorization: "DPoP not-a-token",
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_token", wantDesc: "not an ES256 JWT"},
		{name: "write tool without its scope", tool: "create_issue", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: token})},
			wantStatus: 403, wantScheme: "DPoP", wantError: "insufficient_scope", wantDesc: "needs scope issues.write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.tool == "" {
				tt.tool = "whoami"
			}
			r := e.callTool(t, tt.tool, tt.authorization, tt.proofs...)
			if r.status != tt.wantStatus {
				t.Fatalf("HTTP %d %s, want %d", r.status, r.body, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusOK {
				if !strings.Contains(r.body, alice) {
					t.Errorf("whoami answered %s", r.body)
				}
				return
			}
			challenge := r.header.Get("WWW-Authenticate")
			for _, want := range []string{tt.wantScheme + " ", `error="` + tt.wantError + `"`, `resource_metadata="`, `algs="ES256 RS256 PS256 EdDSA"`} {
				if !strings.Contains(challenge, want) {
					t.Errorf("WWW-Authenticate %q lacks %s", challenge, want)
				}
			}
			if !strings.HasPrefix(challenge, tt.wantScheme+" ") {
				t.Errorf("WWW-Authenticate %q is not a %s challenge", challenge, tt.wantScheme)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				var body map[string]string
				if err := json.Unmarshal([]byte(r.body), &body); err != nil || body["error"] != tt.wantError || !strings.Contains(body["error_description"], tt.wantDesc) {
					t.Errorf("body %s, want %s with %q", r.body, tt.wantError, tt.wantDesc)
				}
			} else if !strings.Contains(r.body, tt.wantDesc) {
				t.Errorf("body %s lacks %q", r.body, tt.wantDesc)
			}
		})
	}
}

// TestMCPServer_WhoamiWithDPoPAndTheSDKClient runs the official client with
// a DPoP-bound token, a fresh proof on every request.
func TestMCPServer_WhoamiWithDPoPAndTheSDKClient(t *testing.T) {
	e := newEnv(t)
	key := newECKey(t)
	token := e.dpopAccessToken(t, key, "issues.read")
	client := mcp.NewClient(&mcp.Implementation{Name: "resource-test", Version: "0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint:   e.mcpURL,
		HTTPClient: &http.Client{Transport: dpopTransport{e: e, key: key, token: token}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	var who resource.WhoAmI
	structured(t, res, &who)
	if who.Subject != alice || who.ClientID != confidentialClient || who.Resource != e.mcpURL {
		t.Errorf("whoami %+v", who)
	}
}

// dpopTransport sends token with the DPoP scheme and a new proof of key
// for each request (RFC 9449 §7.1).
type dpopTransport struct {
	e     *env
	key   *ecdsa.PrivateKey
	token string
}

func (d dpopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p, err := d.e.signProof(d.key, proof{htm: r.Method, htu: r.URL.String(), token: d.token})
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "DPoP "+d.token)
	r.Header.Set("DPoP", p)
	return http.DefaultTransport.RoundTrip(r)
}
