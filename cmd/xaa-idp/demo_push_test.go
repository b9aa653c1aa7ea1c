package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestDemo_EndSessionAtAnRS256TenantReachesTheDemoAuthorizationServer:
// `xaa-idp demo` wires every demo MCP server without an events_endpoint to
// its demo authorization server (docs/configuration.md, "Revocation push"), also in a tenant
// whose ID tokens and ID-JAGs are all RS256 (the okta persona of the
// tenants sample). Security Event Tokens are ES256, so the demo gives such
// a tenant an ES256 key for them: the end of alice's SSO session is
// delivered, not retried for a day with "no ES256 key".
func TestDemo_EndSessionAtAnRS256TenantReachesTheDemoAuthorizationServer(t *testing.T) {
	_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--config", tenantsConfig(t))
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer := ""
	for _, line := range strings.Split(banner, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "okta" {
			issuer = f[2]
		}
	}
	if issuer == "" {
		t.Fatalf("no okta tenant in the banner:\n%s", banner)
	}
	code, out, stderr := runCLI(t, "login", "--issuer", issuer, "--client-id", "0oa-desktop", "--client-secret", "okta-desktop-secret",
		"--username", "alice", "--password", "alice")
	if code != 0 {
		t.Fatalf("login exit %d: %s", code, stderr)
	}
	var tokens struct {
		IDToken string `json:"id_token"`
	}
	if err := json.Unmarshal([]byte(out), &tokens); err != nil || tokens.IDToken == "" {
		t.Fatalf("login output %v: %s", err, out)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(issuer + "/end_session?id_token_hint=" + url.QueryEscape(tokens.IDToken))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("end_session: %s", resp.Status)
	}
	var last []map[string]any
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/audit?type=event_push", nil)
		req.SetBasicAuth("alice", "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		last = nil
		err = json.NewDecoder(resp.Body).Decode(&last)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range last {
			if e["outcome"] == "allowed" {
				return
			}
		}
	}
	t.Fatalf("no event_push delivered within 10 s; the attempts: %v", last)
}
