package authserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/internal/bodyheader"
	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/internal/cors"
	"github.com/xaa-idp/xaa-idp/internal/errdesc"
	"github.com/xaa-idp/xaa-idp/internal/redirecturi"
	"github.com/xaa-idp/xaa-idp/internal/replay"
)

// Identifiers of the grant this authorization server serves.
const (
	// GrantTypeJWTBearer is the RFC 7523 §2.1 grant type the ID-JAG is
	// redeemed with.
	GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// GrantProfileIDJAG is the authorization_grant_profiles_supported value
	// of ID-JAG (draft -03 and later).
	GrantProfileIDJAG = "urn:ietf:params:oauth:grant-profile:id-jag"
	// IDJAGType is the JWS typ header every ID-JAG carries.
	IDJAGType = "oauth-id-jag+jwt"
	// AccessTokenType is the JWS typ header of RFC 9068 access tokens.
	AccessTokenType = "at+jwt"
)

// DefaultMaxIDJAGLifetime is the longest ID-JAG lifetime (exp less iat)
// a [Server] accepts unless [Config.MaxIDJAGLifetime] says otherwise. ID-JAGs
// are short-lived (EMA): Okta's and ConductorOne's live 5 minutes, and the
// xaa-idp IdP's lifetimes.id_jag is at most this long.
const DefaultMaxIDJAGLifetime = time.Hour

const (
	defaultAccessTokenLifetime = time.Hour
	defaultSkew                = 30 * time.Second
)

