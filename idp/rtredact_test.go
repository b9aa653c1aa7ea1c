package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestRefreshToken_InWrongParameterNotRecorded: a refresh token a client
// sends in the wrong parameter (as the audience, the resource, a scope, a
// client_id) is neither in the audit log nor quoted whole in the answer,
// as a JWT is not (docs/audit.md, "Never written"). Refresh tokens are
// opaque ("rt_" and 43 characters), so the JWT redaction let them through
// whole: the longest-lived credential the IdP issues, written to disk.
func TestRefreshToken_InWrongParameterNotRecorded(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	tok := p.login(t, "mcp-client", "s1", "bob", "bob-pw", "openid", "offline_access")
	rt, _ := tok["refresh_token"].(string)
	idt, _ := tok["id_token"].(string)
	if !strings.HasPrefix(rt, "rt_") {
		t.Fatalf("refresh token %q", rt)
	}
	secret := rt[len("rt_"):]
	exchange := func(k, v string) url.Values {
		f := exchangeForm(idt)
		f.Set("audience", "https://as.crm.example")
		f.Set("resource", "https://mcp.crm.example/mcp")
		f.Set("scope", "crm.read")
		f.Set(k, v)
		return f
	}
	for _, c := range []struct {
		name string
		form url.Values
		hdr  http.Header
	}{
		{"audience", exchange("audience", rt), basic("mcp-client", "s1")},
		{"resource", exchange("resource", rt), basic("mcp-client", "s1")},
		{"scope", exchange("scope", "crm.read "+rt), basic("mcp-client", "s1")},
		{"subject_token_type", exchange("subject_token_type", rt), basic("mcp-client", "s1")},
		{"client_id", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {rt}}, nil},
		// Percent-encoded inside a URL (a callback's query, encoded once
		// more): "%3D" ends with a letter, so no word boundary stood
		// before "rt_", and the token went through whole.
		{"resource, percent-encoded", exchange("resource", "https://mcp.crm.example/mcp?next=https%3A%2F%2Fapp.example%2Fcb%3Frefresh%3D"+rt), basic("mcp-client", "s1")},
	} {
		resp, body := p.postToken(t, c.form, c.hdr)
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("%s: 200 %v", c.name, body)
		}
		if d, _ := body["error_description"].(string); strings.Contains(d, secret) {
			t.Errorf("%s: the answer quotes the refresh token: %q", c.name, d)
		}
	}
	if all := auditJSON(t, p); strings.Contains(all, secret) {
		t.Errorf("the audit log holds the refresh token:\n%s", all)
	}
	// The token itself is untouched: it still refreshes.
	resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic("mcp-client", "s1"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %v", resp.StatusCode, body)
	}
}
