package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/internal/cors"
	"github.com/xaa-idp/xaa-idp/internal/errdesc"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/internal/replay"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// prmWellKnown is the RFC 9728 §3 well-known path of protected-resource metadata.
const prmWellKnown = "/.well-known/oauth-protected-resource"

// replayCacheSize bounds the DPoP proofs remembered (0: replay.DefaultSize):
// a variable, so that a test can fill it.
var replayCacheSize = 0

// ExtensionEMA is the identifier of the MCP extension Enterprise-Managed
// Authorization (modelcontextprotocol/ext-auth), which the demo MCP
// servers declare in their capabilities' extensions.
const ExtensionEMA = "io.modelcontextprotocol/enterprise-managed-authorization"

// TokenVerifier checks the access tokens presented to an MCP server. An
// *authserver.Server is one; a verifier for an authorization server in
// another process would check the token against its JWKS (RFC 9068 §4) or
// ask it (RFC 7662).
type TokenVerifier interface {
	// VerifyAccessToken returns what a valid access token for resource
	// says. Any error refuses the request with 401 invalid_token and
	// becomes the challenge's error_description, so it should name the
	// check that failed. A DPoP-bound token comes back with its JKT set;
	// the MCP server then checks the request's DPoP proof (RFC 9449 §7).
	VerifyAccessToken(ctx context.Context, token, resource string) (*authserver.AccessToken, error)
}

// Config configures a demo MCP server ([New]).
type Config struct {
	// ID picks the theme of the tools: tracker, wiki, design or crm;
	// anything else gets generic tools.
	ID string
	// Name is the server name reported at MCP initialization; "" means ID.
	Name string
	// Resource is the MCP server's resource identifier (RFC 9728 §1), e.g.
	// http://127.0.0.1:8201/mcp. The MCP endpoint is served at its path.
	Resource string
	// Verifier checks access tokens. Required.
	Verifier TokenVerifier
	// AuthServerIssuer is the issuer of the authorization server that
	// issues access tokens for Resource, published as
	// authorization_servers[0] in the protected-resource metadata
	// (RFC 9728 §2). Required.
	AuthServerIssuer string
	// Scopes are published as scopes_supported. The scope ending in
	// ".read" guards the read tool, the one ending in ".write" the write
	// tool; without a ".write" scope the write tool is not offered at all,
	// rather than offered unguarded.
	Scopes []string
	// Now is the clock DPoP proofs' iat is judged by; nil means time.Now.
	Now func() time.Time
}

// mcpServer is the http.Handler New returns.
type mcpServer struct {
	resource    string
	mcpPath     string   // where the MCP endpoint is served
	altPath     string   // mcpPath with one trailing "/" added or removed; "" for none
	altURL      string   // the resource at altPath: a DPoP proof's htu there
	prmPaths    []string // where the metadata is served
	prmURL      string   // absolute URL of the metadata, for challenges
	scope       string   // a 401 challenge's scope: the scopes_supported
	verifier    TokenVerifier
	now         func() time.Time // judges DPoP proofs' iat
	proofs      *replay.Cache    // DPoP proof jti, per key
	toolScopes  toolScopes       // tool name -> scope it requires
	prm         http.Handler
	mcpEndpoint http.Handler // the SDK handler behind auth.RequireBearerToken
}