// Config configures a [Server]: the MCP server's authorization server that
// accepts ID-JAGs from the IdPs it trusts.
type Config struct {
	// Issuer is this authorization server's issuer identifier (RFC 8414 §2),
	// e.g. http://127.0.0.1:8101. It is the aud every ID-JAG must carry,
	// the iss of every access token and the metadata's issuer, byte for
	// byte as given, a trailing slash included (some authorization servers'
	// issuers, Auth0's, end with one). It may have a path, in which case the
	// endpoints live under it; they are the issuer without its trailing
	// slash, then "/token" and so on.
	Issuer string
	// TrustedIssuers are the IdPs whose ID-JAGs are accepted; an ID-JAG
	// from any other iss is refused before any key is fetched.
	TrustedIssuers []TrustedIssuer
	// IdPIssuer and IdPJWKSURL name one more trusted IdP, as an entry of
	// TrustedIssuers would: the short form for a server with one IdP.
	IdPIssuer  string
	IdPJWKSURL string
	// Resources are the resource identifiers (RFC 8707) of the MCP servers
	// behind this authorization server; access tokens are audience-restricted
	// to one of them.
	Resources []string
	// Scopes are the scopes this authorization server defines.
	Scopes []string
	// Clients maps each client_id registered here to its secret; an empty
	// secret registers a public client (token_endpoint_auth_method "none"),
	// unless ClientKeys has keys for it.
	Clients map[string]string
	// ClientKeys are the public keys of clients of Clients that
	// authenticate with private_key_jwt (RFC 7523 §2.2), by client_id: a
	// client assertion signed with one of them authenticates the client,
	// as its secret does when it has one, and a client listed here without
	// a secret is not public (its client_id alone is refused), even with no
	// key (its IdP registered none this server can use).
	ClientKeys map[string][]jose.JSONWebKey
	// RedirectURIs are the redirection URIs of registered clients, by
	// client_id. /authorize sends its error back to them (RFC 6749
	// §4.1.2.1); clients without any get the error directly. None may
	// have a fragment (RFC 6749 §3.1.2).
	RedirectURIs map[string][]string
	// ResourceServers maps the client_id of each MCP server behind this
	// authorization server to its secret: credentials good only at the
	// introspection endpoint, for any token this server issued (RFC 7662
	// §2.1).
	ResourceServers map[string]string
	// CIMD resolves client_ids that are URLs (Client ID Metadata
	// Documents): such a client authenticates with private_key_jwt or none,
	// as its document says. Nil treats URL client_ids as unknown.
	CIMD *cimd.Resolver
	// CIMDRegisteredOnly resolves only the URL client_ids that the
	// registration has as Clients (with an empty secret), each request
	// deciding by the registration of its time: a client that an Update
	// takes off is unknown from its next request, as any other client is.
	// False accepts every URL that CIMD may fetch, registered or not, as
	// an authorization server open to clients it has never met does.
	CIMDRegisteredOnly bool
	// Subject is how an ID-JAG's user becomes the access token's subject:
	// SubjectSub ("" too) keeps the ID-JAG's sub; SubjectEmail maps the
	// ID-JAG's email to the user of Users with that email, unless the
	// ID-JAG's email_verified is false or not a boolean (absent, it maps).
	Subject string
	// Users are the local accounts: the targets of SubjectEmail, and the
	// source of the username reported with a sub that one of them has.
	Users []User
	// AllowReplay accepts an unexpired ID-JAG more than once, each time
	// for a new access token, every other check still made. The ID-JAG
	// draft (§4.4.3) lets clients re-submit one and some SDKs (Python) do;
	// EMA §7.4 requires jti replay detection, which is the default. The
	// jti is recorded either way, so that an Update turning AllowReplay
	// off refuses the ID-JAGs already redeemed.
	AllowReplay bool
	// ReplayCacheSize bounds the number of live jti values remembered for
	// replay detection, of ID-JAGs and, each in a cache of its own, of
	// client assertions and of DPoP proofs; 0 means 100000
	// (replay.DefaultSize). A full cache refuses new grants with
	// temporarily_unavailable rather than forget a live jti
	// (internal/replay). Client assertions have their own cache because
	// anyone with a metadata document can make them: they must not fill
	// the one ID-JAGs need.
	ReplayCacheSize int
	// ReplayFile, when not "", keeps the jti values of the replay caches
	// in this file (each as a hash, never the token), so that an ID-JAG,
	// a client assertion or a DPoP proof used before a restart, kill -9
	// included, is refused after it as before: the keys of the IdPs and
	// clients that sign them outlive the restart, and so do the JWTs.
	// Each use is appended but not synced, so a crash of the machine may
	// forget the last ones; a line that cannot be read at start makes
	// the server refuse every such JWT made until then, until they
	// expire (replaylog.go). "" keeps them in memory only. Call
	// [Server.Close] when done.
	ReplayFile string
	// AccessTokenLifetime is the lifetime of issued access tokens; 0 means 1h.
	AccessTokenLifetime time.Duration
	// Skew is the clock-skew tolerance for exp, nbf and iat; 0 means 30s.
	Skew time.Duration
	// MaxIDJAGLifetime bounds an ID-JAG's lifetime, exp less iat: a
	// longer one is refused (RFC 7523 §3 lets an authorization server
	// refuse an exp unreasonably far in the future, or an iat unreasonably
	// far in the past), so that no jti stays in the replay cache for longer
	// than this and the skew; 0 means DefaultMaxIDJAGLifetime.
	MaxIDJAGLifetime time.Duration
	// Now is the clock for token lifetimes and, with Wall, JWKS refetch
	// pacing; nil means time.Now.
	Now func() time.Time
	// Wall is the real time; nil means time.Now. The jti of a redeemed
	// ID-JAG, a used client assertion or DPoP proof and a received SET is
	// kept until its expiry has passed on Now and, for as long again
	// from its use, on Wall: Now may be a clock an admin moves (the
	// demo's is the IdP's), and moving it ahead and back must not make
	// any of them acceptable again. Time passes for the refetches of the
	// IdPs' key sets on either, so that a Now stopped or moved back does
	// not stop them. A test that moves Now to stand for time passing sets
	// Wall to it too.
	Wall func() time.Time
	// HTTPClient fetches the IdPs' discovery documents and JWKS; nil means
	// a client with a 10s timeout.
	HTTPClient *http.Client
}

// TrustedIssuer is an IdP whose ID-JAGs a [Server] accepts.
type TrustedIssuer struct {
	// Issuer is the IdP's issuer identifier, compared byte for byte with
	// the ID-JAG's iss.
	Issuer string
	// JWKSURL is where the IdP publishes its signing keys; "" means the
	// jwks_uri of its discovery document (OpenID Connect Discovery §4, or
	// RFC 8414 §3), fetched when its first ID-JAG arrives.
	JWKSURL string
}

