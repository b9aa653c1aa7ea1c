// Package idp is the OpenID provider: login, SSO sessions, keys, the
// zitadel/oidc storage adapter, and the RFC 8693 token exchange that issues
// ID-JAGs (draft-ietf-oauth-identity-assertion-authz-grant). zitadel types
// stay inside this package.
package idp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Options configure a Server.
type Options struct {
	// Config is the validated policy. Required.
	Config *policy.Config
	// Issuer is the issuer URL, byte for byte what discovery and every token
	// carry. A trailing slash is removed. Required.
	Issuer string
	// StateDir, when set, keeps the generated signing keys across restarts.
	StateDir string
	// Audit receives every event; nil keeps an in-memory log.
	Audit *audit.Log
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the IdP as one http.Handler.
type Server struct {
	issuer   string
	cfg      atomic.Pointer[policy.Config]
	keys     *keyRing
	audit    *audit.Log
	now      func() time.Time
	store    *storage
	provider *op.Provider
	mux      *http.ServeMux

	sessions   *ttlMap[string, *ssoSession]
	subjects   *ttlMap[string, *verifiedIDToken] // verified subject ID tokens, by hash
	usedJTIs   *ttlMap[string, struct{}]         // client assertion jti replay
	usedSubjID *ttlMap[string, struct{}]         // single_use_subject mode
}

// New builds the IdP from a validated configuration.
func New(opts Options) (*Server, error) {
	if opts.Config == nil {
		return nil, errors.New("idp: Options.Config is required")
	}
	issuer := strings.TrimSuffix(opts.Issuer, "/")
	if issuer == "" {
		return nil, errors.New("idp: Options.Issuer is required")
	}
	s := &Server{issuer: issuer, audit: opts.Audit, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.audit == nil {
		log, err := audit.Open(audit.Options{Now: s.now})
		if err != nil {
			return nil, err
		}
		s.audit = log
	}
	s.cfg.Store(opts.Config)
	keys, err := loadKeys(opts.Config.Signing.IDTokenAlg, opts.Config.Signing.IDJAGAlg, opts.Config.Signing.KeyFiles, opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("idp: signing keys: %w", err)
	}
	s.keys = keys
	s.sessions = newTTLMap[string, *ssoSession](maxAuthRequests, s.now)
	s.subjects = newTTLMap[string, *verifiedIDToken](maxVerifiedSubjects, s.now)
	s.usedJTIs = newTTLMap[string, struct{}](maxTokens, s.now)
	s.usedSubjID = newTTLMap[string, struct{}](maxTokens, s.now)
	s.store = newStorage(s)

	opConfig := &op.Config{
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		AuthMethodPrivateKeyJWT:  true,
		GrantTypeRefreshToken:    true,
		DefaultLogoutRedirectURI: "/logged-out",
	}
	// The key that encrypts codes and opaque access tokens; both live only
	// in memory, so a fresh key per process is right.
	if _, err := rand.Read(opConfig.CryptoKey[:]); err != nil {
		return nil, err
	}
	var popts []op.Option
	if strings.HasPrefix(issuer, "http://") {
		popts = append(popts, op.WithAllowInsecure())
	}
	s.provider, err = op.NewProvider(opConfig, s.store, op.StaticIssuer(issuer), popts...)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	s.routes()
	return s, nil
}

// Endpoint paths, as discovery publishes them (zitadel's defaults).
const (
	pathAuthorize  = "/authorize"
	pathToken      = "/oauth/token"
	pathUserinfo   = "/userinfo"
	pathKeys       = "/keys"
	pathRevoke     = "/revoke"
	pathIntrospect = "/oauth/introspect"
	pathEndSession = "/end_session"
	pathLogin      = "/login"
	pathAssigned   = "/me/mcp-servers"
)

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("/.well-known/oauth-authorization-server", s.discovery)
	mux.HandleFunc(pathToken, s.tokenEndpoint)
	mux.HandleFunc(pathLogin, s.login)
	mux.HandleFunc("GET /logged-out", s.loggedOut)
	mux.HandleFunc(pathEndSession, s.endSession)
	mux.HandleFunc(pathAuthorize, s.authorize)
	mux.HandleFunc("GET "+pathAssigned, s.assignedServers)
	mux.Handle("/", s.provider)
	s.mux = mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Issuer returns the issuer URL.
func (s *Server) Issuer() string { return s.issuer }

// Config returns the running policy.
func (s *Server) Config() *policy.Config { return s.cfg.Load() }

// SetConfig swaps the running policy atomically; requests in flight finish
// with the policy they started with.
func (s *Server) SetConfig(c *policy.Config) { s.cfg.Store(c) }

// Now returns the IdP's clock reading.
func (s *Server) Now() time.Time { return s.now() }

// Audit returns the audit log.
func (s *Server) Audit() *audit.Log { return s.audit }

// authorize hands /authorize to op with the SSO session in the context, so
// that prompt=none can be answered (zitadel-notes.md, gotcha 4).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if sess := s.session(r); sess != nil {
		r = r.WithContext(withSession(r.Context(), sess))
	}
	s.provider.ServeHTTP(w, r)
}

type ctxKey int

const (
	sessionKey ctxKey = iota
	tokenNoteKey
)

func withSession(ctx context.Context, s *ssoSession) context.Context {
	return context.WithValue(ctx, sessionKey, s)
}

func sessionFromContext(ctx context.Context) *ssoSession {
	s, _ := ctx.Value(sessionKey).(*ssoSession)
	return s
}
