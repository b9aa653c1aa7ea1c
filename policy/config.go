// Package policy is xaa-idp's configuration model: it loads and validates the
// YAML configuration (every problem reported with file and line) and decides
// token exchanges for ID-JAGs (who, through which client, may reach which MCP
// server with which scopes).
//
// The decision engine is a pure function of the configuration and a Request;
// it knows nothing of HTTP, tokens or signatures.
package policy

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/xaa-idp/xaa-idp/internal/urimatch"
)

// Signing algorithms accepted for id_token_alg and id_jag_alg.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
)

// Error codes for ExchangeOptions and Decision.Error, as sent to clients in
// the token endpoint's "error" field (RFC 6749 section 5.2, RFC 8693 section
// 2.2.2, RFC 8707 and the ID-JAG draft).
const (
	ErrInvalidRequest     = "invalid_request"
	ErrInvalidClient      = "invalid_client"
	ErrInvalidGrant       = "invalid_grant"
	ErrUnauthorizedClient = "unauthorized_client"
	ErrInvalidTarget      = "invalid_target"
	ErrInvalidScope       = "invalid_scope"
	ErrAccessDenied       = "access_denied"
	// ErrInsufficientUserAuthentication asks for a more recent login (RFC 9470).
	ErrInsufficientUserAuthentication = "insufficient_user_authentication"
)

// Config is one xaa-idp configuration file (docs/configuration.md).
//
// A Config returned by Parse or Load is valid, has its defaults filled in and
// carries indexes for the lookup methods. Treat it as read-only: build a new
// one (for example by parsing edited YAML) rather than changing it in place,
// because the indexes are not rebuilt. Read-only, it is safe for concurrent
// use. A Config assembled in Go code without Parse also works, through
// slower linear lookups.
type Config struct {
	File       string          `yaml:"-" json:"-"` // file name errors refer to
	Issuer     string          `yaml:"issuer,omitempty" json:"issuer,omitempty" max:"url"`
	Signing    Signing         `yaml:"signing" json:"signing"`
	Lifetimes  Lifetimes       `yaml:"lifetimes" json:"lifetimes"`
	Exchange   ExchangeOptions `yaml:"exchange" json:"exchange"`
	Security   Security        `yaml:"security" json:"security"`
	Groups     []Group         `yaml:"groups" json:"groups"`
	Users      []User          `yaml:"users" json:"users"`
	Clients    []Client        `yaml:"clients" json:"clients"`
	MCPServers []MCPServer     `yaml:"mcp_servers" json:"mcp_servers"`
	// CIMD admits clients identified by the URL of their Client ID
	// Metadata Document (see CIMD).
	CIMD CIMD `yaml:"cimd" json:"cimd"`
	// Faults are deliberate misbehaviours of the token endpoint (or of
	// the JWKS, discovery or userinfo), for testing clients and
	// authorization servers (see Fault).
	Faults []Fault `yaml:"faults,omitempty" json:"faults,omitempty"`
	// SCIM holds the bearer tokens of SCIM provisioning clients (see
	// SCIM); our addition to the contract.
	SCIM SCIM `yaml:"scim,omitempty" json:"scim,omitzero"`

	// Persona names the issuer this IdP imitates (PersonaGeneric,
	// PersonaOkta, PersonaClaude, PersonaConductorOne): the presets of IDJAG and of the
	// defaults (docs/personas.md); "" is generic.
	Persona string `yaml:"persona" json:"persona,omitempty" max:"name"`
	// IDJAG shapes the ID-JAGs; Knobs reads them, with the persona's
	// preset for those not set.
	IDJAG IDJAGOptions `yaml:"id_jag" json:"id_jag,omitzero"`
	// ID and Path are set only in a tenant (an entry of Tenants): its id,
	// and the path of its issuer under the base URL (default /t/<id>).
	ID   string `yaml:"id,omitempty" json:"id,omitempty" max:"name"`
	Path string `yaml:"path,omitempty" json:"path,omitempty" max:"url"`
	// Tenants, when given, are the complete, isolated IdPs this file
	// configures, each a Config of its own; the top level then holds
	// nothing else (docs/configuration.md, "Tenants").
	Tenants []*Config `yaml:"tenants,omitempty" json:"tenants,omitempty"`

	// Indexes built by Parse; nil for a Config built in Go code.
	groupsByName map[string]*Group
	groupsByID   map[string]*Group // by SCIMID
	userIndex    map[string]int    // username → position in Users
	usersBySub   map[string]*User
	clientsByID  map[string]*Client
	serversByID  map[string]*MCPServer
	serversByAud map[string]*MCPServer // every accepted audience spelling
	rules        map[*MCPServer]*ruleNames
	bcryptCost   int // the highest cost of the users' password_bcrypt hashes, 0 without one
	indexed      bool
}

