package idp_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestExchange_SubjectTokenShapeSaysWhatIsWrong: a subject token of the
// wrong type, or one copied with its JSON quotes ('jq .id_token' without
// -r) or with the line break a file written by echo ends with, is refused
// as before, but the description says what to fix. Until 2026-12-06 an ID
// token sent as a refresh token, and a refresh token with a line break or
// quotes, were "unknown, expired or revoked ... log the user in again" (a
// login cannot help), and a refresh token sent as an ID token, or a quoted
// ID token, "not a signed JWT: illegal base64 data at input byte 0".
func TestExchange_SubjectTokenShapeSaysWhatIsWrong(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access")
	idToken, rt := tok.IDToken(), tok.RefreshToken()
	if rt == "" {
		t.Fatal("login with offline_access gave no refresh token")
	}
	const (
		typeID = "urn:ietf:params:oauth:token-type:id_token"
		typeRT = "urn:ietf:params:oauth:token-type:refresh_token"
	)
	for _, tc := range []struct {
		name, token, typ, code, want string
	}{
		{"an ID token sent as a refresh token", idToken, typeRT, "invalid_grant",
			"subject_token is a JWT, not a refresh token of this IdP: send an ID token with subject_token_type " + typeID},
		{"a refresh token sent as an ID token", rt, typeID, "invalid_request",
			"subject_token is shaped like a refresh token of this IdP, not an ID token: send it with subject_token_type " + typeRT},
		{"a quoted ID token", `"` + idToken + `"`, typeID, "invalid_request",
			"subject_token is in double quotes, as 'jq .id_token' prints it: send the token without them ('jq -r')"},
		{"a quoted refresh token", `"` + rt + `"`, typeRT, "invalid_grant",
			"subject_token is in double quotes, as 'jq .refresh_token' prints it: send the token without them ('jq -r')"},
		{"a refresh token with a line break", rt + "\n", typeRT, "invalid_grant",
			"subject_token has white space around it (such as the line break that ends a file written by echo): send the refresh token alone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := exchangeForm(tc.token)
			form.Set("subject_token_type", tc.typ)
			resp, body := p.postToken(t, form, basicS1)
			desc, _ := body["error_description"].(string)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != tc.code || !strings.Contains(desc, tc.want) {
				t.Errorf("got %d %v; want 400 %s saying %q", resp.StatusCode, body, tc.code, tc.want)
			}
			if strings.Contains(desc, "rt_") || strings.Contains(desc, "eyJ") {
				t.Errorf("the description quotes the token: %q", desc)
			}
		})
	}
	// The same refresh token, sent as it is, still works: the checks above
	// look at the token's shape, not at the grant behind it.
	form := exchangeForm(rt)
	form.Set("subject_token_type", typeRT)
	if resp, body := p.postToken(t, form, basicS1); resp.StatusCode != http.StatusOK {
		t.Errorf("the refresh token as sent by the login: %d %v", resp.StatusCode, body)
	}
}
