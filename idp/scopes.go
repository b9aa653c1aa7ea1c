package idp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/xaa-idp/xaa-idp/policy"
)

// scopeGroups asks for the user's groups, a scope of ours beside the
// standard ones of OIDC Core section 5.4 (docs/http.md, "Claims").
const scopeGroups = "groups"

// defaultOpenIDScope gives an authorization request without a scope the
// scope openid. RFC 6749 section 3.3 lets the server use a default when a
// client omits scope, and OAuth 2.1 and MCP clients omit it when they know
// no scopes to ask for (the MCP conformance tool, openid-client,
// oauth4webapi, x/oauth2 without Scopes); op.ValidateAuthReqScopes would
// refuse such a request. An empty scope counts as absent, like every empty
// parameter here. It reports false, having answered 400 itself (writeAuthorizeError), when the
// form cannot be parsed: op would parse it again without seeing the error.
func defaultOpenIDScope(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		writeAuthorizeError(w, r, formError(err))
		return false
	}
	if strings.TrimSpace(r.Form.Get("scope")) == "" {
		r.Form.Set("scope", oidc.ScopeOpenID)
	}
	return true
}

// fillUserinfo writes the claims the scopes ask for (OIDC Core section
// 5.4): profile gives name, preferred_username and the user's extra claims,
// email gives email and email_verified, groups the groups; the subject is
// always there. The same function serves the ID token and /userinfo, so
// both carry the same claims for the same scopes.
func fillUserinfo(info *oidc.UserInfo, u *policy.User, scopes []string) {
	info.Subject = u.Sub
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = u.Name
		info.PreferredUsername = u.Username
		for k, v := range u.Claims {
			info.AppendClaims(k, v)
		}
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		info.Email = u.Email
		info.EmailVerified = true
	}
	if slices.Contains(scopes, scopeGroups) && len(u.Groups) > 0 {
		info.AppendClaims(scopeGroups, u.Groups)
	}
}

// dropIDTokenWithoutOpenID removes the ID token from a code or refresh
// grant answer whose scope lacks openid: such a request is plain OAuth 2.0,
// which has no ID token (OIDC Core section 3.1.2.1: openid makes it an
// OpenID Connect request). zitadel's op.CreateTokenResponse issues one
// whatever the scopes.
func dropIDTokenWithoutOpenID(rec *heldResponse) error {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.body.Bytes(), &body); err != nil {
		return err
	}
	if _, ok := body["id_token"]; !ok {
		return nil
	}
	var scope string
	if raw, ok := body["scope"]; ok {
		if err := json.Unmarshal(raw, &scope); err != nil {
			return err
		}
	}
	if slices.Contains(strings.Fields(scope), oidc.ScopeOpenID) {
		return nil
	}
	delete(body, "id_token")
	var out bytes.Buffer
	if err := json.NewEncoder(&out).Encode(body); err != nil {
		return err
	}
	rec.body = &out
	rec.header.Del("Content-Length")
	return nil
}