// New returns a demo MCP server on the official Go SDK's streamable HTTP
// transport. It serves:
//
//   - the MCP endpoint at the path of cfg.Resource, and at that path with
//     one trailing "/" added or removed, which requires an access token for
//     cfg.Resource and answers 401 with an RFC 9728 §5.1 challenge
//     (WWW-Authenticate: Bearer resource_metadata="…") without one. A bearer
//     token comes as Authorization: Bearer; a DPoP-bound one as
//     Authorization: DPoP with a DPoP proof of its key for each request
//     (RFC 9449 §7), whose htu is the URL the request was sent to;
//   - the RFC 9728 metadata at /.well-known/oauth-protected-resource plus
//     that path (without its trailing "/", and with it when it has one),
//     and at /.well-known/oauth-protected-resource alone.
//
// Its tools are whoami plus a read and a write tool of the theme named by
// cfg.ID, all answering from deterministic per-user demo data. Its
// capabilities declare the extension [ExtensionEMA].
func New(cfg Config) (http.Handler, error) {
	u, err := url.Parse(cfg.Resource)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mcpserver: Resource %q is not an absolute http(s) URL", cfg.Resource)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("mcpserver: Resource %q must not have a query or fragment (RFC 9728 §1.2)", cfg.Resource)
	}
	if cfg.Verifier == nil {
		return nil, errors.New("mcpserver: Config needs a Verifier")
	}
	if cfg.AuthServerIssuer == "" {
		return nil, errors.New("mcpserver: Config needs AuthServerIssuer, for the protected-resource metadata")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
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
		verifier: cfg.Verifier,
		now:      cfg.Now,
		proofs:   replay.New(replayCacheSize),
		// RFC 9728 §3.1 inserts the well-known segment between host and
		// path; the bare form serves clients that only try the origin.
		prmPaths: []string{prmWellKnown + path, prmWellKnown},
		prmURL:   u.Scheme + "://" + u.Host + prmWellKnown + path,
		scope:    strings.Join(cfg.Scopes, " "),
		prm: auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
			Resource:               cfg.Resource,
			AuthorizationServers:   []string{cfg.AuthServerIssuer},
			ScopesSupported:        slices.Clone(cfg.Scopes),
			BearerMethodsSupported: []string{"header"},
			ResourceName:           cfg.Name,
			// RFC 9728 §2: DPoP-bound access tokens are accepted too.
			DPOPSigningAlgValuesSupported: dpop.AlgorithmNames(),
		}),
	}
	if s.mcpPath == "" {
		s.mcpPath = "/"
	}
	if u.Path != path && path != "" {
		// A resource .../mcp/: the challenge names the metadata without
		// the "/", but a client that inserts the well-known segment
		// itself (RFC 9728 §3.1) keeps the path as it is.
		s.prmPaths = append(s.prmPaths, prmWellKnown+u.Path)
	}
	// The endpoint answers with and without one trailing "/" as well, as
	// the IdP and the authorization servers match resources up to one
	// trailing "/": an MCP URL copied as .../mcp/ for a resource .../mcp
	// (or the other way round) reaches the server, whose challenge and
	// metadata then name the resource as configured.
	switch {
	case s.mcpPath == "/":
	case strings.HasSuffix(s.mcpPath, "/"):
		s.altPath = strings.TrimSuffix(s.mcpPath, "/")
	default:
		s.altPath = s.mcpPath + "/"
	}
	if s.altPath != "" {
		alt := *u
		alt.Path, alt.RawPath = s.altPath, ""
		s.altURL = alt.String()
	}

	// Capabilities set here replace the SDK's default, which declares
	// logging: these servers send no log messages (and logging is
	// deprecated as of protocol 2026-07-28). The SDK adds tools. Prompts
	// and resources are declared (without listChanged) because the SDK
	// answers their lists, empty, on every server, and a server that
	// answers them MUST declare them (MCP conformance: server-stateless).
	caps := &mcp.ServerCapabilities{Prompts: &mcp.PromptCapabilities{}, Resources: &mcp.ResourceCapabilities{}}
	caps.AddExtension(ExtensionEMA, nil)
	server := mcp.NewServer(&mcp.Implementation{Name: cfg.Name, Title: cfg.Name, Version: "0.1.0"},
		&mcp.ServerOptions{Capabilities: caps})
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
	s.mcpEndpoint = auth.RequireBearerToken(s.tokenInfoFromContext,
		&auth.RequireBearerTokenOptions{ResourceMetadataURL: s.prmURL})(sdk)
	// Browser-based MCP clients reach the server across origins; the
	// streamable HTTP transport's own headers must pass both ways.
	// Mcp-Method and Mcp-Name are the standard headers of protocol
	// 2026-07-28, which clients send with every request (Mcp-Name with
	// tools/call) and the SDK's handler requires at that version: a
	// preflight that did not allow them would keep a browser client from
	// sending anything. (Mcp-Param-* headers only come with tools that
	// declare x-mcp-header, which these servers' tools do not.)
	return cors.Public(s, "GET, POST, DELETE", []string{"DPoP", "Mcp-Session-Id", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name", "Last-Event-ID"},
		[]string{"Mcp-Session-Id"}), nil
}

