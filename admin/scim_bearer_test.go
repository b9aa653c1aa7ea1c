package admin_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/clientaddr"
	"github.com/xaa-idp/xaa-idp/policy"
)

const (
	entraToken = "entra-provisioning-token-0123456789abcdef"
	oktaToken  = "okta-plain-token-0123456789"
)

// scimTokens is editConfig with two SCIM tokens: entra's hashed, okta's
// plain.
func scimTokens() string {
	sum := sha256.Sum256([]byte(entraToken))
	return editConfig + `
scim:
  tokens:
    - name: entra
      token_sha256: ` + hex.EncodeToString(sum[:]) + `
    - name: okta
      token: ` + oktaToken + `
`
}

// editableYAML is editable on another configuration.
func editableYAML(t testing.TB, yaml string) *product {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	p := serveStore(t, store, filepath.Join(dir, "audit.jsonl"))
	p.file = file
	return p
}

// A provisioning service with a bearer token of the scim: section works
// SCIM, its changes named scim:<name> in the audit; the token grants
// nothing else of the admin API, a wrong one is a SCIM 401 with the Bearer
// challenge, and no token reaches the audit.
func TestSCIM_BearerToken(t *testing.T) {
	p := editableYAML(t, scimTokens())
	as := func(token string) []string { return []string{"user", "", "Authorization", "Bearer " + token} }

	resp, u := p.scim(t, "POST", "/Users", `{"userName":"carol","externalId":"e-1"}`, as(entraToken)...)
	if resp.StatusCode != http.StatusCreated || u["id"] != "u-carol" {
		t.Fatalf("POST with entra's token: %d %v", resp.StatusCode, u)
	}
	resp, list := p.scim(t, "GET", "/Users", "", "user", "", "Authorization", "bearer "+oktaToken)
	if resp.StatusCode != http.StatusOK || list["totalResults"] != 3.0 {
		t.Fatalf("GET with okta's plain token (scheme in lower case): %d %v", resp.StatusCode, list)
	}
	resp, _ = p.scim(t, "PATCH", "/Users/u-carol", `{"Operations":[{"op":"replace","path":"active","value":false}]}`, as(oktaToken)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH with okta's token: %d", resp.StatusCode)
	}

	// Nothing else of the admin API.
	for _, path := range []string{"/admin/api/config", "/admin/api/users", "/admin/api/audit"} {
		resp, body := p.send(t, "GET", path, "", nil, "Authorization", "Bearer "+entraToken)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") || strings.Contains(string(body), entraToken) {
			t.Errorf("GET %s with a SCIM token: %d %q %s", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
	}
	if resp, _ := p.send(t, "POST", "/admin/api/users", "", `{"username":"eve","password":"eve-pw-123456"}`, "Authorization", "Bearer "+entraToken); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /admin/api/users with a SCIM token: %d", resp.StatusCode)
	}

	// A wrong token, an empty one, none.
	for _, token := range []string{"wrong-token-0123456789", "", hex.EncodeToString([]byte(entraToken))} {
		resp, m := p.scim(t, "GET", "/Users", "", as(token)...)
		wantSCIMError(t, "token "+token, resp, m, http.StatusUnauthorized, "")
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") || !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("token %q: WWW-Authenticate %q", token, got)
		}
	}
	resp, m := p.scim(t, "GET", "/Users", "", "user", "")
	wantSCIMError(t, "no credentials", resp, m, http.StatusUnauthorized, "")
	if ch := resp.Header.Values("WWW-Authenticate"); len(ch) != 2 || !strings.HasPrefix(ch[0], "Basic ") || !strings.HasPrefix(ch[1], "Bearer ") {
		t.Errorf("no credentials: WWW-Authenticate %q, want Basic and Bearer", ch)
	}
	// ServiceProviderConfig names both schemes.
	_, sp := p.scim(t, "GET", "/ServiceProviderConfig", "", as(entraToken)...)
	if schemes, _ := sp["authenticationSchemes"].([]any); len(schemes) != 2 || schemes[1].(map[string]any)["type"] != "oauthbearertoken" {
		t.Errorf("authenticationSchemes: %v", sp["authenticationSchemes"])
	}
	// Basic still works.
	if resp, _ := p.scim(t, "GET", "/Users/u-carol", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("Basic: %d", resp.StatusCode)
	}

	// The audit: the changes by scim:entra and scim:okta; no token.
	_, body := p.send(t, "GET", "/admin/api/audit?type=admin_change", "alice", nil)
	for _, want := range []string{`"admin": "scim:entra"`, `"admin": "scim:okta"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the audit has no %s: %s", want, body)
		}
	}
	all := readFile(t, p.auditFile)
	if strings.Contains(all, entraToken) || strings.Contains(all, oktaToken) || strings.Contains(all, "wrong-token-0123456789") {
		t.Errorf("a token is in the audit:\n%s", all)
	}
	if !strings.Contains(all, "unknown SCIM bearer token") {
		t.Errorf("the refused token is not audited:\n%s", all)
	}
	// GET /admin/api/config shows no token, nor its hash.
	_, body = p.send(t, "GET", "/admin/api/config", "alice", nil)
	sum := sha256.Sum256([]byte(entraToken))
	if strings.Contains(string(body), oktaToken) || strings.Contains(string(body), hex.EncodeToString(sum[:])) || !strings.Contains(string(body), "entra") {
		t.Errorf("the config answer shows a token: %s", body)
	}
}

// Wrong bearer tokens are throttled as failed HTTP Basic logins are, per
// address they come from: from that address the right one is refused,
// unchecked, during the back-off, with a SCIM 429; from another address
// (the provisioning client, while a stranger guesses) it is let in.
func TestSCIM_BearerTokenIsThrottled(t *testing.T) {
	base, advance, _ := throttledConfig(t, testConfig+"\nscim:\n  tokens:\n    - name: okta\n      token: "+oktaToken+"\n")
	from := func(local string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	guesser, provisioner := from("127.0.0.2"), from("127.0.0.1")
	try := func(c *http.Client, token string) *http.Response {
		req, _ := http.NewRequest("GET", base+"/admin/api/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 5 {
		if resp := try(guesser, "guess-guess-guess-"+string(rune('a'+i))); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	if resp := try(provisioner, oktaToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("the right token from another address while a guesser backs off: %d (a stranger locks the provisioning client out)", resp.StatusCode)
	}
	resp := try(guesser, oktaToken)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("the right token from the guessing address during the back-off: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	advance(60 * 1e9)
	if resp := try(guesser, oktaToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("the right token after the back-off: %d", resp.StatusCode)
	}
}

// A SCIM bearer token grants SCIM only: it cannot set the password of an
// admin user (admin: true), by PATCH (password push) or PUT, which would
// let its holder sign in to the whole admin API as that admin. 403, the
// file unchanged, the admin's password as it was; an admin (HTTP Basic)
// still sets it, and the token still sets a non-admin user's.
func TestSCIM_BearerTokenCannotSetAnAdminsPassword(t *testing.T) {
	p := editableYAML(t, scimTokens())
	as := []string{"user", "", "Authorization", "Bearer " + entraToken}
	before := readFile(t, p.file)
	for _, c := range []struct{ method, body string }{
		{"PATCH", `{"Operations":[{"op":"replace","path":"password","value":"taken-over-pw"}]}`},
		{"PATCH", `{"Operations":[{"op":"replace","value":{"password":"taken-over-pw"}}]}`},
		{"PUT", `{"userName":"alice","password":"taken-over-pw"}`},
	} {
		resp, m := p.scim(t, c.method, "/Users/u-alice", c.body, as...)
		wantSCIMError(t, c.method+" "+c.body, resp, m, http.StatusForbidden, "")
	}
	if after := readFile(t, p.file); after != before {
		t.Errorf("a refused change of an admin's password changed the file:\n%s", after)
	}
	if resp, _ := p.send(t, "GET", "/admin/api/status", "alice", nil, "Authorization", basic("alice", "taken-over-pw")); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the SCIM token's password opens the admin API as alice: %d", resp.StatusCode)
	}
	if _, err := p.loginAs("alice", "alice-pw"); err != nil {
		t.Errorf("alice's password changed: %v", err)
	}
	// A PUT of the admin without a password, and the non-admin's password, are the token's.
	if resp, _ := p.scim(t, "PUT", "/Users/u-alice", `{"userName":"alice","displayName":"Alice"}`, as...); resp.StatusCode != http.StatusOK {
		t.Errorf("PUT of the admin without a password: %d", resp.StatusCode)
	}
	if resp, _ := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"password","value":"bob-pushed-pw"}]}`, as...); resp.StatusCode != http.StatusOK {
		t.Errorf("PATCH of bob's password with the token: %d", resp.StatusCode)
	}
	// An admin, by HTTP Basic, sets an admin's.
	if resp, _ := p.scim(t, "PATCH", "/Users/u-alice", `{"Operations":[{"op":"replace","path":"password","value":"alice-new-pw"}]}`); resp.StatusCode != http.StatusOK {
		t.Errorf("PATCH of alice's password by an admin: %d", resp.StatusCode)
	}
}

