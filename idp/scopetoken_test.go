package idp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// A scope token is RFC 6749 section 3.3's scope-token: printable ASCII
// without spaces, '"' or '\', as the configuration's scopes are. A token
// outside that set is malformed and refused with invalid_scope naming it,
// quoted as the description can carry it: until 2026-12-06 the exchange
// wrote the token unquoted among "does not know", so that "chat.read"
// sent with its quotes read as 'chat.read', a scope the same description
// then listed as known, and beside a known scope it was dropped unsaid.
func TestExchange_MalformedScopeTokenIsNamed(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	idt := f.alice["id_token"].(string)
	for _, c := range []struct{ scope, mention string }{
		{`"chat.read"`, "'U+0022chat.readU+0022'"},
		{`chat.read "chat.write"`, "'U+0022chat.writeU+0022'"},
		{`chat.read\`, "'chat.readU+005C'"},
		{"chat.réad", "'chat.rU+00E9ad'"},
		{"chat.read chat.\x01", "'chat.U+0001'"},
		// ASCII white space separates tokens (docs/http.md); a no-break
		// space or NEL, non-ASCII, is a character of the token it is in.
		// Until 2026-12-06 each split them, and both scopes were granted.
		{"chat.read\u00a0chat.write", "'chat.readU+00A0chat.write'"},
		{"chat.read\u0085chat.write", "'chat.readU+0085chat.write'"},
	} {
		resp, body := f.exchange(t, b(idt, set("scope", c.scope)), basicS1)
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_scope" || !strings.Contains(desc, c.mention) || !strings.Contains(desc, "RFC 6749 section 3.3") {
			t.Errorf("scope=%q: %d %v, want 400 invalid_scope naming %s as no RFC 6749 scope-token", c.scope, resp.StatusCode, body, c.mention)
		}
	}
	// Spaces, one or several, separate tokens (RFC 6749 section 3.3); a
	// repeated token asks once.
	if resp, body := f.exchange(t, b(idt, set("scope", " chat.read  chat.read ")), basicS1); resp.StatusCode != http.StatusOK || body["scope"] != "chat.read" {
		t.Errorf("scope with extra spaces: %d %v, want 200 chat.read", resp.StatusCode, body)
	}
	if resp, body := f.exchange(t, b(idt, set("scope", "chat.read\tchat.write\n")), basicS1); resp.StatusCode != http.StatusOK || body["scope"] != "chat.read chat.write" {
		t.Errorf("scope with a tab and a line break: %d %v, want 200 chat.read chat.write", resp.StatusCode, body)
	}
}

// The access request API takes a JSON array of scope tokens: an element
// that is none (empty, two tokens with a space, a quote) is refused naming
// it. Until 2026-12-06 ["wiki.read wiki.write"] was refused as "wiki does
// not know the scope(s) wiki.read wiki.write; its scopes are: wiki.read
// wiki.write", and [""] as not knowing " ".
func TestAccessRequests_MalformedScopeIsNamed(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	at, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	for _, c := range []struct{ body, mention string }{
		{`{"server": "wiki", "scopes": ["wiki.read wiki.write"]}`, "'wiki.read wiki.write'"},
		{`{"server": "wiki", "scopes": [""]}`, "''"},
		{`{"server": "wiki", "scopes": ["\"wiki.read\""]}`, "'U+0022wiki.readU+0022'"},
	} {
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/me/access-requests", strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+at)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_scope" || !strings.Contains(desc, c.mention) || !strings.Contains(desc, "RFC 6749 section 3.3") {
			t.Errorf("%s: %d %v, want 400 invalid_scope naming %s as no RFC 6749 scope-token", c.body, resp.StatusCode, body, c.mention)
		}
	}
}
