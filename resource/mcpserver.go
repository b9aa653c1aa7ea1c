package resource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// prmWellKnown is the RFC 9728 §3 well-known path of protected-resource metadata.
const prmWellKnown = "/.well-known/oauth-protected-resource"

// MCPServerConfig configures a demo MCP server ([NewMCPServer]).
type MCPServerConfig struct {
	// ID picks the theme of the tools: tracker, wiki, design or crm;
	// anything else gets generic tools.
	ID string
	// Name is the server name reported at MCP initialization; "" means ID.
	Name string
	// Resource is the MCP server's resource identifier (RFC 9728 §1), e.g.
	// http://127.0.0.1:8201/mcp. The MCP endpoint is served at its path.
	Resource string
	// AuthServer verifies access tokens. Set it, or Verifier when the
	// authorization server runs elsewhere.
	AuthServer *AuthServer
	// Verifier checks an access token for resource; used when AuthServer
	// is nil. Its errors should wrap ErrInvalidAccessToken.
	Verifier func(token, resource string) (*AccessToken, error)
	// AuthServerIssuer is published as authorization_servers[0] in the
	// protected-resource metadata; "" means AuthServer's issuer.
	AuthServerIssuer string
	// Scopes are published as scopes_supported; nil means AuthServer's
	// scopes. The scope ending in ".read" guards the read tool, the one
	// ending in ".write" the write tool; without a ".write" scope the write
	// tool is not offered at all, rather than offered unguarded.
	Scopes []string
}

// mcpServer is the http.Handler NewMCPServer returns.
type mcpServer struct {
	resource    string
	mcpPath     string   // where the MCP endpoint is served
	prmPaths    []string // where the metadata is served
	prmURL      string   // absolute URL of the metadata, for challenges
	verify      func(token, resource string) (*AccessToken, error)
	toolScopes  toolScopes // tool name -> scope it requires
	prm         http.Handler
	mcpEndpoint http.Handler // the SDK handler behind auth.RequireBearerToken
}

// NewMCPServer returns a demo MCP server on the official Go SDK's streamable
// HTTP transport. It serves:
//
//   - the MCP endpoint at the path of cfg.Resource, which requires an access
//     token for cfg.Resource and answers 401 with an RFC 9728 §5.1
//     challenge (WWW-Authenticate: Bearer resource_metadata="…") without one;
//   - the RFC 9728 metadata at /.well-known/oauth-protected-resource plus
//     that path, and at /.well-known/oauth-protected-resource alone.
//
// Its tools are whoami plus a read and a write tool of the theme named by
// cfg.ID, all answering from deterministic per-user demo data.
func NewMCPServer(cfg MCPServerConfig) (http.Handler, error) {
	u, err := checkAbsoluteURL("Resource", cfg.Resource)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("resource: Resource %q must not have a query or fragment (RFC 9728 §1.2)", cfg.Resource)
	}
	verify := cfg.Verifier
	if cfg.AuthServer != nil {
		if !slices.Contains(cfg.AuthServer.cfg.Resources, cfg.Resource) {
			return nil, fmt.Errorf("resource: Resource %q is not among the AuthServer's Resources (%s), so no access token could ever be issued for it",
				cfg.Resource, strings.Join(cfg.AuthServer.cfg.Resources, ", "))
		}
		verify = cfg.AuthServer.VerifyAccessToken
		if cfg.AuthServerIssuer == "" {
			cfg.AuthServerIssuer = cfg.AuthServer.Issuer()
		}
		if cfg.Scopes == nil {
			cfg.Scopes = cfg.AuthServer.Scopes()
		}
	}
	if verify == nil {
		return nil, errors.New("resource: MCPServerConfig needs AuthServer or Verifier")
	}
	if cfg.AuthServerIssuer == "" {
		return nil, errors.New("resource: MCPServerConfig needs AuthServerIssuer when AuthServer is nil")
	}
	if cfg.Name == "" {
		cfg.Name = cfg.ID
	}
	if cfg.Name == "" {
		cfg.Name = "xaa-idp demo MCP server"
	}

	path := strings.TrimSuffix(u.Path, "/")
	s := &mcpServer{
		resource: cfg.Resource,
		mcpPath:  u.Path,
		verify:   verify,
		// RFC 9728 §3.1 inserts the well-known segment between host and
		// path; the bare form serves clients that only try the origin.
		prmPaths: []string{prmWellKnown + path, prmWellKnown},
		prmURL:   u.Scheme + "://" + u.Host + prmWellKnown + path,
		prm: auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
			Resource:               cfg.Resource,
			AuthorizationServers:   []string{cfg.AuthServerIssuer},
			ScopesSupported:        slices.Clone(cfg.Scopes),
			BearerMethodsSupported: []string{"header"},
			ResourceName:           cfg.Name,
		}),
	}
	if s.mcpPath == "" {
		s.mcpPath = "/"
	}

	server := mcp.NewServer(&mcp.Implementation{Name: cfg.Name, Title: cfg.Name, Version: "0.1.0"}, nil)
	s.toolScopes = addTools(server, cfg.ID, cfg.Scopes)
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server },
		// Stateless: every request carries its own token, so there is no
		// session to bind to a user, and the SDK serves the 2026-07-28
		// protocol only in this mode.
		&mcp.StreamableHTTPOptions{Stateless: true})
	// RequireBearerToken is the only way to put the SDK's TokenInfo into the
	// request context, where tool handlers find it. Its verifier just hands
	// over the token serveMCP has already checked, because serveMCP writes
	// the challenges itself: the SDK's carry no error="invalid_token".
	s.mcpEndpoint = auth.RequireBearerToken(tokenInfoFromContext,
		&auth.RequireBearerTokenOptions{ResourceMetadataURL: s.prmURL})(sdk)
	return s, nil
}