func (s *mcpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == s.mcpPath:
		s.serveMCP(w, r, s.resource)
	case s.altPath != "" && r.URL.Path == s.altPath:
		s.serveMCP(w, r, s.altURL)
	case slices.Contains(s.prmPaths, r.URL.Path):
		s.serveMetadata(w, r)
	default:
		http.NotFound(w, r)
	}
}

// serveMetadata serves the RFC 9728 document through the SDK's handler,
// which takes GET and OPTIONS only: HEAD is answered as GET (the server
// drops the body, RFC 9110 §9.3.2), and another method gets the 405 with
// the Allow header RFC 9110 §15.5.6 requires, which the SDK's lacks.
func (s *mcpServer) serveMetadata(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodOptions:
	case http.MethodHead:
		r = r.Clone(r.Context())
		r.Method = http.MethodGet
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.prm.ServeHTTP(w, r)
}

type accessTokenKey struct{}

// minRequestTime is how long a request may last at least, even with a
// token that expires sooner.
const minRequestTime = 5 * time.Second

// serveMCP authenticates the request (RFC 6750, or RFC 9449 §7 for a
// DPoP-bound token), refuses tool calls the token's scopes do not cover,
// and hands the rest to the SDK. htu is the URL the request was sent to,
// which a DPoP proof must name.
func (s *mcpServer) serveMCP(w http.ResponseWriter, r *http.Request, htu string) {
	if len(r.Header.Values("Authorization")) > 1 {
		// accessToken reads the first: the request would be answered for
		// one of its tokens, chosen by their order (RFC 6750 §3.1).
		s.challenge(w, http.StatusBadRequest, schemeBearer, "invalid_request", "the request has more than one Authorization header; send one access token")
		return
	}
	scheme, token, ok := accessToken(r)
	if !ok {
		// RFC 6750 §3.1: no error code when the request has no credentials.
		s.challenge(w, http.StatusUnauthorized, schemeBearer, "", "this MCP server requires an access token for "+s.resource)
		return
	}
	at, err := s.verifier.VerifyAccessToken(r.Context(), token, s.resource)
	if err != nil {
		s.challenge(w, http.StatusUnauthorized, scheme, "invalid_token", err.Error())
		return
	}
	if ref := s.checkSenderConstraint(r, htu, scheme, token, at); ref != nil {
		if ref.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ref.retryAfter.Seconds()))))
			httpjson.Write(w, ref.status, errorBody{ref.code, ref.description})
		} else {
			s.challenge(w, ref.status, dpop.Scheme, ref.code, ref.description)
		}
		return
	}
	if r.ContentLength > mcp.DefaultMaxRequestBodyBytes {
		// Refused before a byte is read, so that a client that sent
		// Expect: 100-continue is told instead of being asked for the
		// body (RFC 9110 section 10.1.1): checkToolScopes would read the
		// SDK's limit of it, and the SDK then refuses it in plain text.
		httpjson.Write(w, http.StatusRequestEntityTooLarge, errorBody{"invalid_request",
			fmt.Sprintf("the request body is larger than %d bytes", mcp.DefaultMaxRequestBodyBytes)})
		return
	}
	if !s.checkToolScopes(w, r, scheme, at) {
		return
	}
	ctx := context.WithValue(r.Context(), accessTokenKey{}, at)
	if !at.Expiry.IsZero() {
		// No request outlives its token: a subscriptions/listen stream
		// would otherwise stay open for as long as the client keeps it,
		// past the token's expiry (and any revocation). A token a
		// verifier accepts within a clock skew of its own still gets
		// minRequestTime.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, max(at.Expiry.Sub(s.now()), minRequestTime))
		defer cancel()
	}
	r = r.WithContext(ctx)
	if scheme == dpop.Scheme {
		// RequireBearerToken reads Bearer credentials only. The token and
		// its proof are checked above, so the SDK gets the token under the
		// scheme it knows.
		r.Header = r.Header.Clone()
		r.Header.Set("Authorization", schemeBearer+" "+token)
	}
	s.mcpEndpoint.ServeHTTP(w, r)
}

