// Package cimd resolves OAuth Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document): a client whose client_id
// is an https URL publishes its metadata at that URL, and the authorization
// server fetches it instead of keeping a registration.
//
// A [Resolver] fetches only URLs its allow list matches, and fetches them
// defensively, since the URL comes from whoever sends the request: JSON
// only, at most 5 KiB, within 5 s, no redirects, no proxy, and no private,
// link-local or loopback addresses unless a pattern names the address itself
// (an IP literal host, or localhost for loopback: a DNS name admits only
// public addresses, or private and loopback ones when Config.AllowPrivate
// names it, never link-local ones; checked on the dialled address, so DNS
// cannot smuggle one in), and never the
// server itself (Options.Self, and the port the request reached it at), so
// that no fetch starts another. Good documents are
// cached as their Cache-Control says, between 1 minute and 24 hours, in a
// bounded cache; a URL that failed is answered with its error, unfetched,
// for FailureCacheTTL, in another bounded cache; concurrent first
// resolutions of one URL share one fetch. A cached client whose assertion
// no cached key verifies may be fetched again ([Resolver.Refetch]), once
// per RefetchInterval, for a key it rotated.
package cimd

import (
	"errors"
	"fmt"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
)

// DefaultAllow is the allow list of a [Config] without one: any https URL,
// and http on the loopback interface, where test clients live.
var DefaultAllow = urlpattern.DefaultAllow

// Limits of a fetch and of the cache (draft-ietf-oauth-client-id-metadata-document
// §6 leaves them to the authorization server).
const (
	MaxDocumentBytes = 5 << 10
	DefaultTimeout   = 5 * time.Second
	// MaxFetches bounds the fetches in progress in the whole process (a
	// document and its jwks_uri are one): each holds a socket for up to
	// DefaultTimeout, and the open-connection bound leaves a quarter of the
	// descriptors to everything else, 256 at the usual limit of 1024. A
	// flood of distinct client_id URLs of a slow host used to open one
	// socket each, until accept and every file open failed with "too many
	// open files". Beyond it a URL is refused at once with ErrBusy.
	MaxFetches       = 64
	MinCacheTTL      = time.Minute
	MaxCacheTTL      = 24 * time.Hour
	DefaultCacheSize = 1000
	// FailureCacheTTL is how long a URL whose document could not be
	// fetched or was refused is answered with that error again, unfetched:
	// without it every request naming the URL would cost a fetch (up to
	// DefaultTimeout), one outbound request per inbound one.
	FailureCacheTTL         = 30 * time.Second
	DefaultFailureCacheSize = 1000
	// RefetchInterval is the least time between two refetches of one
	// cached client's document (Resolver.Refetch): a client that rotated
	// its key is fetched again at its first assertion under the new key,
	// while assertions under keys that are nowhere (random kids) cost at
	// most one fetch per client in that time.
	RefetchInterval = 30 * time.Second
	// MaxFailureCacheBytes bounds the URLs and error texts of the
	// remembered failures together: a client_id URL is as long as the
	// request allows.
	MaxFailureCacheBytes = 4 << 20
)

// Config is the cimd section of the configuration (docs/configuration.md).
type Config struct {
	// Enabled turns resolution on; a disabled Resolver refuses every URL
	// client_id with ErrDisabled.
	Enabled bool
	// Allow are the URL patterns that may be fetched, client_id and
	// jwks_uri alike; "*" matches any run of characters. Nil means
	// DefaultAllow; an empty, non-nil list allows nothing.
	Allow []string
	// AllowPrivate are URL patterns, each naming a DNS name (no "*" in
	// its host), whose names may resolve to private (10.0.0.0/8,
	// 172.16.0.0/12, 192.168.0.0/16, fc00::/7) and loopback addresses:
	// the documents of an intranet host (https://clients.corp.example/*),
	// which Allow alone fetches from public addresses only. A URL is
	// fetched only when an Allow pattern matches it too; a link-local
	// address (169.254.0.0/16, fe80::/10), cloud metadata's
	// (fd00:ec2::254, 100.100.100.200) or one of the other non-public
	// ranges (the carrier-grade NAT space 100.64.0.0/10 among them) is
	// admitted only by an Allow pattern naming that address itself.
	AllowPrivate []string
	// TokenExchange lets resolved clients request ID-JAGs. The Resolver
	// does not read it; it travels with the rest of the section for the
	// IdP's token endpoint.
	TokenExchange bool
}

// DefaultConfig is the section's value when the configuration omits it:
// enabled, DefaultAllow, token exchange allowed.
func DefaultConfig() Config {
	return Config{Enabled: true, Allow: DefaultAllow, TokenExchange: true}
}

// Kinds of resolution failure; every error of Resolve wraps one of them
// in an *Error.
var (
	// ErrDisabled: the resolver is disabled and fetches nothing.
	ErrDisabled = errors.New("client ID metadata documents are disabled")
	// ErrNotAllowed: the URL is malformed or matches no allow pattern; it
	// was not fetched.
	ErrNotAllowed = errors.New("client_id URL not allowed")
	// ErrFetch: the document or its jwks_uri could not be fetched
	// (network, status, redirect, size, content type, timeout, address).
	ErrFetch = errors.New("fetching the client metadata document failed")
	// ErrInvalidDocument: the document was fetched but breaks a rule.
	ErrInvalidDocument = errors.New("invalid client metadata document")
	// ErrBusy: the process was fetching MaxFetches documents already, so
	// this one was not fetched (nor its failure remembered): try again.
	ErrBusy = errors.New("too many client metadata documents are being fetched")
)

// Error is why a client_id URL did not resolve. Callers answer it with
// invalid_client and Error() as the description (it names the URL and the
// problem); errors.Is tells the Kind.
type Error struct {
	ClientID string
	Kind     error // ErrDisabled, ErrNotAllowed, ErrFetch or ErrInvalidDocument
	Detail   string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("client_id %s: %v", e.ClientID, e.Kind)
	}
	return fmt.Sprintf("client_id %s: %v: %s", e.ClientID, e.Kind, e.Detail)
}

func (e *Error) Unwrap() error { return e.Kind }

// IsURL reports whether a client_id is a URL, and so names a metadata
// document rather than a registered client.
func IsURL(clientID string) bool { return urlpattern.IsURL(clientID) }

// patternHost returns the host a pattern names, or "" (urlpattern.Host).
func patternHost(pattern string) string { return urlpattern.Host(pattern) }