// ruleNames are the names decisions give one MCP server's entries
// (Decision.Rule), made once so that deciding does not format them.
type ruleNames struct {
	id     string   // the server's id when they were made
	access []string // "<server id> access[i]"
	deny   []string // "<server id> deny[i]"
}

// accessRule names access entry i of the server: "<server id> access[i]".
func (c *Config) accessRule(s *MCPServer, i int) string {
	if n := c.rules[s]; n != nil && n.id == s.ID && i < len(n.access) {
		return n.access[i]
	}
	return s.ID + " access[" + strconv.Itoa(i) + "]"
}

// denyRule names deny entry i of the server: "<server id> deny[i]".
func (c *Config) denyRule(s *MCPServer, i int) string {
	if n := c.rules[s]; n != nil && n.id == s.ID && i < len(n.deny) {
		return n.deny[i]
	}
	return s.ID + " deny[" + strconv.Itoa(i) + "]"
}

// Signing chooses the algorithms of the keys that sign ID tokens and ID-JAGs.
// Each algorithm is RS256, ES256 or EdDSA; Parse fills in RS256 for ID tokens
// and ES256 for ID-JAGs when they are omitted.
type Signing struct {
	IDTokenAlg string   `yaml:"id_token_alg" json:"id_token_alg" max:"name"`
	IDJAGAlg   string   `yaml:"id_jag_alg" json:"id_jag_alg" max:"name"`
	KeyFiles   []string `yaml:"key_files" json:"key_files,omitempty" max:"file"` // PEM private keys; generated when empty
}

// Lifetimes are how long issued tokens live. Parse fills in the defaults
// (1h, 1h, 24h, 5m) for those omitted.
type Lifetimes struct {
	IDToken      Duration `yaml:"id_token" json:"id_token"`
	AccessToken  Duration `yaml:"access_token" json:"access_token"`
	RefreshToken Duration `yaml:"refresh_token" json:"refresh_token"`
	IDJAG        Duration `yaml:"id_jag" json:"id_jag"`
}

// Default values that Parse fills in.
const (
	DefaultIDTokenAlg      = AlgRS256
	DefaultIDJAGAlg        = AlgES256
	DefaultIDTokenLifetime = time.Hour
	DefaultAccessLifetime  = time.Hour
	DefaultRefreshLifetime = 24 * time.Hour
	DefaultIDJAGLifetime   = 5 * time.Minute
	// MaxLifetime bounds each of lifetimes: ten years.
	MaxLifetime              = Duration(10 * 365 * 24 * time.Hour)
	DefaultSubjectTokenError = ErrInvalidRequest
	DefaultDeniedError       = ErrAccessDenied
	DefaultMaxPendingLogins  = 10000
	// MaxPendingLoginsLimit bounds security.max_pending_logins: each pending
	// login holds an authorization request in memory.
	MaxPendingLoginsLimit = 1_000_000
)

// Security holds the IdP's limits against abuse of the login
// (docs/configuration.md, "security"). Parse fills in MaxPendingLogins.
type Security struct {
	// LoginThrottle slows down password guessing at the login page and the
	// admin API's Basic authentication; nil means on. Load tests switch it
	// off.
	LoginThrottle *bool `yaml:"login_throttle" json:"login_throttle,omitempty"`
	// MaxPendingLogins is how many authorization requests may wait for
	// their login at once; /authorize refuses new ones beyond it.
	MaxPendingLogins int `yaml:"max_pending_logins" json:"max_pending_logins,omitempty"`
}

// Throttled reports whether the login throttle is on: unless
// login_throttle is false.
func (s Security) Throttled() bool { return s.LoginThrottle == nil || *s.LoginThrottle }

