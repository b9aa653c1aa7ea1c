package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestExchange_DPoPKeyBindsAndDPoPProofRedeems: a team testing its own
// authorization server gets a DPoP-bound ID-JAG without writing code:
// exchange --dpop-key creates the key (mode 0600) and sends a proof of
// it, and dpop-proof makes the proof with which a strict authorization
// server (package resource's) redeems the bound ID-JAG. Until 2026-12-06
// the CLI could send no proof.
func TestExchange_DPoPKeyBindsAndDPoPProofRedeems(t *testing.T) {
	var as http.Handler
	asSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { as.ServeHTTP(w, r) }))
	defer asSrv.Close()
	port, _ := strconv.Atoi(asSrv.URL[strings.LastIndex(asSrv.URL, ":")+1:])
	config := minimalConfig(t, "http", port, port)
	issuer := startServe(t, "--config", config)
	var err error
	as, err = authserver.New(authserver.Config{
		Issuer: asSrv.URL, IdPIssuer: issuer, IdPJWKSURL: issuer + "/keys",
		Resources: []string{asSrv.URL + "/mcp"}, Scopes: []string{"notes.read", "notes.write"},
		Clients: map[string]string{"my-mcp-client-at-notes": "as-secret"},
	})
	if err != nil {
		t.Fatal(err)
	}

	code, idToken, stderr := runCLI(t, "login", "--issuer", issuer, "--client-id", "my-mcp-client", "--client-secret", "change-me", "--username", "dev", "--password", "dev", "--print", "id_token")
	if code != 0 {
		t.Fatalf("login: exit %d: %s", code, stderr)
	}
	keyFile := filepath.Join(t.TempDir(), "dpop.pem")
	exchange := []string{"exchange", "--issuer", issuer, "--client-id", "my-mcp-client", "--client-secret", "change-me",
		"--id-token", strings.TrimSpace(idToken), "--config", config, "--audience", "notes", "--decode", "--dpop-key", keyFile}
	jktOf := func(out string) (jag, jkt string) {
		t.Helper()
		var resp struct {
			AccessToken string `json:"access_token"`
			Decoded     struct {
				Claims struct {
					Cnf struct {
						JKT string `json:"jkt"`
					} `json:"cnf"`
				} `json:"claims"`
			} `json:"decoded"`
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("exchange printed %q: %v", out, err)
		}
		return resp.AccessToken, resp.Decoded.Claims.Cnf.JKT
	}
	code, out, stderr := runCLI(t, exchange...)
	if code != exitOK || !strings.Contains(stderr, "created the DPoP key "+keyFile) {
		t.Fatalf("exchange --dpop-key: exit %d, stderr %q", code, stderr)
	}
	jag, jkt := jktOf(out)
	if jkt == "" || !strings.Contains(stderr, "jkt "+jkt) {
		t.Fatalf("the ID-JAG's cnf.jkt is %q; stderr %q", jkt, stderr)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v, %v; want mode 0600", fi, err)
	}

	redeem := func(jag, proof string) (int, map[string]any) {
		t.Helper()
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag},
			"client_id": {"my-mcp-client-at-notes"}, "client_secret": {"as-secret"}}
		req, _ := http.NewRequest(http.MethodPost, asSrv.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	proof := func() string {
		t.Helper()
		code, out, stderr := runCLI(t, "dpop-proof", "--dpop-key", keyFile, "--htu", asSrv.URL+"/token")
		if code != exitOK || stderr != "" {
			t.Fatalf("dpop-proof: exit %d, stderr %q", code, stderr)
		}
		return strings.TrimSpace(out)
	}
	if status, body := redeem(jag, ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("the bound ID-JAG without a proof: %d %v, want 400 invalid_grant", status, body)
	}
	if status, body := redeem(jag, proof()); status != http.StatusOK || body["token_type"] != "DPoP" {
		t.Errorf("the bound ID-JAG with dpop-proof's proof: %d %v, want 200 and a DPoP access token", status, body)
	}

	// The key file is kept: the next exchange binds to the same key.
	code, out, stderr = runCLI(t, exchange...)
	if jag2, jkt2 := jktOf(out); code != exitOK || jkt2 != jkt || stderr != "" {
		t.Errorf("exchange with the existing key: exit %d, jkt %q (first %q), stderr %q", code, jkt2, jkt, stderr)
	} else if status, body := redeem(jag2, proof()); status != http.StatusOK {
		t.Errorf("the second bound ID-JAG: %d %v", status, body)
	}
}

