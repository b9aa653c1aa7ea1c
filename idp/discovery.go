package idp

import (
	"encoding/json"
	"net/http"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Token types and grant types of RFC 8693 and the ID-JAG draft.
const (
	grantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantJWTBearer       = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	tokenTypeIDJAG       = "urn:ietf:params:oauth:token-type:id-jag"
	tokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeRefresh     = "urn:ietf:params:oauth:token-type:refresh_token"
	tokenTypeSAML2       = "urn:ietf:params:oauth:token-type:saml2"
	tokenTypeSAML1       = "urn:ietf:params:oauth:token-type:saml1"
	tokenTypeAccess      = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	clientAssertionJWT   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	grantAuthorizationCd = "authorization_code"
	grantRefreshToken    = "refresh_token"
)

// discovery serves one document at both well-known paths (OIDC Discovery
// and RFC 8414), with every field the MCP SDKs read: the Go SDK aborts
// without code_challenge_methods_supported, the TypeScript client without
// the OIDC fields (docs/http.md).
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.endpointFaults(w, r, policy.FaultEndpointDiscovery) {
		return
	}
	iss := s.issuer
	doc := map[string]any{
		"issuer":                                           iss,
		"authorization_endpoint":                           iss + pathAuthorize,
		"token_endpoint":                                   iss + pathToken,
		"userinfo_endpoint":                                iss + pathUserinfo,
		"jwks_uri":                                         iss + pathKeys,
		"revocation_endpoint":                              iss + pathRevoke,
		"introspection_endpoint":                           iss + pathIntrospect,
		"end_session_endpoint":                             iss + pathEndSession,
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{string(s.keys.IDTokenAlg())},
		"scopes_supported":                                 []string{"openid", "profile", "email", scopeGroups, "offline_access"},
		"claims_supported":                                 []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username", "email", "email_verified", "groups"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"grant_types_supported":                            []string{grantAuthorizationCd, grantRefreshToken, grantTokenExchange},
		"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"token_endpoint_auth_signing_alg_values_supported": clientAssertionAlgNames,
		// Revocation and introspection authenticate clients as the token
		// endpoint does (clientauth.go), assertions included.
		"revocation_endpoint_auth_methods_supported":               []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"revocation_endpoint_auth_signing_alg_values_supported":    clientAssertionAlgNames,
		"introspection_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"introspection_endpoint_auth_signing_alg_values_supported": clientAssertionAlgNames,
		"prompt_values_supported":                                  []string{"none", "login"},
		"request_parameter_supported":                              false,
		"request_uri_parameter_supported":                          false, // its default is true (authorize refuses it)
		"authorization_response_iss_parameter_supported":           true,  // RFC 9207 (issparam.go)
		// draft-ietf-oauth-identity-chaining: which token types the token
		// exchange issues.
		"identity_chaining_requested_token_types_supported": []string{tokenTypeIDJAG},
		// RFC 9449 section 5.1: the token exchange binds ID-JAGs to a
		// DPoP proof's key (dpop.go).
		"dpop_signing_alg_values_supported": dpop.AlgorithmNames(),
		// Non-standard (xaa.dev has it): which subject tokens it accepts.
		"token_exchange_subject_token_types_supported": []string{tokenTypeIDToken, tokenTypeRefresh},
		// Our extension: the signed-in user's MCP servers (assigned.go).
		"xaa_mcp_servers_endpoint": iss + pathAssigned,
	}
	if s.Config().CIMD.On() {
		// draft-ietf-oauth-client-id-metadata-document §5: a client_id
		// may be the URL of its metadata document (cimd.go).
		doc["client_id_metadata_document_supported"] = true
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(doc)
}