// ExchangeOptions is our addition to the contract: compatibility switches
// for places where the specifications and the clients in the field disagree
// (docs/configuration.md, "exchange"). Parse fills in the default error codes.
type ExchangeOptions struct {
	// SubjectTokenError is the error for an invalid subject token:
	// "invalid_request" (default, RFC 8693) or "invalid_grant" (the ID-JAG
	// draft's example and the MCP conformance mock).
	SubjectTokenError string `yaml:"subject_token_error" json:"subject_token_error" max:"name"`
	// DeniedError is the error when policy refuses a user: "access_denied"
	// (default) or "invalid_request" (strict RFC 8693).
	DeniedError string `yaml:"denied_error" json:"denied_error" max:"name"`
	// RequireResource makes a missing resource parameter invalid_request, as
	// the EMA draft of October 2025 did; the stable EMA makes it optional.
	RequireResource bool `yaml:"require_resource" json:"require_resource"`
	// SingleUseSubject lets an ID token be exchanged only once per audience.
	SingleUseSubject bool `yaml:"single_use_subject" json:"single_use_subject"`
}

// Group is a named set of users; access and deny entries name groups.
type Group struct {
	Name        string `yaml:"name" json:"name" max:"name"`
	Description string `yaml:"description" json:"description,omitempty" max:"description"`
	// ID is the group's SCIM id when it is not its name: a group renamed
	// by SCIM keeps the id the provisioning client stored (RFC 7643
	// section 3.1: id never changes). "" is the name (see SCIMID).
	ID string `yaml:"id" json:"id,omitempty" max:"name"`
	// ExternalID is the group's id at the provisioning client (SCIM's
	// externalId), as User.ExternalID is a user's.
	ExternalID string `yaml:"external_id" json:"external_id,omitempty" max:"name"`
}

// SCIMID is the group's SCIM id: its id, else its name.
func (g *Group) SCIMID() string {
	if g.ID != "" {
		return g.ID
	}
	return g.Name
}

// NewGroupID returns a random SCIM id, "g-" and 16 hex digits, for a new
// group whose name another group keeps as its id (a group SCIM renamed
// keeps the id it had), as a new user whose default sub is taken gets
// another.
func NewGroupID() string { return randomID("g-") }

// NewUserSub is NewGroupID of a user's sub: "u-" and 16 hex digits, for a
// new user whose default sub (DefaultSub) another user keeps.
func NewUserSub() string { return randomID("u-") }

// randomID is prefix and 16 random hex digits.
func randomID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// User is a person who logs in at the IdP.
type User struct {
	Username       string `yaml:"username" json:"username" max:"username"`
	Password       string `yaml:"password,omitempty" json:"password,omitempty" max:"password"`
	PasswordBcrypt string `yaml:"password_bcrypt,omitempty" json:"password_bcrypt,omitempty" max:"name"`
	// Sub is the stable subject identifier in tokens; Parse fills in
	// "u-" + Username when it is omitted.
	Sub      string         `yaml:"sub" json:"sub" max:"sub"`
	Email    string         `yaml:"email" json:"email,omitempty" max:"email"`
	Name     string         `yaml:"name" json:"name,omitempty" max:"name"`
	Groups   []string       `yaml:"groups" json:"groups,omitempty" max:"name"`
	Admin    bool           `yaml:"admin" json:"admin,omitempty"`       // may use the console and the admin API
	Disabled bool           `yaml:"disabled" json:"disabled,omitempty"` // every login and exchange is refused
	Claims   map[string]any `yaml:"claims" json:"claims,omitempty"`     // extra claims for ID tokens and userinfo
	// ExternalID is the user's id at the provisioning client (SCIM's
	// externalId, by which Entra and Okta find the user again); unique
	// when set, compared byte for byte.
	ExternalID string `yaml:"external_id" json:"external_id,omitempty" max:"name"`
}

// DefaultSub is the subject Parse gives a user whose sub is omitted.
func DefaultSub(username string) string { return "u-" + username }

// CheckPassword reports whether pw is the user's password. A plain password
// is compared in constant time; a bcrypt hash is checked with bcrypt. A user
// with neither never matches.
func (u *User) CheckPassword(pw string) bool {
	ok, _ := u.checkPassword(context.Background(), pw)
	return ok
}

func (u *User) checkPassword(ctx context.Context, pw string) (bool, error) {
	switch {
	case u.PasswordBcrypt != "":
		return bcryptMatches(ctx, []byte(u.PasswordBcrypt), pw)
	case u.Password != "":
		return subtle.ConstantTimeCompare([]byte(u.Password), []byte(pw)) == 1, nil
	}
	return false, nil
}

