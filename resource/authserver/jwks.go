package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/jwkset"
)

const (
	// jwksMinRefetch bounds how often an unknown kid may send us back to the
	// IdP: anyone can put any kid in an assertion, and we must not let them
	// turn the token endpoint into a request amplifier against the IdP.
	jwksMinRefetch = 5 * time.Second
	// jwksMaxAge is how long a fetched key set is trusted before the next
	// verification refreshes it, so that keys the IdP withdrew stop working.
	jwksMaxAge = 10 * time.Minute
	// jwksMaxBytes caps the JWKS document we are willing to read.
	jwksMaxBytes = 1 << 20
	// jwksFetchTimeout bounds one fetch, whatever the HTTP client's timeout.
	jwksFetchTimeout = 10 * time.Second
	// jwksMaxWaiting bounds the requests of one key set that wait for
	// its next fetch (remoteKeySet.lookup).
	jwksMaxWaiting = 16
)

// errUnknownKID means the IdP's key set, freshly fetched or recently enough,
// has no key with the assertion's kid.
var errUnknownKID = errors.New("kid not in the IdP JWKS")

// errTooManyWaiting means the kid is not in the IdP's key set, fetched
// within jwksMinRefetch, and jwksMaxWaiting requests wait for the next
// fetch already: a retry after it may succeed.
var errTooManyWaiting = fmt.Errorf("the kid is not in the IdP JWKS fetched less than %d seconds ago, and %d requests already wait for the next fetch; retry in %d seconds",
	int(jwksMinRefetch/time.Second), jwksMaxWaiting, int(jwksMinRefetch/time.Second))

// remoteKeySet caches a trusted IdP's JSON Web Key Set (RFC 7517) and refetches it
// when an assertion names a kid it does not hold, which is how IdPs roll keys
// (OIDC Core §10.1.1), or when it is older than jwksMaxAge; at most once per
// jwksMinRefetch either way, so that an IdP outage costs one fetch per
// jwksMinRefetch, and the Retry-After of the temporarily_unavailable it
// answers meanwhile (jwksMinRefetch) is when a retry can succeed. An
// unknown kid within jwksMinRefetch of the last fetch waits for the
// interval to end and for the one fetch it allows, which the kids waiting
// with it share: a key the IdP rotated in right after a fetch is accepted
// a few seconds late rather than refused, and made-up kids still cost one
// fetch per interval. At most jwksMaxWaiting wait so; one more is
// errTooManyWaiting, at once.
//
// Time passes for it on either clock (since): the demo's Config.Now is
// the IdP's clock, which an admin may move ahead, as if the time had
// passed, but also stop or move back, and the real time (Config.Wall)
// runs on then: a refetch paced on the IdP's clock alone never came.
type remoteKeySet struct {
	issuer    string
	client    *http.Client
	now, wall func() time.Time

	// mu guards the fields below and serialises fetches, so concurrent
	// verifications of a new kid cause one fetch, not one each.
	mu          sync.Mutex
	url         string // the JWKS URL, given or discovered
	keys        []jose.JSONWebKey
	fetchedAt   clockStamp // last successful fetch
	attemptedAt clockStamp // last fetch, successful or not
	attempts    uint64     // the fetches counted in attemptedAt
	lastErr     error      // how the last fetch failed; nil after a success
	waiting     int        // requests waiting for the next fetch, at most jwksMaxWaiting
}

// clockStamp is a moment on both clocks of a remoteKeySet.
type clockStamp struct{ now, wall time.Time }

func (s *remoteKeySet) stamp() clockStamp { return clockStamp{s.now(), s.wall()} }

// since returns how long ago at was, on the clock that moved further
// since; ok is false for a zero at (never).
func (s *remoteKeySet) since(at clockStamp) (d time.Duration, ok bool) {
	if at.now.IsZero() {
		return 0, false
	}
	return max(s.now().Sub(at.now), s.wall().Sub(at.wall)), true
}

