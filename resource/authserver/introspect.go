package authserver

import (
	"maps"
	"net/http"
	"strings"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
)

// introspection is the RFC 7662 §2.2 response for an active token; an
// inactive one is {"active": false} alone.
type introspection struct {
	Active    bool          `json:"active"`
	ClientID  string        `json:"client_id,omitempty"`
	Username  string        `json:"username,omitempty"`
	Scope     string        `json:"scope,omitempty"`
	TokenType string        `json:"token_type,omitempty"`
	Exp       int64         `json:"exp,omitempty"`
	Iat       int64         `json:"iat,omitempty"`
	Sub       string        `json:"sub,omitempty"`
	Aud       any           `json:"aud,omitempty"`
	Iss       string        `json:"iss,omitempty"`
	JTI       string        `json:"jti,omitempty"`
	Cnf       *confirmation `json:"cnf,omitempty"` // RFC 9449 §6.2
	// SubID is the user at the IdP that issued the ID-JAG (RFC 9493
	// iss_sub), as the token carries it: what tells apart two IdPs'
	// users with one sub.
	SubID *subjectID `json:"sub_id,omitempty"`
}

// introspectors are the clients that may call the introspection endpoint:
// every registered client, for its own tokens, and the MCP servers behind
// this authorization server, for all.
func (a *Server) introspectors(reg *registration) map[string]string {
	m := maps.Clone(reg.clients)
	maps.Copy(m, a.cfg.ResourceServers)
	return m
}

// serveIntrospect is the RFC 7662 introspection endpoint. The caller
// authenticates as a client (RFC 7662 §2.1); public clients cannot. A
// token that is invalid, expired, or issued to another client than the
// caller (unless the caller is an MCP server of this authorization server)
// is reported inactive, never explained (RFC 7662 §2.2).
func (a *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, newOAuthError(http.StatusMethodNotAllowed, "invalid_request",
			"the introspection endpoint accepts only POST, not %s (RFC 7662 §2.1)", r.Method), a.cfg.Issuer)
		return
	}
	params, oerr := readTokenParams(w, r)
	if oerr != nil {
		writeOAuthError(w, oerr, a.cfg.Issuer)
		return
	}
	reg := a.reg.Load()
	caller, method, oerr := a.authenticateClient(r, params, a.introspectors(reg), reg.keys, a.endpoint("/introspect"))
	if oerr == nil && method == authNone {
		oerr = invalidClient("client %q is public and cannot authenticate; the introspection endpoint needs client credentials (RFC 7662 §2.1)", caller)
	}
	if oerr != nil {
		writeOAuthError(w, oerr, a.cfg.Issuer)
		return
	}
	token, oerr := params.single("token")
	if oerr == nil && token == "" {
		oerr = invalidRequest("token is missing (RFC 7662 §2.1)")
	}
	if oerr != nil {
		writeOAuthError(w, oerr, a.cfg.Issuer)
		return
	}
	at, aud, err := a.parseAccessToken(token)
	_, resourceServer := a.cfg.ResourceServers[caller]
	if err != nil || (!resourceServer && at.ClientID != caller) {
		httpjson.Write(w, http.StatusOK, introspection{Active: false})
		return
	}
	resp := introspection{
		Active:    true,
		ClientID:  at.ClientID,
		Username:  at.Username,
		Scope:     strings.Join(at.Scopes, " "),
		TokenType: "Bearer",
		Exp:       at.Expiry.Unix(),
		Sub:       at.Subject,
		Iss:       at.Issuer,
		JTI:       at.ID,
	}
	if at.IdPIssuer != "" {
		resp.SubID = &subjectID{Format: "iss_sub", Iss: at.IdPIssuer, Sub: at.IdPSubject}
	}
	if len(aud) == 1 {
		resp.Aud = aud[0]
	} else {
		resp.Aud = aud
	}
	if !at.IssuedAt.IsZero() {
		resp.Iat = at.IssuedAt.Unix()
	}
	if at.JKT != "" {
		resp.TokenType = dpop.Scheme
		resp.Cnf = &confirmation{JKT: at.JKT}
	}
	httpjson.Write(w, http.StatusOK, resp)
}