// TestDPoPKey_BadFileSaysWhy: a key file that holds no usable private key
// is bad usage that names the file and what is wrong, before any request
// (the issuer is where nothing listens); dpop-proof does not create one.
func TestDPoPKey_BadFileSaysWhy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name, file, says string
	}{
		{"garbage", write("garbage.pem", "not a key\n"), "holds no PEM private key"},
		{"public JWK", write("public.jwk", `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`), "a public JWK"},
		{"bad JSON", write("bad.jwk", `{"kty":`), "not a JWK"},
		{"P-384", write("p384.pem", p384PEM(t)), "P-256"},
		{"RSA over 4096 bits", write("rsa8192.pem", rsa8192PEM(t)), "at most 4096"},
		{"symmetric JWK", write("oct.jwk", `{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}`), "a symmetric JWK"},
		{"JWK Set", write("set.jwk", `{"keys":[]}`), "a JWK Set"},
		{"directory", dir, "not a regular file"},
	} {
		code, out, stderr := runCLI(t, "exchange", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--audience", "https://as.example", "--id-token", "x.y.z", "--dpop-key", c.file)
		if code != exitUsage || out != "" || !strings.Contains(stderr, "--dpop-key") || !strings.Contains(stderr, c.says) {
			t.Errorf("exchange, %s: exit %d, stdout %q, stderr %q; want exit %d saying %q", c.name, code, out, stderr, exitUsage, c.says)
		}
		code, out, stderr = runCLI(t, "dpop-proof", "--dpop-key", c.file, "--htu", "https://as.example/token")
		if code != exitUsage || out != "" || !strings.Contains(stderr, "--dpop-key") || !strings.Contains(stderr, c.says) {
			t.Errorf("dpop-proof, %s: exit %d, stdout %q, stderr %q; want exit %d saying %q", c.name, code, out, stderr, exitUsage, c.says)
		}
	}
	missing := filepath.Join(dir, "missing.pem")
	code, _, stderr := runCLI(t, "dpop-proof", "--dpop-key", missing, "--htu", "https://as.example/token")
	if _, err := os.Stat(missing); code != exitUsage || !strings.Contains(stderr, "exchange --dpop-key") || err == nil {
		t.Errorf("dpop-proof, missing key: exit %d, stderr %q, stat %v; want exit %d, no file made, and how to make one", code, stderr, err, exitUsage)
	}
}

