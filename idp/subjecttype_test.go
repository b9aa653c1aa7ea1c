package idp_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestExchange_UnsupportedSubjectTokenTypeSaysWhatToSend: RFC 8693
// section 3 lets a client name other subject_token_types than the two
// this IdP takes (docs/http.md, "Token exchange"); each refusal says what
// the client sent that is not taken and what to send instead: the user's
// ID token with the id_token type, or a refresh token of this IdP with
// the refresh_token type. The SAML one named the ID token alone, as if a
// refresh token were refused too; a missing type likewise; and an access
// token, a JWT of no stated kind or an ID-JAG got the bare list of URNs.
func TestExchange_UnsupportedSubjectTokenTypeSaysWhatToSend(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	for _, tt := range []struct{ name, typ, says string }{
		{"missing", "", "subject_token_type is missing"},
		{"SAML 2.0", "urn:ietf:params:oauth:token-type:saml2", "SAML assertions are not accepted"},
		{"SAML 1.1", "urn:ietf:params:oauth:token-type:saml1", "SAML assertions are not accepted"},
		{"an access token", typeAccessToken, "access tokens are not accepted"},
		{"a JWT of no stated kind", "urn:ietf:params:oauth:token-type:jwt", "if the subject token is an ID token of this IdP, send it with subject_token_type " + typeIDToken},
		{"an ID-JAG", typeIDJAG, "an ID-JAG is what this IdP issues"},
		{"another URN", "urn:example:token", "subject_token_type 'urn:example:token' is not accepted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.exchange(t, b(f.alice.IDToken(), set("subject_token_type", tt.typ)), basic("mcp-client", "s1"))
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_request")
			d, _ := body["error_description"].(string)
			for _, want := range []string{tt.says, "the user's ID token", typeIDToken, "a refresh token this IdP issued", typeRefreshToken} {
				if !strings.Contains(d, want) {
					t.Errorf("error_description %q does not say %q", d, want)
				}
			}
		})
	}
}
