package idp

import (
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// defaultOpenIDScope gives an authorization request without a scope the
// scope openid. RFC 6749 section 3.3 lets the server use a default when a
// client omits scope, and OAuth 2.1 and MCP clients omit it when they know
// no scopes to ask for (the MCP conformance tool, openid-client,
// oauth4webapi, x/oauth2 without Scopes); op.ValidateAuthReqScopes would
// refuse such a request. An empty scope counts as absent, like every empty
// parameter here. It reports false, having answered 400 itself, when the
// form cannot be parsed: op would parse it again without seeing the error.
func defaultOpenIDScope(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the authorization request cannot be parsed: "+err.Error(), http.StatusBadRequest)
		return false
	}
	if strings.TrimSpace(r.Form.Get("scope")) == "" {
		r.Form.Set("scope", oidc.ScopeOpenID)
	}
	return true
}