func (s *mcpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == s.mcpPath:
		s.serveMCP(w, r)
	case slices.Contains(s.prmPaths, r.URL.Path):
		s.prm.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

type accessTokenKey struct{}

// serveMCP authenticates the request (RFC 6750), refuses tool calls the
// token's scopes do not cover, and hands the rest to the SDK.
func (s *mcpServer) serveMCP(w http.ResponseWriter, r *http.Request) {
	token, ok := bearerToken(r)
	if !ok {
		// RFC 6750 §3.1: no error code when the request has no credentials.
		s.challenge(w, http.StatusUnauthorized, "", "this MCP server requires an access token for "+s.resource)
		return
	}
	at, err := s.verify(token, s.resource)
	if err != nil {
		s.challenge(w, http.StatusUnauthorized, "invalid_token", err.Error())
		return
	}
	if !s.checkToolScopes(w, r, at) {
		return
	}
	s.mcpEndpoint.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accessTokenKey{}, at)))
}

// tokenInfoFromContext is the auth.TokenVerifier behind RequireBearerToken.
func tokenInfoFromContext(_ context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
	at, ok := r.Context().Value(accessTokenKey{}).(*AccessToken)
	if !ok {
		return nil, auth.ErrInvalidToken
	}
	return &auth.TokenInfo{
		Scopes:     at.Scopes,
		Expiration: at.Expiry,
		UserID:     at.Subject,
		Extra:      map[string]any{tokenInfoAccessToken: at},
	}, nil
}

// tokenInfoAccessToken is the TokenInfo.Extra key of the *AccessToken.
const tokenInfoAccessToken = "access_token"

// bearerToken extracts an RFC 6750 §2.1 header token. The scheme is
// case-insensitive (RFC 9110 §11.1). Query and body tokens (§2.2, §2.3) are
// not accepted, as the metadata's bearer_methods_supported says.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// challenge writes an RFC 6750 §3 error with the RFC 9728 §5.1
// resource_metadata parameter that lets MCP clients find the authorization
// server.
func (s *mcpServer) challenge(w http.ResponseWriter, status int, code, description string) {
	s.setChallenge(w, code, "", description)
	body := struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description}
	if body.Error == "" {
		body.Error = "unauthorized"
	}
	writeJSON(w, status, body)
}

