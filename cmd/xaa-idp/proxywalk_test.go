package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_BehindProxy_EveryURLIsThePublicOne: with the issuer set to
// the proxy's public https URL, a client that knows only that URL finds
// the IdP by path-insertion discovery, every URL it is given is under the
// public issuer, the console's cookie is Secure and under /xaa/admin/
// though the IdP speaks plain http, and the real CLI logs in and gets a
// DPoP-bound ID-JAG through the proxy: the proof's htu is the public
// token endpoint, which is what the IdP compares.
func TestServe_BehindProxy_EveryURLIsThePublicOne(t *testing.T) {
	idpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	issuer, p, stderr := idpBehindProxy(t, idpAddr)
	c := p.client("127.0.0.1")
	get := func(u string) (*http.Response, []byte) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, well := range []string{"oauth-authorization-server", "openid-configuration"} {
		resp, body := get(p.public + "/.well-known/" + well + "/xaa")
		var meta map[string]any
		if err := json.Unmarshal(body, &meta); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s through the proxy: %s %v\n%s", well, resp.Status, err, body)
		}
		if meta["issuer"] != issuer {
			t.Errorf("%s: issuer %v, want %s", well, meta["issuer"], issuer)
		}
		for k, v := range meta {
			if u, ok := v.(string); ok && strings.Contains(u, "://") && !strings.HasPrefix(u, issuer+"/") && k != "issuer" {
				t.Errorf("%s: %s %q is not under the public issuer %s", well, k, u, issuer)
			}
		}
		if strings.Contains(string(body), idpAddr) {
			t.Errorf("%s names the IdP's own address %s:\n%s", well, idpAddr, body)
		}
	}
	resp, _ := get(issuer + "/admin/signin?next=%2Fadmin%2F")
	var console *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "xaa_idp_console" {
			console = ck
		}
	}
	if console == nil || !console.Secure || console.Path != "/xaa/admin/" {
		t.Errorf("console sign-in through the proxy: %s, cookie %+v; want xaa_idp_console Secure with Path /xaa/admin/", resp.Status, console)
	}

	code, idToken, errOut := runBinary(t, "login", "--issuer", issuer, "--ca-file", p.caFile, "--client-id", "my-mcp-client",
		"--client-secret", "change-me", "--username", "dev", "--password", "dev", "--print", "id_token")
	if code != exitOK {
		t.Fatalf("login through the proxy: exit %d\n%s\n%s", code, errOut, stderr)
	}
	key := filepath.Join(t.TempDir(), "dpop.pem")
	code, out, errOut := runBinary(t, "exchange", "--issuer", issuer, "--ca-file", p.caFile, "--client-id", "my-mcp-client",
		"--client-secret", "change-me", "--id-token", strings.TrimSpace(idToken), "--audience", "http://127.0.0.1:9101",
		"--resource", "http://127.0.0.1:9201/mcp", "--dpop-key", key, "--decode")
	if code != exitOK {
		t.Fatalf("exchange through the proxy: exit %d\n%s\n%s\n%s", code, out, errOut, stderr)
	}
	var ans struct {
		Decoded struct {
			Claims struct {
				Iss string
				Cnf struct{ Jkt string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatalf("exchange printed no JSON: %v\n%s", err, out)
	}
	if ans.Decoded.Claims.Iss != issuer || ans.Decoded.Claims.Cnf.Jkt == "" {
		t.Errorf("ID-JAG iss %q cnf.jkt %q; want iss %s, bound to the DPoP key\n%s", ans.Decoded.Claims.Iss, ans.Decoded.Claims.Cnf.Jkt, issuer, out)
	}

	// A proof for the URL the proxy forwards to is not one for the URL
	// the client called.
	code, proof, errOut := runBinary(t, "dpop-proof", "--dpop-key", key, "--htu", "http://"+idpAddr+"/xaa/oauth/token")
	if code != exitOK {
		t.Fatalf("dpop-proof: exit %d\n%s", code, errOut)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
		"subject_token":        {strings.TrimSpace(idToken)}, "subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
		"audience": {"http://127.0.0.1:9101"}, "resource": {"http://127.0.0.1:9201/mcp"}}
	req, err := http.NewRequest("POST", issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", strings.TrimSpace(proof))
	req.SetBasicAuth("my-mcp-client", "change-me")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_dpop_proof"`) {
		t.Errorf("a proof whose htu is the IdP's own address: %s %s; want 400 invalid_dpop_proof", resp.Status, body)
	}
}