// lookup returns the public keys that may have signed a JWS with the given
// kid; an empty kid matches every key. The error is errUnknownKID, or a fetch
// failure that says what went wrong with which URL.
func (s *remoteKeySet) lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if age, ok := s.since(s.fetchedAt); !ok || age > jwksMaxAge {
		// Paced as the refetch on an unknown kid is: in an IdP outage,
		// one fetch per jwksMinRefetch, not one per token request, each
		// waiting for the IdP.
		if ago, ok := s.since(s.attemptedAt); !ok || ago >= jwksMinRefetch {
			s.lastErr = s.fetch(ctx)
		}
		if s.fetchedAt.now.IsZero() {
			return nil, s.lastErr
		}
		// A failed refresh of a stale set keeps the old keys: an IdP
		// outage should not fail tokens it signed before the outage.
	}
	if found := matchKID(s.keys, kid); len(found) > 0 {
		return found, nil
	}
	if ago, _ := s.since(s.attemptedAt); ago < jwksMinRefetch {
		// A waiting request holds its connection, and anyone may send
		// made-up kids (the events endpoint authenticates no client):
		// past jwksMaxWaiting, one is answered at once.
		if s.waiting >= jwksMaxWaiting {
			return nil, errTooManyWaiting
		}
		// Once: a fetch that another request made meanwhile is the one
		// this request waited for.
		attempts := s.attempts
		s.waiting++
		s.mu.Unlock()
		timer := time.NewTimer(jwksMinRefetch - max(ago, 0))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
		}
		s.mu.Lock()
		s.waiting--
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if s.attempts != attempts {
			if found := matchKID(s.keys, kid); len(found) > 0 {
				return found, nil
			}
			if s.lastErr != nil {
				return nil, s.lastErr
			}
			return nil, errUnknownKID
		}
	}
	if s.lastErr = s.fetch(ctx); s.lastErr != nil {
		return nil, s.lastErr
	}
	if found := matchKID(s.keys, kid); len(found) > 0 {
		return found, nil
	}
	return nil, errUnknownKID
}

func matchKID(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	var found []jose.JSONWebKey
	for _, k := range keys {
		if kid == "" || k.KeyID == kid {
			found = append(found, k)
		}
	}
	return found
}

// fetch replaces the cached keys with the IdP's current set, discovering
// the JWKS URL first when it was not given. Called with mu held. The
// attempt counts from when it ended: an IdP that took longer than
// jwksMinRefetch to fail is not asked again by each request that queued
// on mu meanwhile. A fetch cut short because the request that made it
// went away does not count as an attempt: it says nothing about the IdP.
func (s *remoteKeySet) fetch(parent context.Context) (err error) {
	started := s.stamp()
	defer func() {
		if err == nil || parent.Err() == nil {
			s.attemptedAt = s.stamp()
			s.attempts++
		}
	}()
	ctx, cancel := context.WithTimeout(parent, jwksFetchTimeout)
	defer cancel()
	if s.url == "" {
		u, err := s.discover(ctx)
		if err != nil {
			return err
		}
		s.url = u
	}
	body, err := s.get(ctx, s.url, "IdP JWKS")
	if err != nil {
		return err
	}
	keys, _, err := jwkset.Public(body)
	if err != nil {
		return fmt.Errorf("IdP JWKS %s: %v", s.url, err)
	}
	s.keys = keys
	s.fetchedAt = started
	return nil
}

// discover returns the jwks_uri of the IdP's discovery document: OpenID
// Connect Discovery §4 first, then RFC 8414 §3.1, whose issuer must be the
// IdP's (OpenID Connect Discovery §4.3, RFC 8414 §3.3).
func (s *remoteKeySet) discover(ctx context.Context) (string, error) {
	var errs []error
	for _, u := range discoveryURLs(s.issuer) {
		body, err := s.get(ctx, u, "IdP discovery document")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &meta); err != nil {
			return "", fmt.Errorf("IdP discovery document %s: %v", u, err)
		}
		if meta.Issuer != s.issuer {
			return "", fmt.Errorf("IdP discovery document %s: issuer %q is not %q", u, meta.Issuer, s.issuer)
		}
		if meta.JWKSURI == "" {
			return "", fmt.Errorf("IdP discovery document %s has no jwks_uri", u)
		}
		return meta.JWKSURI, nil
	}
	return "", errors.Join(errs...)
}

// discoveryURLs are the well-known URLs of an issuer's metadata.
func discoveryURLs(issuer string) []string {
	out := []string{strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"}
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		out = append(out, u.Scheme+"://"+u.Host+"/.well-known/oauth-authorization-server"+strings.TrimSuffix(u.Path, "/"))
	}
	return out
}

// get fetches a JSON document of at most jwksMaxBytes.
func (s *remoteKeySet) get(ctx context.Context, u, what string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s URL %q: %v", what, u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s %s: HTTP %d", what, u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %v", what, u, err)
	}
	if len(body) > jwksMaxBytes {
		return nil, fmt.Errorf("%s %s is larger than %d bytes", what, u, jwksMaxBytes)
	}
	return body, nil
}