// tokenInfoFromContext is the auth.TokenVerifier behind RequireBearerToken.
// RequireBearerToken checks Expiration again, against time.Now: it gets
// the token's expiry as far ahead of the wall clock as it is of s.now,
// which judged it, so that a token live on a clock moved back or frozen
// (the demo's is the IdP's) is not refused there as "token expired".
func (s *mcpServer) tokenInfoFromContext(_ context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
	at, ok := r.Context().Value(accessTokenKey{}).(*authserver.AccessToken)
	if !ok {
		return nil, auth.ErrInvalidToken
	}
	var exp time.Time // none: the SDK refuses it, as a token without exp
	if !at.Expiry.IsZero() {
		exp = time.Now().Add(at.Expiry.Sub(s.now()))
	}
	return &auth.TokenInfo{
		Scopes:     at.Scopes,
		Expiration: exp,
		UserID:     at.Subject,
		Extra:      map[string]any{tokenInfoAccessToken: at},
	}, nil
}

// tokenInfoAccessToken is the TokenInfo.Extra key of the *authserver.AccessToken.
const tokenInfoAccessToken = "access_token"

// schemeBearer is the RFC 6750 Authorization scheme.
const schemeBearer = "Bearer"

// accessToken extracts the access token of an Authorization header: an
// RFC 6750 §2.1 bearer token or an RFC 9449 §7.1 DPoP-bound one. The
// scheme is case-insensitive (RFC 9110 §11.1) and comes back as
// schemeBearer or dpop.Scheme. Query and body tokens (RFC 6750 §2.2, §2.3)
// are not accepted, as the metadata's bearer_methods_supported says.
func accessToken(r *http.Request) (scheme, token string, ok bool) {
	scheme, token, ok = strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	switch {
	case !ok || token == "":
		return "", "", false
	case strings.EqualFold(scheme, schemeBearer):
		return schemeBearer, token, true
	case strings.EqualFold(scheme, dpop.Scheme):
		return dpop.Scheme, token, true
	}
	return "", "", false
}