// CheckPassword is u.CheckPassword, for a login: a wrong plain password,
// or one checked against a hash of a lower cost than the users' highest
// (a user SCIM created without a password has one of bcrypt's lowest),
// also costs what an unknown username does (CheckNoUserPassword), so that
// with password_bcrypt users in the file a fast refusal does not name the
// users whose password is plain or cheaply hashed. A bcrypt check still
// waiting for its place (see bcryptChecks) when ctx ends is not run: false
// and ctx's error; one the queue has no room or time for, false and
// ErrBusy, the wrong plain password's equalising check included, so that
// a full queue refuses every username alike.
func (c *Config) CheckPassword(ctx context.Context, u *User, pw string) (bool, error) {
	ok, err := u.checkPassword(ctx, pw)
	if !ok && err == nil && u.hashCost() < c.usersBcryptCost() {
		if errors.Is(c.CheckNoUserPassword(ctx, pw), ErrBusy) {
			return false, ErrBusy
		}
	}
	return ok, err
}

// CheckNoUserPassword spends on pw, for a username that no user has, the
// time a wrong password of a user of this configuration takes: a bcrypt
// check at the highest cost of its users' hashes (none when every user has
// a plain password, whose check takes next to nothing). Without it the
// time of a refused login tells which usernames exist. Its error is
// BcryptPlace's: ErrBusy when a user's check would have been refused too.
func (c *Config) CheckNoUserPassword(ctx context.Context, pw string) error {
	cost := c.usersBcryptCost()
	if cost == 0 {
		return nil
	}
	hash, err := noUserHash(ctx, cost)
	if err != nil {
		return err
	}
	_, err = bcryptMatches(ctx, hash, pw)
	return err
}

// bcryptChecks holds a place for each bcrypt check running, in the whole
// process: at most half the cores (at least one) check passwords at once,
// and the other checks wait for a place. An unknown username costs a check
// (CheckNoUserPassword) and the login throttle counts per username, so
// without the bound a flood of made-up usernames, each tried once, kept
// every core on bcrypt, and logins, token exchanges and /healthz waited
// behind it. Known and unknown usernames wait in the one queue, so a
// refusal's time still does not tell them apart.
var bcryptChecks = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))

// The bound on the checks waiting for a place: beyond it a check is not
// queued but refused at once with ErrBusy, which the login page and the
// admin API answer 503 with Retry-After (BcryptRetryAfter). Without it a
// sustained flood queued every login behind it until its client gave up.
// A check costs some 50 ms of CPU (cost 10), so MaxBcryptWaitersPerPlace
// waiters are about 5 s of work for each place; a check that still waits
// MaxBcryptWait (costlier hashes, a slower machine) gives up all the same.
const (
	MaxBcryptWaitersPerPlace = 100
	MaxBcryptWait            = 5 * time.Second
	BcryptRetryAfter         = 5 * time.Second
)

// ErrBusy is BcryptPlace's error when too many bcrypt runs wait already,
// or a place did not come within MaxBcryptWait.
var ErrBusy = errors.New("too many password checks are waiting")

var (
	bcryptWaiting    atomic.Int64 // checks waiting for a place
	bcryptMaxWaiting atomic.Int64 // their bound
	bcryptMaxWait    atomic.Int64 // a time.Duration
	bcryptShed       atomic.Uint64
)

func init() {
	bcryptMaxWaiting.Store(int64(MaxBcryptWaitersPerPlace * cap(bcryptChecks)))
	bcryptMaxWait.Store(int64(MaxBcryptWait))
}

// LimitBcryptQueue sets the bound on the bcrypt runs waiting for a place
// and on their wait, and returns the function that puts back the previous
// ones: for tests, which flood a small queue.
func LimitBcryptQueue(waiters int, wait time.Duration) (restore func()) {
	oldN, oldWait := bcryptMaxWaiting.Swap(int64(waiters)), bcryptMaxWait.Swap(int64(wait))
	return func() { bcryptMaxWaiting.Store(oldN); bcryptMaxWait.Store(oldWait) }
}

// BcryptShed is how many bcrypt runs were refused with ErrBusy since the
// process started (xaa_idp_password_checks_shed_total).
func BcryptShed() uint64 { return bcryptShed.Load() }

