package authserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestSubjectMapping_EmailVerified: with subject mapping by email, an
// ID-JAG whose IdP says the email is not verified (email_verified false),
// or says it in a form that is no boolean, maps to no local user: mapping
// an address the IdP has not verified would hand the account to whoever
// typed it (the nOAuth account takeover). An ID-JAG without the claim maps
// as before, as Okta's and Claude's do not send it.
func TestSubjectMapping_EmailVerified(t *testing.T) {
	users := []authserver.User{{Username: "alice", Sub: "00u-alice-local", Email: aliceEmail}}
	tests := []struct {
		name     string
		subject  string
		verified any // nil: no email_verified claim
		wantDesc string
	}{
		{"email, email_verified absent", authserver.SubjectEmail, nil, ""},
		{"email, email_verified true", authserver.SubjectEmail, true, ""},
		// null is how some libraries write a claim they do not know.
		{"email, email_verified null", authserver.SubjectEmail, json.RawMessage("null"), ""},
		{"email, email_verified false", authserver.SubjectEmail, false, "email_verified false"},
		{"email, email_verified the string false", authserver.SubjectEmail, "false", `email_verified 'false' is not a JSON boolean`},
		{"email, email_verified the string true", authserver.SubjectEmail, "true", `email_verified 'true' is not a JSON boolean`},
		{"email, email_verified a number", authserver.SubjectEmail, 0, "email_verified 0 is not a JSON boolean"},
		// Mapping by sub does not use the email: its verification is not
		// this server's concern.
		{"sub, email_verified false", authserver.SubjectSub, false, ""},
		{"sub, email_verified the string false", authserver.SubjectSub, "false", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *authserver.Config) { c.Subject, c.Users = tt.subject, users })
			r := e.post(t, grant(e.jag(t, func(c map[string]any) {
				if tt.verified != nil {
					c["email_verified"] = tt.verified
				}
			})))
			if tt.wantDesc == "" {
				if r.status != http.StatusOK {
					t.Fatalf("HTTP %d %s, want an access token", r.status, r.raw)
				}
				return
			}
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), tt.wantDesc) {
				t.Fatalf("HTTP %d %s, want 400 invalid_grant with %q", r.status, r.raw, tt.wantDesc)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
		})
	}
}

// TestAccessToken_UnverifiedEmailIsNotCopied: mapping by sub, an ID-JAG
// whose user has no local account carries its email into the access
// token, which the MCP server may take for who the user is; an address the
// IdP says it has not verified (email_verified false, or not a boolean)
// is left out, as mapping by email refuses it.
func TestAccessToken_UnverifiedEmailIsNotCopied(t *testing.T) {
	for _, tt := range []struct {
		name      string
		verified  any // nil: no email_verified claim
		wantEmail bool
	}{
		{"email_verified absent", nil, true},
		{"email_verified true", true, true},
		{"email_verified false", false, false},
		{"email_verified the string true", "true", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *authserver.Config) { c.Subject = authserver.SubjectSub })
			r := e.post(t, grant(e.jag(t, func(c map[string]any) {
				c["email"] = "mallory@acme.example"
				if tt.verified != nil {
					c["email_verified"] = tt.verified
				}
			})))
			if r.status != http.StatusOK {
				t.Fatalf("HTTP %d %s, want an access token", r.status, r.raw)
			}
			at, err := e.as.VerifyAccessToken(t.Context(), r.str("access_token"), e.mcpURL)
			if err != nil {
				t.Fatal(err)
			}
			if got := at.Email != ""; got != tt.wantEmail {
				t.Errorf("the access token's email is %q; want one: %v", at.Email, tt.wantEmail)
			}
		})
	}
}