// Ways of mapping an ID-JAG's user to the access token's subject
// ([Config.Subject]).
const (
	SubjectSub   = "sub"
	SubjectEmail = "email"
)

// User is a local account of the resource side.
type User struct {
	// Issuer is the IdP whose user this is: only ID-JAGs that issuer
	// signed map to the user, so that two IdPs' users with one sub (or
	// one email) stay two users. "" maps ID-JAGs of any trusted IdP.
	Issuer   string
	Username string
	Sub      string
	Email    string
}

// Server is an MCP server's authorization server for Enterprise-Managed
// Authorization. It serves, relative to its issuer:
//
//	/.well-known/oauth-authorization-server  RFC 8414 metadata (also at /.well-known/openid-configuration)
//	/token      the RFC 7523 JWT bearer grant with ID-JAG assertions
//	/jwks       the public key access tokens are signed with
//	/introspect RFC 7662 token introspection
//	/authorize  a stub that sends every request back with unsupported_response_type
//	/events     RFC 8935 push of Security Event Tokens from the trusted IdPs
//
// Access tokens are RFC 9068 JWTs signed with an ES256 key generated by
// [New]; MCP servers check them with [Server.VerifyAccessToken].
// A grant with a DPoP proof (RFC 9449) gets an access token bound to the
// proof's key, and an ID-JAG bound to a key (cnf.jkt) is only redeemed
// with a proof signed by that key.
//
// What an administrator's edit can change (the [Registration]) is
// replaced at run time by [Server.Update]; the rest of [Config] is fixed
// at New.
type Server struct {
	// cfg is the fixed part; its Registration fields are left empty, so
	// that nothing reads a registration but through reg.
	cfg      Config
	basePath string        // the issuer's path, "" for a bare origin
	replay   *replay.Cache // ID-JAG jti, and SET jti
	// replayWall holds the jti of each ID-JAG redeemed and SET received
	// as replay does, but until its expiry on the wall clock (the
	// remaining lifetime at its use, from the wall clock's reading then):
	// Now may be the IdP's clock, which an admin moves, and a jti is only
	// forgotten once both clocks have passed its expiry (useBoth).
	// clientAsWall and proofsWall are the same for clientAs and proofs.
	// jtiMu makes a use of both caches of a kind one step.
	replayWall   *replay.Cache
	jtiMu        sync.Mutex
	clientAs     *replay.Cache // client assertion jti, per client
	clientAsWall *replay.Cache
	proofs       *replay.Cache // DPoP proof jti, per key
	proofsWall   *replay.Cache
	// replayLog keeps the caches' entries in Config.ReplayFile (nil:
	// none), and replayFloor is the start before which every JWT is
	// refused since that file lost a record (zero: none); both fixed at
	// New.
	replayLog   *replayLog
	replayFloor time.Time
	key         *ecdsa.PrivateKey
	kid         string
	signer      jose.Signer
	public      http.Handler
	revoked     revocations // users whose tokens a pushed SET revoked (events.go)

	updateMu sync.Mutex // serializes Update
	reg      atomic.Pointer[registration]
}

// Registration is the part of a [Server]'s configuration that an
// administrator's edit can change while it runs ([Server.Update]): whom
// it trusts, what it grants, and whom it knows. The fields mean what the
// ones of [Config] with the same names do.
type Registration struct {
	TrustedIssuers []TrustedIssuer
	Scopes         []string
	Clients        map[string]string
	ClientKeys     map[string][]jose.JSONWebKey
	RedirectURIs   map[string][]string
	Users          []User
	AllowReplay    bool
	// MaxIDJAGLifetime, when not 0, replaces Config.MaxIDJAGLifetime: the
	// demo sets it to the longest lifetime the IdPs that list the server
	// give their ID-JAGs, so that every ID-JAG they issue redeems.
	MaxIDJAGLifetime time.Duration
}