// bcryptMatches reports whether pw matches hash, once bcryptChecks has a
// place for the check; false and ctx's error, unchecked, if ctx ends
// first: a request whose client has gone away (a flood that sends and
// hangs up) leaves no backlog for the sign-ins after it to wait out. False
// and ErrBusy, unchecked, when the queue is full or the wait too long.
func bcryptMatches(ctx context.Context, hash []byte, pw string) (bool, error) {
	release, err := BcryptPlace(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil, nil
}

// BcryptPlace waits for a place among the bcrypt runs of the process
// (bcryptChecks: at most half the cores at once), which whatever else
// runs bcrypt takes too (SCIM hashing the passwords it is sent), and
// returns the function that gives it back; ctx's error, and no place, if
// ctx ends first; ErrBusy, at once, when as many runs wait already as the
// queue's bound, or after MaxBcryptWait without a place.
func BcryptPlace(ctx context.Context) (release func(), err error) {
	select {
	case bcryptChecks <- struct{}{}:
		return func() { <-bcryptChecks }, nil
	default:
	}
	defer bcryptWaiting.Add(-1)
	if bcryptWaiting.Add(1) > bcryptMaxWaiting.Load() {
		bcryptShed.Add(1)
		return nil, ErrBusy
	}
	timer := time.NewTimer(time.Duration(bcryptMaxWait.Load()))
	defer timer.Stop()
	select {
	case bcryptChecks <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		bcryptShed.Add(1)
		return nil, ErrBusy
	}
	return func() { <-bcryptChecks }, nil
}

// BcryptPlaces is how many bcrypt runs BcryptPlace lets run at once.
func BcryptPlaces() int { return cap(bcryptChecks) }

// noUserHashes holds, by cost, the hash CheckNoUserPassword compares with;
// noUserHashMaking is held while one is made, so that a flood of unknown
// usernames after a start makes it once; it is waited for as a place in
// the queue is, while ctx lasts and at most MaxBcryptWait.
var (
	noUserHashes     sync.Map // int -> []byte
	noUserHashMaking = make(chan struct{}, 1)
)

// noUserHash is the hash of cost for CheckNoUserPassword: made at the
// first refusal, in the time a check takes, and as one, with its place in
// the queue (BcryptPlace: until 2026-12-06 it waited for one without a
// bound, and without its request); BcryptPlace's error if it gets none.
func noUserHash(ctx context.Context, cost int) ([]byte, error) {
	if h, ok := noUserHashes.Load(cost); ok {
		return h.([]byte), nil
	}
	timer := time.NewTimer(time.Duration(bcryptMaxWait.Load()))
	defer timer.Stop()
	select {
	case noUserHashMaking <- struct{}{}:
		defer func() { <-noUserHashMaking }()
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		bcryptShed.Add(1)
		return nil, ErrBusy
	}
	if h, ok := noUserHashes.Load(cost); ok {
		return h.([]byte), nil
	}
	release, err := BcryptPlace(ctx)
	if err != nil {
		return nil, err
	}
	h, err := bcrypt.GenerateFromPassword([]byte("xaa-idp: no such user"), cost)
	release()
	if err != nil {
		return nil, err
	}
	noUserHashes.Store(cost, h)
	return h, nil
}

// usersBcryptCost is the highest cost of c's users' hashes, 0 without
// one.
func (c *Config) usersBcryptCost() int {
	if c.indexed {
		return c.bcryptCost
	}
	return usersBcryptCost(c.Users)
}

func usersBcryptCost(users []User) int {
	most := 0
	for i := range users {
		most = max(most, users[i].hashCost())
	}
	return most
}

// hashCost is the cost of u's password_bcrypt, 0 without one.
func (u *User) hashCost() int {
	if u.PasswordBcrypt == "" {
		return 0
	}
	cost, _ := bcrypt.Cost([]byte(u.PasswordBcrypt))
	return cost
}

// Active reports whether the user may log in, hold a session and get
// tokens: a user that is known and not disabled. A nil user is not active,
// so a lookup's result can be asked directly. Every check of Disabled goes
// through here.
func (u *User) Active() bool { return u != nil && !u.Disabled }

// MayAdminister reports whether the user may use the console and the admin
// API: an active user with admin: true. A disabled admin may not.
func (u *User) MayAdminister() bool { return u.Active() && u.Admin }

// InGroup reports whether the user is a member of the named group.
func (u *User) InGroup(name string) bool {
	for _, g := range u.Groups {
		if g == name {
			return true
		}
	}
	return false
}

// Client is an application registered at the IdP: an MCP host or MCP client.
type Client struct {
	ClientID      string   `yaml:"client_id" json:"client_id" max:"url"`
	Name          string   `yaml:"name" json:"name,omitempty" max:"name"`
	ClientSecret  string   `yaml:"client_secret" json:"client_secret,omitempty" max:"password"`
	RedirectURIs  []string `yaml:"redirect_uris" json:"redirect_uris,omitempty" max:"url"` // loopback URIs match on any port (RFC 8252)
	TokenExchange bool     `yaml:"token_exchange" json:"token_exchange"`                   // may request ID-JAGs
	// JWKS is an optional public JWK Set ({keys: [...]}) for private_key_jwt
	// client authentication (RFC 7523 section 2.2).
	JWKS map[string]any `yaml:"jwks,omitempty" json:"jwks,omitempty"`
}

// Public reports whether the client has no credentials (no client_secret and
// no jwks), so that it authenticates at the token endpoint with "none".
func (c *Client) Public() bool { return c.ClientSecret == "" && len(c.JWKS) == 0 }

// MCPServer is a resource application: an MCP server and the authorization
// server that accepts ID-JAGs for it.
type MCPServer struct {
	ID   string `yaml:"id" json:"id" max:"name"`
	Name string `yaml:"name" json:"name,omitempty" max:"name"`
	// Issuer is the authorization server's issuer: the ID-JAG "aud" and the
	// audience clients send.
	Issuer    string   `yaml:"issuer" json:"issuer" max:"url"`
	Aliases   []string `yaml:"aliases" json:"aliases,omitempty" max:"url"`     // other accepted audience values
	Resources []string `yaml:"resources" json:"resources,omitempty" max:"url"` // accepted resource values
	Scopes    []string `yaml:"scopes" json:"scopes,omitempty" max:"scope"`     // scopes this server knows
	// Clients maps an IdP client_id to the client's client_id at this server
	// (the ID-JAG "client_id"); an IdP client not listed has no connection.
	Clients map[string]string `yaml:"clients" json:"clients,omitempty" max:"url"`
	Access  []Access          `yaml:"access" json:"access"`
	Deny    []Deny            `yaml:"deny" json:"deny,omitempty"`
	// IncludeEmail puts the user's email into the ID-JAG; off by default
	// because EMA section 7.4.3 asks to avoid personal data the server does
	// not need.
	IncludeEmail bool `yaml:"include_email" json:"include_email,omitempty"`
	// Subject is how the server's authorization server finds the local
	// user of an ID-JAG: SubjectSub (also "") by its sub, SubjectEmail by
	// its email, which then needs include_email.
	Subject string `yaml:"subject" json:"subject,omitempty" max:"name"`
	// EventsEndpoint is where the IdP pushes Security Event Tokens (RFC
	// 8417, by RFC 8935 push) when a user loses access to this server
	// (docs/configuration.md, "Revocation push"); "" pushes nothing.
	EventsEndpoint string `yaml:"events_endpoint" json:"events_endpoint,omitempty" max:"url"`
	// SigningAlg, when set, is the algorithm of this server's ID-JAGs
	// (RS256, ES256 or EdDSA) instead of signing.id_jag_alg.
	SigningAlg string `yaml:"signing_alg" json:"signing_alg,omitempty" max:"name"`
	// AudTenant, when set, is the server's tenant identifier, sent as the
	// ID-JAG's "aud_tenant" (ID-JAG draft section 3).
	AudTenant string `yaml:"aud_tenant" json:"aud_tenant,omitempty" max:"name"`
	// AllowIDJAGReuse makes the server's demo authorization server accept
	// an unexpired ID-JAG it has redeemed before, for a new access token
	// each time (ID-JAG draft §4.4.3; some SDKs re-submit one); by default
	// it refuses a replayed jti (EMA §7.4). The IdP itself ignores it.
	AllowIDJAGReuse bool `yaml:"allow_id_jag_reuse" json:"allow_id_jag_reuse,omitempty"`
}

// IDJAGAlg is the algorithm this server's ID-JAGs are signed with under
// cfg: its signing_alg, else the configuration's signing.id_jag_alg.
func (s *MCPServer) IDJAGAlg(cfg *Config) string {
	if s.SigningAlg != "" {
		return s.SigningAlg
	}
	return cfg.Signing.IDJAGAlg
}

// Values of MCPServer.Subject.
const (
	SubjectSub   = "sub"
	SubjectEmail = "email"
)

// Label is how descriptions and reasons name the server: its name, or its id.
func (s *MCPServer) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// Access is an assignment: the users and groups that may connect to a
// server, with which scopes, optionally only through some clients and only
// with a recent login.
type Access struct {
	Groups  []string `yaml:"groups" json:"groups,omitempty" max:"name"`
	Users   []string `yaml:"users" json:"users,omitempty" max:"username"`
	Scopes  []string `yaml:"scopes" json:"scopes,omitempty" max:"scope"`
	Clients []string `yaml:"clients" json:"clients,omitempty" max:"url"` // only through these clients; any when empty
	// MaxAuthAge is step-up: the login must be at most this old.
	MaxAuthAge Duration `yaml:"max_auth_age,omitempty" json:"max_auth_age,omitempty"`
	// Expires ends the entry: from this instant on (the IdP's clock) it
	// matches nobody. Zero: it never expires.
	Expires Timestamp `yaml:"expires,omitempty" json:"expires,omitempty"`
}

// Expired reports whether the entry has expired at now.
func (e *Access) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires.T())
}

