package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
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
)

// errUnknownKID means the IdP's key set, freshly fetched or recently enough,
// has no key with the assertion's kid.
var errUnknownKID = errors.New("kid not in the IdP JWKS")

// remoteKeySet caches the IdP's JSON Web Key Set (RFC 7517) and refetches it
// when an assertion names a kid it does not hold, which is how IdPs roll keys
// (OIDC Core §10.1.1), at most once per jwksMinRefetch.
type remoteKeySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	// mu guards the fields below and serialises fetches, so concurrent
	// verifications of a new kid cause one fetch, not one each.
	mu          sync.Mutex
	keys        []jose.JSONWebKey
	fetchedAt   time.Time // last successful fetch
	attemptedAt time.Time // last fetch, successful or not
}

// lookup returns the public keys that may have signed a JWS with the given
// kid; an empty kid matches every key. The error is errUnknownKID, or a fetch
// failure that says what went wrong with which URL.
func (s *remoteKeySet) lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	now := s.now()
	if s.fetchedAt.IsZero() || now.Sub(s.fetchedAt) > jwksMaxAge {
		if err := s.fetch(ctx, now); err != nil && s.fetchedAt.IsZero() {
			return nil, err
		}
		// A failed refresh of a stale set keeps the old keys: an IdP
		// outage should not fail tokens it signed before the outage.
	}
	if found := matchKID(s.keys, kid); len(found) > 0 {
		return found, nil
	}
	if now.Sub(s.attemptedAt) < jwksMinRefetch {
		return nil, errUnknownKID
	}
	if err := s.fetch(ctx, now); err != nil {
		return nil, err
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

// fetch replaces the cached keys with the IdP's current set. Called with mu held.
func (s *remoteKeySet) fetch(ctx context.Context, now time.Time) error {
	s.attemptedAt = now
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("IdP JWKS URL %q: %v", s.url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetching IdP JWKS: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching IdP JWKS %s: HTTP %d", s.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil {
		return fmt.Errorf("reading IdP JWKS %s: %v", s.url, err)
	}
	if len(body) > jwksMaxBytes {
		return fmt.Errorf("IdP JWKS %s is larger than %d bytes", s.url, jwksMaxBytes)
	}
	keys, err := parsePublicJWKS(body)
	if err != nil {
		return fmt.Errorf("IdP JWKS %s: %v", s.url, err)
	}
	s.keys = keys
	s.fetchedAt = now
	return nil
}

// parsePublicJWKS returns the signature keys of a JWK Set. Keys this package
// cannot use are skipped rather than failing the set, as RFC 7517 §5 asks:
// unknown kty, "use" other than "sig", or malformed members. Private members,
// should an IdP publish them, are dropped.
func parsePublicJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %v", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !k.Valid() {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		// Symmetric ("oct") keys have no public half and are never usable:
		// HMAC with a key the IdP publishes would let anyone sign.
		if pub := k.Public(); pub.IsPublic() {
			keys = append(keys, pub)
		}
	}
	return keys, nil
}