// registration is one version of a Server's Registration, never changed
// once stored: a request loads it once and is decided by it throughout.
type registration struct {
	trusted   []TrustedIssuer
	idpKeys   map[string]*remoteKeySet // by issuer
	scopes    []string
	clients   map[string]string
	keys      map[string][]jose.JSONWebKey // Registration.ClientKeys
	redirects map[string][]string
	users     []User
	replayOK  bool          // Config.AllowReplay
	maxLife   time.Duration // Config.MaxIDJAGLifetime, or Registration's
	metadata  []byte        // the RFC 8414 document, which lists the scopes
}

// New checks cfg, generates the access-token signing key and
// returns the authorization server. It does not contact the IdP: the JWKS
// is fetched when the first ID-JAG arrives.
func New(cfg Config) (*Server, error) {
	issuer, err := checkIssuer("Issuer", cfg.Issuer)
	if err != nil {
		return nil, err
	}
	reg := Registration{
		TrustedIssuers: cfg.TrustedIssuers, Scopes: cfg.Scopes, Clients: cfg.Clients, ClientKeys: cfg.ClientKeys,
		RedirectURIs: cfg.RedirectURIs, Users: cfg.Users, AllowReplay: cfg.AllowReplay,
	}
	if cfg.IdPIssuer != "" {
		reg.TrustedIssuers = append(slices.Clone(reg.TrustedIssuers), TrustedIssuer{Issuer: cfg.IdPIssuer, JWKSURL: cfg.IdPJWKSURL})
	}
	if len(reg.TrustedIssuers) == 0 {
		return nil, errors.New("authserver: at least one entry in TrustedIssuers is required")
	}
	switch cfg.Subject {
	case "", SubjectSub, SubjectEmail:
	default:
		return nil, fmt.Errorf("authserver: Subject %q is not %q or %q", cfg.Subject, SubjectSub, SubjectEmail)
	}
	if len(cfg.Resources) == 0 {
		return nil, errors.New("authserver: at least one entry in Resources is required")
	}
	for _, r := range cfg.Resources {
		if _, err := checkAbsoluteURL("resource", r); err != nil {
			return nil, err
		}
	}
	if len(reg.Clients) == 0 {
		return nil, errors.New("authserver: at least one entry in Clients is required")
	}
	if cfg.AccessTokenLifetime < 0 || cfg.Skew < 0 || cfg.MaxIDJAGLifetime < 0 {
		return nil, errors.New("authserver: AccessTokenLifetime, Skew and MaxIDJAGLifetime must not be negative")
	}
	if cfg.MaxIDJAGLifetime == 0 {
		cfg.MaxIDJAGLifetime = DefaultMaxIDJAGLifetime
	}
	if cfg.AccessTokenLifetime == 0 {
		cfg.AccessTokenLifetime = defaultAccessTokenLifetime
	}
	if cfg.Skew == 0 {
		cfg.Skew = defaultSkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wall == nil {
		cfg.Wall = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: jwksFetchTimeout}
	}
	// Our own copies, so a caller mutating its slices or map cannot change
	// what a running server accepts.
	cfg.Resources = slices.Clone(cfg.Resources)
	cfg.ResourceServers = maps.Clone(cfg.ResourceServers)
	for id := range cfg.ResourceServers {
		if id == "" || cfg.ResourceServers[id] == "" {
			return nil, fmt.Errorf("authserver: ResourceServers entry %q must have a secret and a client_id no client has", id)
		}
	}
	cfg.TrustedIssuers, cfg.IdPIssuer, cfg.IdPJWKSURL = nil, "", ""
	cfg.Scopes, cfg.Clients, cfg.ClientKeys, cfg.RedirectURIs, cfg.Users, cfg.AllowReplay = nil, nil, nil, nil, nil, false

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("authserver: generating the access-token key: %w", err)
	}
	pub := jose.JSONWebKey{Key: &key.PublicKey}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("authserver: access-token key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb) // RFC 7638 thumbprint as kid
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(AccessTokenType))
	if err != nil {
		return nil, fmt.Errorf("authserver: access-token signer: %w", err)
	}

	a := &Server{
		cfg:      cfg,
		basePath: strings.TrimSuffix(issuer.Path, "/"),
		replay:   replay.New(cfg.ReplayCacheSize),
		// The same bound: on one clock each pair holds the same jti values.
		replayWall:   replay.New(cfg.ReplayCacheSize),
		clientAs:     replay.New(cfg.ReplayCacheSize),
		clientAsWall: replay.New(cfg.ReplayCacheSize),
		proofs:       replay.New(cfg.ReplayCacheSize),
		proofsWall:   replay.New(cfg.ReplayCacheSize),
		key:          key,
		kid:          kid,
		signer:       signer,
	}
	if err := a.Update(reg); err != nil {
		return nil, err
	}
	if a.replayLog, err = a.openReplayLog(cfg.ReplayFile); err != nil {
		return nil, err
	}
	// MCP clients send MCP-Protocol-Version with their metadata requests.
	// Its endpoints take GET (and HEAD: metadata, keys, /authorize) or
	// POST, none DELETE.
	a.public = cors.Public(http.HandlerFunc(a.route), "GET, HEAD, POST", []string{"DPoP", "Mcp-Protocol-Version"}, nil)
	return a, nil
}