// Deny is an exception that wins over access. The fields that are given are
// ANDed: the user must be one of Users or a member of one of Groups (when
// either is given), and the client one of Clients (when given). An entry
// with only clients therefore denies everyone through those clients.
type Deny struct {
	Groups  []string `yaml:"groups" json:"groups,omitempty" max:"name"`
	Users   []string `yaml:"users" json:"users,omitempty" max:"username"`
	Clients []string `yaml:"clients" json:"clients,omitempty" max:"url"`
}

// Group returns the named group, or nil.
func (c *Config) Group(name string) *Group {
	if c.indexed {
		return c.groupsByName[name]
	}
	for i := range c.Groups {
		if c.Groups[i].Name == name {
			return &c.Groups[i]
		}
	}
	return nil
}

// GroupBySCIMID returns the group whose SCIM id (SCIMID) is id, or nil.
func (c *Config) GroupBySCIMID(id string) *Group {
	if c.indexed {
		return c.groupsByID[id]
	}
	for i := range c.Groups {
		if c.Groups[i].SCIMID() == id {
			return &c.Groups[i]
		}
	}
	return nil
}

// User returns the user with this login name, or nil.
func (c *Config) User(username string) *User {
	if i := c.UserIndex(username); i >= 0 {
		return &c.Users[i]
	}
	return nil
}

