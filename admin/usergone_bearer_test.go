package admin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// An access token refused at /userinfo, /me/mcp-servers or
// /me/access-requests because its user was disabled or removed through
// the admin API (now, or since the login and enabled again) says so in
// the words the code and refresh grants use: the body's error_description
// and the challenge's (RFC 6750 section 3), and the token event's reason
// is the grants' too. Until 2026-12-06 all three said "unknown, expired or
// revoked, or its user was disabled or removed", as for a token the IdP
// never issued, whose answer names nobody and stays as it was.
func TestBearerRefusedForItsUserSaysWhy(t *testing.T) {
	merge := []string{"Content-Type", "application/merge-patch+json"}
	cases := []struct {
		name         string
		edits        [][3]string // method, path, body
		desc, reason string
	}{
		{"disabled", [][3]string{{http.MethodPatch, "/admin/api/users/bob", `{"disabled": true}`}},
			"the user's account is disabled", "user disabled"},
		{"removed", [][3]string{{http.MethodDelete, "/admin/api/users/bob", ""}},
			"the user's account no longer exists", "user removed"},
		{"disabled and enabled again", [][3]string{
			{http.MethodPatch, "/admin/api/users/bob", `{"disabled": true}`},
			{http.MethodPatch, "/admin/api/users/bob", `{"disabled": false}`}},
			"the user's account was disabled or removed after this sign-in; sign in again", "user disabled or removed after this login"},
	}
	const generic = "the access token is unknown, expired or revoked, or its user was disabled or removed; log in again"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := editable(t)
			at, _ := p.login(t, "bob")["access_token"].(string)
			if at == "" {
				t.Fatal("no access token")
			}
			for _, e := range c.edits {
				var body any
				if e[2] != "" {
					body = e[2]
				}
				if resp, b := p.send(t, e[0], e[1], "alice", body, merge...); resp.StatusCode >= 300 {
					t.Fatalf("%s %s: %d %s", e[0], e[1], resp.StatusCode, b)
				}
			}
			for _, path := range []string{"/userinfo", "/me/mcp-servers", "/me/access-requests"} {
				for _, tok := range []string{at, "not-a-token-of-this-idp"} {
					req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					var body map[string]any
					_ = json.NewDecoder(resp.Body).Decode(&body)
					resp.Body.Close()
					desc, challenge := c.desc, `Bearer realm="xaa-idp", error="invalid_token", error_description="`+c.desc+`"`
					if tok != at {
						desc, challenge = generic, `Bearer realm="xaa-idp", error="invalid_token"`
					}
					if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_token" || body["error_description"] != desc {
						t.Errorf("%s (bob's token %v): %d %v, want 401 invalid_token %q", path, tok == at, resp.StatusCode, body, desc)
					}
					if got := resp.Header.Get("WWW-Authenticate"); got != challenge {
						t.Errorf("%s (bob's token %v): WWW-Authenticate %s, want %s", path, tok == at, got, challenge)
					}
					evs := p.events(t, "token")
					ev := evs[len(evs)-1]
					reason := c.reason
					if tok != at {
						reason = generic
					}
					if ev.Details["endpoint"] != path || ev.Error != "invalid_token" || ev.Reason != reason {
						t.Errorf("%s (bob's token %v): event %+v, want reason %q", path, tok == at, ev, reason)
					}
					if known := tok == at; known != (ev.Sub == "u-bob" && ev.ClientID == "mcp-client") {
						t.Errorf("%s (bob's token %v): event %+v names bob %v", path, tok == at, ev, !known)
					}
					if line, _ := json.Marshal(ev); strings.Contains(string(line), tok) {
						t.Errorf("%s: the event holds the token: %s", path, line)
					}
				}
			}
		})
	}
}