// Update replaces the server's registration, as an edit of the
// configuration changes it, and checks it as New does, except that it may
// leave the server trusting no IdP or knowing no client: a server nobody
// may use any more refuses every grant. On error nothing changes.
//
// Requests already under way finish with the registration they started
// with. The keys of an IdP that stays trusted with the same JWKS URL are
// kept, not fetched again. Access tokens issued before stay valid until
// they expire, as at any authorization server whose configuration
// changes: ending a user's access at once is the pushed Security Event
// Tokens' job (/events).
func (a *Server) Update(r Registration) error {
	a.updateMu.Lock()
	defer a.updateMu.Unlock()
	reg, err := a.newRegistration(r, a.reg.Load())
	if err != nil {
		return err
	}
	a.reg.Store(reg)
	return nil
}

// newRegistration checks r and makes our own copy of it, with the key
// sets of old (nil at New) for the issuers it keeps.
func (a *Server) newRegistration(r Registration, old *registration) (*registration, error) {
	reg := &registration{
		trusted:   slices.Clone(r.TrustedIssuers),
		idpKeys:   make(map[string]*remoteKeySet, len(r.TrustedIssuers)),
		scopes:    slices.Clone(r.Scopes),
		clients:   maps.Clone(r.Clients),
		keys:      make(map[string][]jose.JSONWebKey, len(r.ClientKeys)),
		redirects: make(map[string][]string, len(r.RedirectURIs)),
		users:     slices.Clone(r.Users),
		replayOK:  r.AllowReplay,
		maxLife:   a.cfg.MaxIDJAGLifetime,
	}
	if r.MaxIDJAGLifetime < 0 {
		return nil, errors.New("authserver: MaxIDJAGLifetime must not be negative")
	}
	if r.MaxIDJAGLifetime > 0 {
		reg.maxLife = r.MaxIDJAGLifetime
	}
	for _, ti := range reg.trusted {
		if _, err := checkAbsoluteURL("TrustedIssuers issuer", ti.Issuer); err != nil {
			return nil, err
		}
		if ti.JWKSURL != "" {
			if _, err := checkAbsoluteURL("TrustedIssuers JWKSURL", ti.JWKSURL); err != nil {
				return nil, err
			}
		}
		if _, dup := reg.idpKeys[ti.Issuer]; dup {
			return nil, fmt.Errorf("authserver: TrustedIssuers lists %q twice", ti.Issuer)
		}
		reg.idpKeys[ti.Issuer] = &remoteKeySet{issuer: ti.Issuer, url: ti.JWKSURL, client: a.cfg.HTTPClient, now: a.cfg.Now, wall: a.cfg.Wall}
		if old != nil && slices.Contains(old.trusted, ti) {
			reg.idpKeys[ti.Issuer] = old.idpKeys[ti.Issuer]
		}
	}
	if reg.clients == nil {
		reg.clients = map[string]string{}
	}
	for id := range reg.clients {
		if id == "" {
			return nil, errors.New("authserver: Clients has an empty client_id")
		}
		if _, ok := a.cfg.ResourceServers[id]; ok {
			return nil, fmt.Errorf("authserver: ResourceServers entry %q must have a secret and a client_id no client has", id)
		}
	}
	for id, keys := range r.ClientKeys {
		if _, ok := reg.clients[id]; !ok {
			return nil, fmt.Errorf("authserver: ClientKeys has client %q, which Clients lacks", id)
		}
		reg.keys[id] = slices.Clone(keys)
	}
	for id, uris := range r.RedirectURIs {
		for _, u := range uris {
			if strings.Contains(u, "#") {
				return nil, fmt.Errorf("authserver: RedirectURIs of client %q: %q has a fragment, which a redirection URI must not have (RFC 6749 §3.1.2)", id, u)
			}
		}
		reg.redirects[id] = slices.Clone(uris)
	}
	meta, err := json.Marshal(a.metadata(reg))
	if err != nil {
		return nil, fmt.Errorf("authserver: metadata: %w", err)
	}
	reg.metadata = meta
	return reg, nil
}