// UserIndex returns the position of the user with this login name in
// Users, or -1: where a list of users in the file's order resumes.
func (c *Config) UserIndex(username string) int {
	if c.indexed {
		if i, ok := c.userIndex[username]; ok {
			return i
		}
		return -1
	}
	for i := range c.Users {
		if c.Users[i].Username == username {
			return i
		}
	}
	return -1
}

// UserByEmail returns the one user whose email is this address, equal
// but for ASCII case, or nil when no user's is, or several users' are.
// ASCII case only, as the configuration's warnings (asciiLower) and the
// demo authorization servers (authserver.SameEmail) compare addresses:
// Unicode's folding would take the Kelvin sign (U+212A) for a k, and so
// sign in a user with an address no mail system delivers to them.
func (c *Config) UserByEmail(email string) *User {
	var found *User
	for i := range c.Users {
		if u := &c.Users[i]; u.Email != "" && EqualASCIIFold(u.Email, email) {
			if found != nil {
				return nil
			}
			found = u
		}
	}
	return found
}

// EqualASCIIFold reports whether a and b are equal but for the case of
// ASCII letters: how the product compares the identifiers it compares
// without case (an email at the login form and at the demo authorization
// servers; SCIM's userName, emails and displayName, caseExact false in
// RFC 7643). Nothing else is folded: strings.EqualFold takes the Kelvin
// sign (U+212A) for a k and the long s (U+017F) for an s, which byte for
// byte comparisons (a username at the login form, a sub) tell apart, so
// that an identifier one place takes for a user's would be another
// user's, or no one's, elsewhere.
func EqualASCIIFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if asciiLowerByte(a[i]) != asciiLowerByte(b[i]) {
			return false
		}
	}
	return true
}

func asciiLowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// UserBySub returns the user with this subject identifier, or nil.
func (c *Config) UserBySub(sub string) *User {
	if c.indexed {
		return c.usersBySub[sub]
	}
	for i := range c.Users {
		if c.Users[i].Sub == sub {
			return &c.Users[i]
		}
	}
	return nil
}

// Client returns the client with this client_id, or nil.
func (c *Config) Client(clientID string) *Client {
	if c.indexed {
		return c.clientsByID[clientID]
	}
	for i := range c.Clients {
		if c.Clients[i].ClientID == clientID {
			return &c.Clients[i]
		}
	}
	return nil
}

// Server returns the MCP server with this id, or nil.
func (c *Config) Server(id string) *MCPServer {
	if c.indexed {
		return c.serversByID[id]
	}
	for i := range c.MCPServers {
		if c.MCPServers[i].ID == id {
			return &c.MCPServers[i]
		}
	}
	return nil
}

// ServerByAudience returns the MCP server that an audience value names, or
// nil. The audience may be the server's issuer or any of its aliases,
// matched as urimatch.Same does: up to RFC 3986 normalisation (scheme and
// host case, default port, percent-encoding) and one trailing "/" on
// either side, since clients disagree on whether to send the issuer with a
// trailing slash (docs/http.md, "URL matching").
func (c *Config) ServerByAudience(aud string) *MCPServer {
	if aud == "" {
		return nil
	}
	if c.indexed {
		return c.serversByAud[urimatch.Normal(aud)]
	}
	for i := range c.MCPServers {
		s := &c.MCPServers[i]
		if urimatch.Same(s.Issuer, aud) {
			return s
		}
		for _, a := range s.Aliases {
			if urimatch.Same(a, aud) {
				return s
			}
		}
	}
	return nil
}

// serverByResource returns the MCP server that accepts this resource, or
// nil.
func (c *Config) serverByResource(res string) *MCPServer {
	for i := range c.MCPServers {
		if c.MCPServers[i].resource(res) != "" {
			return &c.MCPServers[i]
		}
	}
	return nil
}

// resource returns the configured spelling of a resource the server accepts
// (matched as audiences are), or "".
func (s *MCPServer) resource(r string) string {
	for _, have := range s.Resources {
		if urimatch.Same(have, r) {
			return have
		}
	}
	return ""
}

// buildIndexes fills the lookup maps. Parse calls it after validation, so
// every key is unique.
func (c *Config) buildIndexes() {
	c.groupsByName = make(map[string]*Group, len(c.Groups))
	c.groupsByID = make(map[string]*Group, len(c.Groups))
	for i := range c.Groups {
		c.groupsByName[c.Groups[i].Name] = &c.Groups[i]
		c.groupsByID[c.Groups[i].SCIMID()] = &c.Groups[i]
	}
	c.usersBySub = make(map[string]*User, len(c.Users))
	c.userIndex = make(map[string]int, len(c.Users))
	for i := range c.Users {
		u := &c.Users[i]
		c.userIndex[u.Username] = i
		c.usersBySub[u.Sub] = u
	}
	c.bcryptCost = usersBcryptCost(c.Users)
	c.clientsByID = make(map[string]*Client, len(c.Clients))
	for i := range c.Clients {
		c.clientsByID[c.Clients[i].ClientID] = &c.Clients[i]
	}
	c.serversByID = make(map[string]*MCPServer, len(c.MCPServers))
	c.serversByAud = make(map[string]*MCPServer)
	c.rules = make(map[*MCPServer]*ruleNames, len(c.MCPServers))
	for i := range c.MCPServers {
		s := &c.MCPServers[i]
		c.serversByID[s.ID] = s
		n := &ruleNames{id: s.ID, access: make([]string, len(s.Access)), deny: make([]string, len(s.Deny))}
		for j := range n.access {
			n.access[j] = fmt.Sprintf("%s access[%d]", s.ID, j)
		}
		for j := range n.deny {
			n.deny[j] = fmt.Sprintf("%s deny[%d]", s.ID, j)
		}
		c.rules[s] = n
		for _, a := range append([]string{s.Issuer}, s.Aliases...) {
			for _, v := range urimatch.Keys(a) {
				c.serversByAud[v] = s
			}
		}
	}
	c.indexed = true
}