// An IPv6 client is commonly given a whole /64: wrong bearer tokens are
// counted by it, as the pending sign-ins are (README, "Limits and
// throttles"), or a guesser would take a new address for every five
// guesses. Here behind a trusted proxy, which names the client address
// (serve --trusted-proxies). Until 2026-12-07 each IPv6 address was
// counted alone.
func TestSCIM_BearerTokenIsThrottledByIPv6Network(t *testing.T) {
	proxies, err := clientaddr.Parse([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := throttledBehind(t, testConfig+"\nscim:\n  tokens:\n    - name: okta\n      token: "+oktaToken+"\n", proxies)
	try := func(client, token string) int {
		req, _ := http.NewRequest("GET", base+"/admin/api/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 5 {
		if code := try(fmt.Sprintf("2001:db8:1:2::%x", i+1), "guess-guess-guess-"+string(rune('a'+i))); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := try("2001:db8:1:2::ffff", oktaToken); code != http.StatusTooManyRequests {
		t.Errorf("the right token from the guesser's /64, another address in it, during the back-off: %d, want 429", code)
	}
	if code := try("2001:db8:1:3::1", oktaToken); code != http.StatusOK {
		t.Errorf("the right token from another /64: %d, want 200", code)
	}
	if code := try("127.0.0.2", oktaToken); code != http.StatusOK {
		t.Errorf("the right token from an IPv4 client: %d, want 200", code)
	}
}