// Issuer returns the issuer identifier, as configured.
func (a *Server) Issuer() string { return a.cfg.Issuer }

// endpoint is the URL of the endpoint at path ("/token") under the issuer:
// an issuer ending with "/" does not double it.
func (a *Server) endpoint(path string) string {
	return strings.TrimSuffix(a.cfg.Issuer, "/") + path
}

// Scopes returns the scopes this authorization server defines now.
func (a *Server) Scopes() []string { return slices.Clone(a.reg.Load().scopes) }

// Resources returns the resource identifiers this authorization server issues
// access tokens for.
func (a *Server) Resources() []string { return slices.Clone(a.cfg.Resources) }

// Metadata is the RFC 8414 document of a [Server]: the SDK's
// type plus the fields it does not know yet.
type Metadata struct {
	oauthex.AuthServerMeta
	// AuthorizationGrantProfilesSupported announces ID-JAG support
	// (ID-JAG §7.2); it never lists which IdPs are trusted (§9.4).
	AuthorizationGrantProfilesSupported []string `json:"authorization_grant_profiles_supported"`
	// DPoPSigningAlgValuesSupported announces DPoP-bound access tokens
	// and the proof algorithms accepted (RFC 9449 §5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported"`
	// EventsEndpoint is where the trusted IdPs push Security Event
	// Tokens (RFC 8935) that revoke a user's access.
	EventsEndpoint string `json:"events_endpoint"`
}

// Metadata returns the RFC 8414 authorization server metadata.
func (a *Server) Metadata() Metadata { return a.metadata(a.reg.Load()) }

// metadata is the RFC 8414 metadata with the registration reg.
func (a *Server) metadata(reg *registration) Metadata {
	authMethods := []string{authBasic, authPost, authNone}
	var assertionAlgs []string
	if a.cfg.CIMD != nil || len(reg.keys) > 0 {
		authMethods = append(authMethods, authPrivateKeyJWT)
		for _, alg := range idJAGAlgorithms {
			assertionAlgs = append(assertionAlgs, string(alg))
		}
	}
	return Metadata{
		AuthServerMeta: oauthex.AuthServerMeta{
			Issuer: a.cfg.Issuer,
			// The TypeScript client rejects metadata without an
			// authorization endpoint and response types, even for a
			// server that only serves the JWT bearer grant.
			AuthorizationEndpoint:             a.endpoint("/authorize"),
			TokenEndpoint:                     a.endpoint("/token"),
			JWKSURI:                           a.endpoint("/jwks"),
			ScopesSupported:                   slices.Clone(reg.scopes),
			ResponseTypesSupported:            []string{"code"},
			GrantTypesSupported:               []string{GrantTypeJWTBearer},
			TokenEndpointAuthMethodsSupported: authMethods,
			// The Go SDK aborts discovery when this list is empty
			// (oauthex.GetAuthServerMeta), though no code grant is served.
			CodeChallengeMethodsSupported:              []string{"S256"},
			TokenEndpointAuthSigningAlgValuesSupported: assertionAlgs,
			IntrospectionEndpoint:                      a.endpoint("/introspect"),
			IntrospectionEndpointAuthMethodsSupported:  slices.DeleteFunc(slices.Clone(authMethods), func(m string) bool { return m == authNone }),
			ClientIDMetadataDocumentSupported:          a.cfg.CIMD != nil,
			AuthorizationResponseIssParameterSupported: true, // RFC 9207, on /authorize's error redirects
		},
		AuthorizationGrantProfilesSupported: []string{GrantProfileIDJAG},
		DPoPSigningAlgValuesSupported:       dpop.AlgorithmNames(),
		EventsEndpoint:                      a.endpoint("/events"),
	}
}