// checkSenderConstraint enforces a DPoP-bound token's binding (RFC 9449
// §7): it must come with the DPoP scheme and a fresh proof of its key for
// this request, whose ath is the token's hash. A bearer token must come
// with the Bearer scheme, since a DPoP proof cannot bind it after the fact.
// A refusal is a 401 with a DPoP challenge, or a 503 when the replay cache
// is full.
func (s *mcpServer) checkSenderConstraint(r *http.Request, htu, scheme, token string, at *authserver.AccessToken) *refusal {
	refuse := func(code, format string, args ...any) *refusal {
		return &refusal{status: http.StatusUnauthorized, code: code, description: fmt.Sprintf(format, args...)}
	}
	switch {
	case scheme == schemeBearer && at.JKT == "":
		return nil
	case scheme == schemeBearer:
		return refuse("invalid_token", "the access token is DPoP-bound (cnf.jkt %q): send it as Authorization: DPoP, with a DPoP proof of that key (RFC 9449 §7.1)", at.JKT)
	case at.JKT == "":
		return refuse("invalid_token", "the access token is not DPoP-bound: send it as Authorization: Bearer")
	}
	raw, err := dpop.FromHeader(r.Header)
	if err != nil {
		return refuse("invalid_dpop_proof", "%v", err)
	}
	if raw == "" {
		return refuse("invalid_dpop_proof", "the request has no DPoP proof: a DPoP-bound access token needs one, made for this request (RFC 9449 §7)")
	}
	now := s.now()
	proof, err := dpop.Verify(raw, dpop.Want{Method: r.Method, URL: htu, Now: now, AccessToken: token})
	if err != nil {
		return refuse("invalid_dpop_proof", "%v", err)
	}
	if proof.JKT != at.JKT {
		return refuse("invalid_token", "the DPoP proof is signed by the key %q, but the access token is bound to %q (RFC 9449 §4.3)", proof.JKT, at.JKT)
	}
	// The token's user owns the entry: once the cache is half full, one
	// user holding 1% of it is refused, not every user (UseShared).
	err = s.proofs.UseShared(proof.ReplayKey(), at.Issuer+"\x00"+at.Subject, proof.ReplayUntil, now)
	var full *replay.FullError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, replay.ErrReplayed):
		return refuse("invalid_dpop_proof", "the DPoP proof's jti %q was already used with this key; make a new proof for every request (RFC 9449 §11.1)", proof.JTI)
	case errors.As(err, &full) && full.Owner != "":
		return temporarilyUnavailable(full.RetryAfter, "the DPoP replay cache is half full of its %d entries and holds %d or more unexpired proofs of this user, its share of it; retry in %s", full.Size, full.Share, full.RetryAfter.Round(time.Second))
	case errors.As(err, &full):
		return temporarilyUnavailable(full.RetryAfter, "the DPoP replay cache holds %d unexpired proofs; retry in %s", full.Size, full.RetryAfter.Round(time.Second))
	default:
		return temporarilyUnavailable(time.Second, "DPoP replay check: %v", err)
	}
}

// challenge writes an RFC 6750 §3 (or RFC 9449 §7.1) error with the RFC
// 9728 §5.1 resource_metadata parameter that lets MCP clients find the
// authorization server.
func (s *mcpServer) challenge(w http.ResponseWriter, status int, scheme, code, description string) {
	// MCP authorization, "Scope Selection Strategy": a 401 SHOULD name
	// the scopes to ask for (RFC 6750 §3), which clients take before
	// scopes_supported; these are the same.
	scope := ""
	if status == http.StatusUnauthorized {
		scope = s.scope
	}
	if code == "" {
		// No authentication information: RFC 6750 §3 says the challenge SHOULD NOT carry
		// error information. The body still tells a person what is missing.
		s.setChallenge(w, scheme, "", scope, "")
	} else {
		s.setChallenge(w, scheme, code, scope, description)
	}
	body := errorBody{code, description}
	if body.Error == "" {
		body.Error = "unauthorized"
	}
	httpjson.Write(w, status, body)
}

func (s *mcpServer) setChallenge(w http.ResponseWriter, scheme, code, scope, description string) {
	params := []string{fmt.Sprintf(`resource_metadata="%s"`, quotable(s.prmURL))}
	if scheme == dpop.Scheme {
		// RFC 9449 §7.1: the algorithms a proof may use.
		params = append(params, fmt.Sprintf(`algs="%s"`, strings.Join(dpop.AlgorithmNames(), " ")))
	}
	if code != "" {
		params = append(params, fmt.Sprintf(`error="%s"`, code))
	}
	if scope != "" {
		params = append(params, fmt.Sprintf(`scope="%s"`, quotable(scope)))
	}
	if description != "" {
		// In the RFC 6750 §3 set, which has neither '"' nor '\', and
		// cut to errdesc.MaxBytes (errdesc.Wire): the body's text
		// (errorBody), not one with characters dropped.
		params = append(params, fmt.Sprintf(`error_description="%s"`, errdesc.Wire(description)))
	}
	w.Header().Set("WWW-Authenticate", scheme+" "+strings.Join(params, ", "))
}

