package idp

import (
	"errors"
	"net/http"
	"strings"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/policy"
)

// AssignedServer is one entry of the assigned-servers endpoint.
type AssignedServer struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Issuer   string   `json:"issuer"`    // the authorization server: the exchange's audience
	Resource string   `json:"resource"`  // the MCP endpoint: the exchange's resource
	ClientID string   `json:"client_id"` // this client's client_id at that authorization server
	Assigned bool     `json:"assigned"`
	Scopes   []string `json:"scopes,omitempty"` // what an exchange without scope would grant now
	// Refusal is what the exchange would answer now, when it would refuse.
	Refusal     string `json:"error,omitempty"`
	Description string `json:"error_description,omitempty"`
}

// assignedServers is an extension endpoint (discovery:
// xaa_mcp_servers_endpoint): GET with the access token of a login, it lists
// every MCP server connected to that client, and whether the user is
// assigned to it now. It is how a zero-touch client learns where to
// connect without being configured per server. Unassigned servers say so
// with the same client-safe description an exchange would give, never
// another user's assignments.
func (s *Server) assignedServers(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpjson.Write(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "use GET"})
		return
	}
	at := s.bearer(w, r)
	if at == nil {
		return
	}
	cfg := s.Config()
	username := ""
	if u := cfg.UserBySub(at.Subject); u != nil {
		username = u.Username
	}
	// A metadata document client is decided as the exchange would: by its
	// document (cached since the login).
	client, _ := s.tokenClient(r.Context(), cfg, at.ClientID)
	now := s.now()
	list := []AssignedServer{}
	for i := range cfg.MCPServers {
		srv := &cfg.MCPServers[i]
		atServer, connected := srv.Clients[at.ClientID]
		if !connected || len(srv.Resources) == 0 {
			continue
		}
		d := cfg.Decide(policy.Request{
			Username: username, ClientID: at.ClientID, Client: client, Audience: srv.Issuer,
			Resource: srv.Resources[0], AuthTime: at.AuthTime, Now: now, IdPIssuer: s.issuer, OtherTenants: s.others,
		})
		entry := AssignedServer{
			ID: srv.ID, Name: srv.Name, Issuer: srv.Issuer, Resource: srv.Resources[0], ClientID: atServer,
			Assigned: d.Allowed || d.Error == "insufficient_user_authentication",
			Scopes:   d.Scopes,
		}
		if !d.Allowed {
			entry.Refusal, entry.Description = d.Error, wireDescription(d.Description)
		}
		list = append(list, entry)
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"sub": at.Subject, "client_id": at.ClientID, "mcp_servers": list})
}

// bearer returns the access token of a login that the request carries
// (RFC 6750 section 2.1; the scheme in any case, RFC 7235 section 2.1, as
// at /userinfo), or answers 401 itself and returns nil.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) *accessToken {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="xaa-idp"`)
		httpjson.Write(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "send the access token of a login as Authorization: Bearer"})
		return nil
	}
	at := s.liveAccessToken(tok)
	if at == nil {
		s.refuseAccessToken(w, r, tok)
	}
	return at
}

// refuseAccessToken answers an access token that liveAccessToken did not
// resolve (RFC 6750 section 3.1). Ours are JWEs (five parts); a JWS
// (three) is a token of another kind, most often the login's ID token
// sent in place of its access token, and is told so. The refusal is
// audited (since 2026-12-06): a token event naming the endpoint, and the
// client and user of a token the IdP issued whose login ended or whose
// user was disabled; never the token. A token the IdP issued, refused for
// its user, says so as the code and refresh grants do (userGoneError):
// in the body and the challenge's error_description (RFC 6750 section 3),
// and as the event's reason; any other names nobody.
func (s *Server) refuseAccessToken(w http.ResponseWriter, r *http.Request, tok string) {
	desc := "the access token is unknown, expired or revoked, or its user was disabled or removed; log in again"
	if strings.Count(tok, ".") == 2 {
		desc = "the bearer token is a signed JWT (an ID token, say), not an access token of this IdP: send the access_token of the token response"
	}
	challenge := `Bearer realm="xaa-idp", error="invalid_token"`
	ev := audit.Event{Type: audit.TypeToken, Outcome: audit.Error, Error: "invalid_token", Reason: desc,
		Details: map[string]any{"endpoint": audit.Truncate(r.URL.Path)}}
	if at := s.accessTokenFor(tok); at != nil {
		ev.ClientID, ev.Sub = at.ClientID, at.Subject
		if u := s.Config().UserBySub(at.Subject); u != nil {
			ev.User = u.Username
		}
		var gone *userGoneError
		if errors.As(s.store.activeLogin(at.Subject, at.SessionID, at.AuthTime), &gone) {
			desc, ev.Reason = wireDescription(gone.said), gone.reason
			challenge += `, error_description="` + desc + `"`
		}
	}
	_, _ = s.audit.Append(ev)
	w.Header().Set("WWW-Authenticate", challenge)
	httpjson.Write(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": desc})
}

// userinfo is OIDC Core section 5.3, which op serves once the request
// carries a live access token of an active user. Otherwise it answers as
// RFC 6750 section 3.1 says (OIDC Core section 5.3.3): 401 with
// WWW-Authenticate, and invalid_token for a token that is unknown,
// expired, revoked or of a user since disabled or removed; op would answer
// a text/plain 401 without WWW-Authenticate, or a 403 with "{}".
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		httpjson.Write(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "use GET or POST"})
		return
	}
	if s.endpointFaults(w, r, policy.FaultEndpointUserinfo) {
		return
	}
	// One way per request (RFC 6750 section 2): op reads the header, else
	// the form, so a second token would be served in place of the one
	// checked here.
	sent := len(r.Form["access_token"]) // the query's and the body's
	tok := r.Form.Get("access_token")
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(t)
		sent++
	}
	if sent > 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="xaa-idp", error="invalid_request"`)
		httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "send the access token one way: the Authorization header, the form body or the query, once (RFC 6750 section 2)"})
		return
	}
	if tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="xaa-idp"`)
		httpjson.Write(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "send the access token of a login as Authorization: Bearer"})
		return
	}
	if s.liveAccessToken(tok) == nil {
		s.refuseAccessToken(w, r, tok)
		return
	}
	// The user's claims: kept by no cache, as every other answer about
	// the user (op sets none).
	w.Header().Set("Cache-Control", "no-store")
	s.serveOP(w, r)
}

// liveAccessToken resolves one of our opaque access tokens of a login still
// live: nil for one unknown, expired or revoked, or whose user is disabled
// or removed or was since the login.
func (s *Server) liveAccessToken(tok string) *accessToken {
	at := s.accessTokenFor(tok)
	if at == nil || s.store.activeLogin(at.Subject, at.SessionID, at.AuthTime) != nil {
		return nil
	}
	return at
}

// accessTokenFor resolves one of our opaque access tokens (op encrypts
// "tokenID:subject" with the provider's key).
func (s *Server) accessTokenFor(tok string) *accessToken {
	plain, err := s.provider.Crypto().Decrypt(tok)
	if err != nil {
		return nil
	}
	id, sub, ok := strings.Cut(plain, ":")
	if !ok {
		return nil
	}
	at, found := s.store.accessTokens.Get(id)
	if !found || at.Subject != sub {
		return nil
	}
	return at
}