// ServeHTTP routes the endpoints listed on [Server], readable from
// browser-based clients of any origin (internal/cors).
func (a *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.public.ServeHTTP(w, r)
}

func (a *Server) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; p {
	case a.basePath + "/token":
		a.serveToken(w, r)
	case a.basePath + "/jwks":
		a.serveJWKS(w, r)
	case a.basePath + "/introspect":
		a.serveIntrospect(w, r)
	case a.basePath + "/authorize":
		a.serveAuthorize(w, r)
	case a.basePath + "/events":
		a.serveEvents(w, r)
	case
		// RFC 8414 §3.1 inserts the well-known segment before the
		// issuer's path; OIDC Discovery §4 appends it. Serve all three
		// spellings, as the SDKs try them in turn.
		"/.well-known/oauth-authorization-server" + a.basePath,
		"/.well-known/openid-configuration" + a.basePath,
		a.basePath + "/.well-known/openid-configuration":
		a.serveMetadata(w, r)
	case "/.well-known/oauth-authorization-server/", "/.well-known/openid-configuration/":
		// The Go SDK, given an issuer without a path but with a trailing
		// "/", inserts the well-known segment before that "/" without
		// removing it (RFC 8414 §3.1 says to), and its issuer comparison
		// ignores the "/" (auth.GetAuthServerMetadata).
		if a.basePath != "" {
			http.NotFound(w, r)
			return
		}
		a.serveMetadata(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (a *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if !allowGET(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(a.reg.Load().metadata)
}

func (a *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if !allowGET(w, r) {
		return
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &a.key.PublicKey, KeyID: a.kid, Algorithm: string(jose.ES256), Use: "sig",
	}}}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(set)
}

// serveAuthorize answers every authorization request with an error: the
// endpoint exists only because clients insist on seeing it in the metadata.
// A request from a known client with one of its redirection URIs gets the
// error at that URI, with its state (RFC 6749 §4.1.2.1), so that a client
// waiting for the redirect learns at once; anything else gets a 400, since
// an unverified redirection URI must not be followed.
func (a *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	// RFC 6749 §3.1 (GET, and POST as OpenID Connect Core §3.1.2.1 allows),
	// as at the IdP's /authorize: another method is no authorization
	// request to redirect back.
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeOAuthError(w, newOAuthError(http.StatusMethodNotAllowed, "invalid_request",
			"the authorization endpoint accepts GET and POST, not %s (RFC 6749 §3.1)", r.Method), a.cfg.Issuer)
		return
	}
	// A form body is bounded like the token endpoint's: ParseForm alone
	// reads up to 10 MiB of it, and the answer quotes client_id.
	if r.ContentLength > maxTokenRequestBytes && bodyheader.ReadsForm(r) {
		// Before a byte is read, without inviting an Expect:
		// 100-continue body (RFC 9110 section 10.1.1).
		writeOAuthError(w, invalidRequest("the request body is larger than %d bytes", maxTokenRequestBytes), a.cfg.Issuer)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBytes)
	if err := r.ParseForm(); err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			writeOAuthError(w, invalidRequest("the request body is larger than %d bytes", maxTokenRequestBytes), a.cfg.Issuer)
			return
		}
		writeOAuthError(w, invalidRequest("%s", bodyheader.FormRefusal(err)), a.cfg.Issuer)
		return
	}
	explain := fmt.Sprintf("this authorization server serves only the JWT bearer grant (%s, RFC 7523) with ID-JAG assertions; "+
		"get an ID-JAG from your enterprise IdP and POST it to %s", GrantTypeJWTBearer, a.endpoint("/token"))
	// RFC 6749 §3.1: no parameter may repeat (resource may, RFC 8707).
	// Refused as the IdP's /authorize does, before any redirect: the first
	// of two redirect_uri or client_id values is no more the client's
	// than the second (§4.1.2.1), and of two states neither is echoed.
	for _, name := range slices.Sorted(maps.Keys(r.Form)) {
		if len(r.Form[name]) > 1 && name != "resource" {
			writeOAuthError(w, invalidRequest("parameter %q is repeated %d times; send it once (RFC 6749 §3.1); and %s", name, len(r.Form[name]), explain), a.cfg.Issuer)
			return
		}
	}
	redirect, oerr := a.authorizeRedirect(r, r.Form.Get("client_id"), r.Form.Get("redirect_uri"))
	if oerr != nil {
		oerr.description += "; and " + explain
		writeOAuthError(w, oerr, a.cfg.Issuer)
		return
	}
	q := redirect.Query()
	q.Set("error", "unsupported_response_type")
	q.Set("error_description", errdesc.Wire(explain))
	if state := r.Form.Get("state"); state != "" {
		q.Set("state", state)
	}
	// RFC 9207 §2, error responses included: the MCP specification of
	// 2026-07-28 (SEP-2468) recommends it and has clients compare it with
	// the issuer of the metadata they used.
	q.Set("iss", a.cfg.Issuer)
	redirect.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// authorizeRedirect returns where an authorization request's error may be