// quotable makes s safe inside an RFC 6750 §3 quoted string, for the
// challenge's resource_metadata and scope.
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
func (s *mcpServer) checkToolScopes(w http.ResponseWriter, r *http.Request, scheme string, at *authserver.AccessToken) bool {
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
		s.setChallenge(w, scheme, "insufficient_scope", scope, msg)
		id := call.ID
		if len(id) == 0 {
			id = json.RawMessage("null")
		}
		httpjson.Write(w, http.StatusForbidden, map[string]any{
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
	ID     json.RawMessage
	Params struct{ Name string }
}

// toolCalls returns the tools/call requests of a JSON-RPC message or batch,
// read as the SDK reads them, so that the check sees the tool the SDK
// will call: the first JSON value of the body (the SDK ignores what
// follows it), keys matched exactly (the SDK's decoder does not fold
// case, where encoding/json's struct decoding does), the last of
// duplicate keys winning, except that a null leaves the value before it
// (the SDK decodes the tool's name into a string, which null does not
// change).
func toolCalls(body []byte) []toolCall {
	var first json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&first); err != nil {
		return nil
	}
	msgs := []json.RawMessage{first}
	var batch []json.RawMessage
	if json.Unmarshal(first, &batch) == nil {
		msgs = batch
	}
	var calls []toolCall
	for _, raw := range msgs {
		var m struct{ id, method, params json.RawMessage }
		if !fields(raw, map[string]*json.RawMessage{"id": &m.id, "method": &m.method, "params": &m.params}) {
			continue
		}
		var method string
		if json.Unmarshal(m.method, &method) != nil || method != "tools/call" {
			continue
		}
		var name json.RawMessage
		call := toolCall{ID: m.id}
		if !fields(m.params, map[string]*json.RawMessage{"name": &name}) || json.Unmarshal(name, &call.Params.Name) != nil {
			continue
		}
		calls = append(calls, call)
	}
	return calls
}

// fields sets each of want to the value of its key in the JSON object
// raw, matched exactly, the last non-null one of duplicate keys winning;
// it reports whether raw is an object. Keeping a value over a later null
// can only make the check see more calls than the SDK makes, never fewer.
func fields(raw json.RawMessage, want map[string]*json.RawMessage) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return false
		}
		if p := want[key.(string)]; p != nil && (len(*p) == 0 || string(v) != "null") {
			*p = v
		}
	}
	return true
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

// refusal is why checkSenderConstraint turned a request away: an RFC 6750
// §3.1 or RFC 9449 §7.1 error for the challenge, or, with retryAfter set, a
// 503 that asks the client to come back later.
type refusal struct {
	status      int
	code        string
	description string
	retryAfter  time.Duration // sent as Retry-After
}

// temporarilyUnavailable: the request may succeed later (the DPoP replay
// cache is full). It is a 503 so that no client mistakes it for a verdict
// on its token.
func temporarilyUnavailable(retryAfter time.Duration, format string, args ...any) *refusal {
	return &refusal{status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
		description: fmt.Sprintf(format, args...), retryAfter: retryAfter}
}

// errorBody is the JSON body of a refusal (RFC 6750 §3, RFC 6749 §5.2).
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// MarshalJSON writes the description in the RFC 6749 §5.2 set and cut to
// errdesc.MaxBytes (errdesc.Wire), as the challenge carries it: every
// refusal's body is written here.
func (b errorBody) MarshalJSON() ([]byte, error) {
	type plain errorBody
	return json.Marshal(plain{b.Error, errdesc.Wire(b.Description)})
}
