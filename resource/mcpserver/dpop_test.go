package mcpserver_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
	"github.com/xaa-idp/xaa-idp/resource/mcpserver"
)

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
	bearerToken := e.accessToken("issues.read")
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
		{name: "proof for another URL", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: token, htu: asIssuer + "/token"})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "htu"},
		{name: "proof for GET", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: token, htm: http.MethodGet})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "htm 'GET'"},
		{name: "proof made too long ago", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: token, iat: e.clock.Now().Add(-time.Hour)})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "before now"},
		{name: "two proofs", authorization: "DPoP " + token, proofs: []string{proofFor(key, proof{token: token}), proofFor(key, proof{token: token})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_dpop_proof", wantDesc: "2 DPoP headers"},
		{name: "bearer token as Bearer", authorization: "Bearer " + bearerToken, wantStatus: 200},
		{name: "bearer token with the DPoP scheme", authorization: "DPoP " + bearerToken, proofs: []string{proofFor(key, proof{token: bearerToken})},
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_token", wantDesc: "not DPoP-bound"},
		{name: "an invalid token with the DPoP scheme", authorization: "DPoP not-a-token",
			wantStatus: 401, wantScheme: "DPoP", wantError: "invalid_token", wantDesc: "not a token of " + asIssuer},
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
			for _, want := range []string{tt.wantScheme + " ", `error="` + tt.wantError + `"`, `resource_metadata="`, `algs="ES256 RS256 PS256 EdDSA Ed25519"`} {
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
	var who mcpserver.WhoAmI
	structured(t, res, &who)
	if who.Subject != alice || who.ClientID != clientID || who.Resource != e.mcpURL {
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

// TestMCPServer_DPoPOneUserCannotFillProofCache: one user calling the MCP
// server again and again, a new proof each time (as RFC 9449 asks), cannot
// fill the proof cache every DPoP-bound token needs: once it is half full,
// that user holding 1% of it is refused with 503 and Retry-After, while
// another user's DPoP-bound calls still pass.
func TestMCPServer_DPoPOneUserCannotFillProofCache(t *testing.T) {
	defer mcpserver.SetReplayCacheSize(100)()
	e := newEnv(t)
	key := newECKey(t)
	aliceToken := e.dpopAccessToken(t, key, "issues.read")
	called := 0
	for ; called < 100; called++ {
		r := e.callTool(t, "", "DPoP "+aliceToken, e.mintProof(t, key, proof{htu: e.mcpURL, token: aliceToken}))
		if r.status == http.StatusOK {
			continue
		}
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
			t.Fatalf("alice's call %d: %d %s (Retry-After %q), want 503 with Retry-After", called+1, r.status, r.body, r.header.Get("Retry-After"))
		}
		break
	}
	if called != 50 {
		t.Errorf("alice was refused after %d calls, want 50 (half the cache)", called)
	}
	bobToken := e.token("issues.read", func(at *authserver.AccessToken) { at.Subject, at.JKT = "00u-bob", jkt(t, key) })
	if r := e.callTool(t, "", "DPoP "+bobToken, e.mintProof(t, key, proof{htu: e.mcpURL, token: bobToken})); r.status != http.StatusOK {
		t.Errorf("bob's call after alice's: %d %s, want 200", r.status, r.body)
	}
}