// sent: the redirect_uri if it is one of the client's (RFC 6749 §3.1.2.3),
// or the client's only one when it is omitted.
func (a *Server) authorizeRedirect(r *http.Request, clientID, redirectURI string) (*url.URL, *oauthError) {
	if clientID == "" {
		return nil, invalidRequest("client_id is missing")
	}
	var registered []string
	reg := a.reg.Load()
	switch {
	case a.isMetadataClient(reg.clients, clientID):
		c, err := a.cfg.CIMD.Resolve(r.Context(), clientID)
		if err != nil {
			return nil, cimdRefusal(err, invalidRequest("%v", err))
		}
		registered = c.RedirectURIs
	default:
		if _, ok := reg.clients[clientID]; !ok {
			return nil, invalidRequest("unknown client %q", clientID)
		}
		registered = reg.redirects[clientID]
	}
	if redirectURI == "" {
		if len(registered) != 1 {
			return nil, invalidRequest("redirect_uri is missing and client %q has %d registered redirection URIs (RFC 6749 §3.1.2.3)", clientID, len(registered))
		}
		redirectURI = registered[0]
	}
	// RFC 6749 §3.1.2: the redirection URI MUST NOT include a fragment;
	// said as such rather than "not registered".
	if strings.Contains(redirectURI, "#") {
		return nil, invalidRequest("redirect_uri %q has a fragment, which a redirection URI must not have (RFC 6749 §3.1.2)", redirectURI)
	}
	// The IdP's rule (docs/http.md, "/authorize"): exact, but for a loopback IP literal's
	// port.
	if !redirecturi.Allowed(registered, redirectURI) {
		return nil, invalidRequest("redirect_uri %q is not registered for client %q", redirectURI, clientID)
	}
	u, err := url.Parse(redirectURI)
	if err != nil || !u.IsAbs() {
		return nil, invalidRequest("redirect_uri %q is not an absolute URI", redirectURI)
	}
	return u, nil
}

// allowGET lets GET and HEAD through, with CORS for browser-based clients:
// metadata and keys are public (RFC 8414 §3, RFC 9728 §3).
func allowGET(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return false
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
}

// checkIssuer parses an issuer identifier: an absolute http(s) URL without
// query or fragment (RFC 8414 §2). A trailing slash is allowed: RFC 8414 §3.1
// removes it before inserting the well-known segment, and the issuer is
// used as given wherever clients compare it.
func checkIssuer(field, s string) (*url.URL, error) {
	u, err := checkAbsoluteURL(field, s)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("authserver: %s %q must not have a query or fragment (RFC 8414 §2)", field, s)
	}
	return u, nil
}

func checkAbsoluteURL(field, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("authserver: %s %q: %v", field, s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("authserver: %s %q is not an absolute http(s) URL", field, s)
	}
	return u, nil
}