func (s *mcpServer) setChallenge(w http.ResponseWriter, code, scope, description string) {
	params := []string{fmt.Sprintf(`resource_metadata="%s"`, quotable(s.prmURL))}
	if code != "" {
		params = append(params, fmt.Sprintf(`error="%s"`, code))
	}
	if scope != "" {
		params = append(params, fmt.Sprintf(`scope="%s"`, quotable(scope)))
	}
	if description != "" {
		params = append(params, fmt.Sprintf(`error_description="%s"`, quotable(description)))
	}
	w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
}

// quotable makes s safe inside an RFC 6750 §3 quoted string, whose
// error_description may not contain '"' or '\' or control characters.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\' || r < 0x20 || r > 0x7e:
			return -1
		}
		return r
	}, s)
}

// codeInsufficientScope is the JSON-RPC error code of a tool call refused
// for want of a scope; JSON-RPC 2.0 §5.1 leaves -32000 to -32099 to
// implementations, and MCP has not claimed -32003.
const codeInsufficientScope = -32003

// checkToolScopes refuses, before the SDK dispatches it, a tools/call of a
// tool whose scope the token lacks: 403 with error="insufficient_scope" and
// the scopes to ask for (RFC 6750 §3.1), which is how MCP clients learn to
// step up (MCP authorization, "Scope Challenge Handling"). The body is a
// JSON-RPC error for the call: the Go SDK client then fails just that call,
// where any other 403 body would close its session. The request body is
// read and put back; anything unparsable is left for the SDK to refuse, and
// the tool handlers check the scope again for any path around this one.
func (s *mcpServer) checkToolScopes(w http.ResponseWriter, r *http.Request, at *AccessToken) bool {
	if r.Method != http.MethodPost || r.Body == nil {
		return true
	}
	body, err := readAndRestore(r, mcp.DefaultMaxRequestBodyBytes)
	if err != nil {
		return true
	}
	for _, call := range toolCalls(body) {
		need := s.toolScopes[call.Params.Name]
		if need == "" || at.HasScope(need) {
			continue
		}
		// Ask for what the token has plus what is missing, so that a
		// client re-authorizing with this list loses nothing.
		scope := strings.Join(append(slices.Clone(at.Scopes), need), " ")
		msg := fmt.Sprintf("insufficient_scope: tool %s needs scope %s; the access token has %q", call.Params.Name, need, strings.Join(at.Scopes, " "))
		s.setChallenge(w, "insufficient_scope", scope, msg)
		id := call.ID
		if len(id) == 0 {
			id = json.RawMessage("null")
		}
		writeJSON(w, http.StatusForbidden, map[string]any{
			"jsonrpc": "2.0",
			"id":      id,
			"error": map[string]any{
				"code":    codeInsufficientScope,
				"message": msg,
				"data":    map[string]string{"error": "insufficient_scope", "scope": scope, "resource_metadata": s.prmURL},
			},
		})
		return false
	}
	return true
}

// toolCall is the part of a JSON-RPC tools/call request checkToolScopes reads.
type toolCall struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
}

// toolCalls returns the tools/call requests of a JSON-RPC message or batch.
func toolCalls(body []byte) []toolCall {
	var msgs []toolCall
	if err := json.Unmarshal(body, &msgs); err != nil {
		var one toolCall
		if err := json.Unmarshal(body, &one); err != nil {
			return nil
		}
		msgs = []toolCall{one}
	}
	return slices.DeleteFunc(msgs, func(m toolCall) bool { return m.Method != "tools/call" })
}

// readAndRestore reads up to limit bytes of the body and puts them back in
// front of the rest, so the next handler sees the body unchanged.
func readAndRestore(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("body larger than %d bytes", limit)
	}
	return body, nil
}