// TestExchange_DPoPKeyNotCreatedThroughASymlink: exchange --dpop-key
// creating a missing key through a dangling symbolic link wrote the key at
// the link's target: made by another user in a shared directory (/tmp),
// the link put this user's new private key where that user chose, around
// Linux's protected_symlinks, and the ID-JAGs bound to it were theirs to
// use. A link that leads nowhere is now bad usage, and nothing is created;
// a link to an existing key file is read as before.
func TestExchange_DPoPKeyNotCreatedThroughASymlink(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "stolen.pem")
	link := filepath.Join(dir, "dpop.pem")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "exchange", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--audience", "https://as.example", "--id-token", "x.y.z", "--dpop-key", link)
	if _, err := os.Lstat(target); err == nil || code != exitUsage || out != "" || !strings.Contains(stderr, "--dpop-key") || !strings.Contains(stderr, "symbolic link") {
		t.Errorf("exchange through a dangling link: exit %d, stdout %q, stderr %q, target made: %v; want exit %d saying it is a symbolic link, and no key at the target", code, out, stderr, err == nil, exitUsage)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}

	if err := os.WriteFile(target, []byte(p256PEM(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI(t, "dpop-proof", "--dpop-key", link, "--htu", "https://as.example/token")
	if code != exitOK || out == "" || stderr != "" {
		t.Errorf("dpop-proof with a link to a key file: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// rsa8192PEM is an RSA key of 8192 bits, PEM: larger than any DPoP
// verifier here (go-jose) reads. Eight primes make it in a second; only
// its size matters.
func rsa8192PEM(t *testing.T) string {
	t.Helper()
	//lint:ignore SA1019 a test key, made fast; its security is beside the point
	key, err := rsa.GenerateMultiPrimeKey(rand.Reader, 8, 8192)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// TestExchange_DPoPKeyOnAMovedClockSaysWhy: an IdP started with --clock
// ten minutes ahead refuses the proof exchange --dpop-key makes now, as
// made too long ago; the CLI says that the IdP's clock is the cause,
// which the description alone (make a new proof for every request) hides.
func TestExchange_DPoPKeyOnAMovedClockSaysWhy(t *testing.T) {
	issuer := startServe(t, "--clock", time.Now().Add(10*time.Minute).UTC().Format(time.RFC3339))
	_, idToken, _ := runCLI(t, "login", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret", "--username", "alice", "--password", "alice", "--print", "id_token")
	code, out, stderr := runCLI(t, "exchange", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
		"--id-token", strings.TrimSpace(idToken), "--audience", "http://127.0.0.1:8101", "--dpop-key", filepath.Join(t.TempDir(), "k.pem"))
	if code != exitFailure || !strings.Contains(out, "invalid_dpop_proof") || !strings.Contains(stderr, "the IdP's clock") || !strings.Contains(stderr, "10m") {
		t.Errorf("exit %d, stdout %q, stderr %q; want invalid_dpop_proof and a hint naming the IdP's clock, 10m off", code, out, stderr)
	}
}

// TestDPoPProof_PrivateJWK: dpop-proof takes a private JWK as well as a
// PEM key, and its proof is of that key, for the URL and method given; a
// key file others may read is used, with a warning.
func TestDPoPProof_PrivateJWK(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(jose.JSONWebKey{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "key.jwk")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "dpop-proof", "--dpop-key", file, "--htm", "GET", "--htu", "https://mcp.example/mcp?q=1", "--access-token", "at", "--nonce", "n1")
	if code != exitOK || !strings.Contains(stderr, "warning") || !strings.Contains(stderr, "chmod 600") {
		t.Fatalf("exit %d, stderr %q; want a proof and a warning about the mode", code, stderr)
	}
	p, err := dpop.Verify(strings.TrimSpace(out), dpop.Want{Method: "GET", URL: "https://mcp.example/mcp", Now: time.Now(), AccessToken: "at"})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := dpop.Thumbprint(key); p.JKT != want {
		t.Errorf("the proof's key %s, the file's %s", p.JKT, want)
	}
}

// TestDPoPProof_MethodAsServersCompareIt: a proof's htm is compared with
// the request's method exactly (RFC 9449 section 4.3; methods are
// case-sensitive, RFC 9110 section 9.1), so `--htm post` made a proof that
// every server refused ("htm 'post' is not the request's method POST"),
// and `--htm "PO ST"` one of a method no request can have. Both are bad
// usage now, the first naming the method meant; any other token, an
// extension method included, is taken as written.
func TestDPoPProof_MethodAsServersCompareIt(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "dpop.pem")
	if err := os.WriteFile(keyFile, []byte(p256PEM(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ htm, says string }{
		{"post", "POST"},
		{"Get", "GET"},
		{"PO ST", "not an HTTP method"},
		{"GET\n", "not an HTTP method"},
	} {
		code, out, stderr := runCLI(t, "dpop-proof", "--dpop-key", keyFile, "--htu", "https://as.example/token", "--htm", c.htm)
		if code != exitUsage || out != "" || !strings.Contains(stderr, "--htm") || !strings.Contains(stderr, c.says) {
			t.Errorf("--htm %q: exit %d, stdout %q, stderr %q; want exit %d saying %q", c.htm, code, out, stderr, exitUsage, c.says)
		}
	}
	for _, htm := range []string{"GET", "PATCH", "PROPFIND", "purge"} {
		code, out, stderr := runCLI(t, "dpop-proof", "--dpop-key", keyFile, "--htu", "https://as.example/token", "--htm", htm)
		if code != exitOK || stderr != "" {
			t.Errorf("--htm %s: exit %d, stderr %q", htm, code, stderr)
			continue
		}
		var claims struct {
			HTM string `json:"htm"`
		}
		tok, err := jose.ParseSignedCompact(strings.TrimSpace(out), []jose.SignatureAlgorithm{jose.ES256})
		if err == nil {
			err = json.Unmarshal(tok.UnsafePayloadWithoutVerification(), &claims)
		}
		if err != nil || claims.HTM != htm {
			t.Errorf("--htm %s: the proof's htm is %q (%v)", htm, claims.HTM, err)
		}
	}
}

// p256PEM is an EC P-256 key, PEM, as exchange --dpop-key makes one.
func p256PEM(t *testing.T) string { return ecPEM(t, elliptic.P256()) }

// p384PEM is an EC P-384 key, PEM: a key, but not one ES256 signs with.
func p384PEM(t *testing.T) string { return ecPEM(t, elliptic.P384()) }

// ecPEM is a new EC key on curve, PKCS #8 PEM.
func ecPEM(t *testing.T, curve elliptic.Curve) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// An access token in double quotes, as `jq .access_token` prints it
// without -r, made a proof whose ath is the hash of the quotes too, which
// every MCP server refuses ("ath ... is not the hash of the access token")
// while the command said nothing. It is bad usage now, as exchange's
// --id-token in double quotes is.
func TestDPoPProof_AccessTokenInDoubleQuotesSaysJQR(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "dpop.pem")
	if err := os.WriteFile(keyFile, []byte(p256PEM(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "dpop-proof", "--dpop-key", keyFile, "--htm", "GET", "--htu", "https://mcp.example/mcp", "--access-token", `"eyJhbGciOiJFUzI1NiJ9.e30.sig"`)
	if code != exitUsage || out != "" || !strings.Contains(stderr, "--access-token") || !strings.Contains(stderr, "jq -r .access_token") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d naming --access-token and jq -r", code, out, stderr, exitUsage)
	}
}

// TestDPoPKey_AnotherUsersFileWarns: a DPoP key file another user owns
// (one made in a shared directory, /tmp, before this user ran exchange)
// can be read or replaced by that user, who can then use the ID-JAGs
// bound to it; it was used without a word when its mode was 0600. It is
// used, with a warning naming the owner, as a readable one is.
func TestDPoPKey_AnotherUsersFileWarns(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "dpop.pem")
	if err := os.WriteFile(keyFile, []byte(p256PEM(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(keyFile, 65534, -1); err != nil {
		t.Skipf("giving the file to another user needs root: %v", err)
	}
	code, out, stderr := runCLI(t, "dpop-proof", "--dpop-key", keyFile, "--htu", "https://as.example/token")
	if code != exitOK || out == "" || !strings.Contains(stderr, "another user (uid 65534)") {
		t.Errorf("exit %d, stdout %q, stderr %q; want a proof and a warning naming the owner", code, out, stderr)
	}
}
