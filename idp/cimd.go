package idp

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Clients identified by the URL of their Client ID Metadata Document
// (draft-ietf-oauth-client-id-metadata-document; docs/configuration.md,
// "cimd"): wherever the IdP looks a client up, a client_id that is a URL
// and no configured client is resolved by internal/cimd, and the document
// becomes a policy.Client for the rest of the request.

// cimdClients holds the resolver of the running configuration's cimd
// section. It is rebuilt, with an empty cache, when the section's enabled,
// allow or allow_private changes; token_exchange is read from the configuration of each
// request.
type cimdClients struct {
	mu       sync.Mutex // serialises load
	enabled  bool
	allow    []string
	private  []string // allow_private
	resolver atomic.Pointer[cimd.Resolver]
	// self returns this IdP's issuer and its other tenants': URLs on
	// their hosts and ports are the IdP itself, never fetched
	// (cimd.Options.Self).
	self func() []string
}

// load makes the resolver follow section.
func (c *cimdClients) load(section policy.CIMD) {
	c.mu.Lock()
	defer c.mu.Unlock()
	allow := section.Patterns()
	if c.resolver.Load() != nil && c.enabled == section.On() && slices.Equal(c.allow, allow) && slices.Equal(c.private, section.AllowPrivate) {
		return
	}
	c.enabled, c.allow, c.private = section.On(), slices.Clone(allow), slices.Clone(section.AllowPrivate)
	c.resolver.Store(cimd.New(cimd.Config{Enabled: c.enabled, Allow: c.allow, AllowPrivate: c.private, TokenExchange: section.Exchange()}, &cimd.Options{Self: c.self}))
}

// resolveCIMD returns the client the metadata document at id describes.
// The error is a *cimd.Error.
func (s *Server) resolveCIMD(ctx context.Context, cfg *policy.Config, id string) (*policy.Client, error) {
	dc, err := s.cimd.resolver.Load().Resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	return cimdPolicyClient(dc, cfg.CIMD.Exchange()), nil
}

// refetchCIMD fetches the metadata document of the client id again, for
// an assertion its cached keys do not verify (cimd.Resolver.Refetch; asked
// is when the request looked the client up): the client it describes now;
// nil when it was not fetched again or did not resolve; and the refusal
// when the fetch was refused by the bound on fetches (cimd.ErrBusy), no
// fault of the client's, which cimdRefusal answers 503.
func (s *Server) refetchCIMD(ctx context.Context, cfg *policy.Config, id string, asked time.Time) (*policy.Client, *oauthError) {
	dc, err := s.cimd.resolver.Load().Refetch(ctx, id, asked)
	if errors.Is(err, cimd.ErrBusy) {
		return nil, cimdRefusal(err)
	}
	if dc == nil {
		return nil, nil
	}
	return cimdPolicyClient(dc, cfg.CIMD.Exchange()), nil
}

// cimdPolicyClient is the policy view of a metadata document client: its
// keys become the JWK Set of private_key_jwt, and without keys it is a
// public client (token_endpoint_auth_method none).
func cimdPolicyClient(dc *cimd.Client, exchange bool) *policy.Client {
	c := &policy.Client{
		ClientID:      dc.ClientID,
		Name:          dc.ClientName,
		RedirectURIs:  dc.RedirectURIs,
		TokenExchange: exchange,
	}
	if len(dc.Keys) > 0 {
		keys := make([]any, len(dc.Keys))
		for i, k := range dc.Keys {
			keys[i] = k
		}
		c.JWKS = map[string]any{"keys": keys}
	}
	return c
}

// lookupClient is Server.client for a request: one the product
// registered, a configured one, or the metadata document client of a URL
// client_id. nil and no error: no such client.
func (s *Server) lookupClient(ctx context.Context, cfg *policy.Config, id string) (*policy.Client, error) {
	if c := s.client(cfg, id); c != nil || !cimd.IsURL(id) {
		return c, nil
	}
	return s.resolveCIMD(ctx, cfg, id)
}

// tokenClient is the configuration's client for the token exchange and
// introspection (the product's own clients never use them), or the
// metadata document client of a URL client_id.
func (s *Server) tokenClient(ctx context.Context, cfg *policy.Config, id string) (*policy.Client, error) {
	if c := cfg.Client(id); c != nil || !cimd.IsURL(id) {
		return c, nil
	}
	return s.resolveCIMD(ctx, cfg, id)
}

// cimdRefusal is the answer to a client_id URL that did not resolve:
// invalid_client, described by the *cimd.Error, which names the URL and
// the problem. A URL the configuration does not allow (or any, with cimd
// off) is audited as denied; a document that could not be fetched or is
// broken as an error. One not fetched because the process was fetching as
// many documents as it may (cimd.ErrBusy) is 503 temporarily_unavailable
// with Retry-After: the client did nothing wrong.
func cimdRefusal(err error) *oauthError {
	if errors.Is(err, cimd.ErrBusy) {
		e := errorf("temporarily_unavailable", http.StatusServiceUnavailable, "%v", err)
		e.RetryAfter = cimd.DefaultTimeout
		return e
	}
	e := invalidClient("%v", err)
	e.Denied = errors.Is(err, cimd.ErrDisabled) || errors.Is(err, cimd.ErrNotAllowed)
	return e
}

// auditAuthorizeRefusal records an authorization request refused before
// the login page without a redirect: an unknown client, a metadata
// document that did not resolve, a redirect_uri missing or not one of the
// client's, a bad max_age (until 2026-12-06 a metadata document client's
// alone).
func (s *Server) auditAuthorizeRefusal(r *http.Request, e *oauthError) {
	_, _ = s.audit.Append(audit.Event{
		Type:     audit.TypeLogin,
		Outcome:  outcomeOf(e),
		Error:    e.Code,
		ClientID: r.Form.Get("client_id"),
		Reason:   e.Description,
	})
}

// checkOPClient runs before op serves a code or refresh grant. A request
// ambiguous about its client (ambiguousClientAuth) is refused; a client
// assertion is verified here, as for the token exchange (aud the issuer or
// the token endpoint URL, keys from the configuration or the metadata
// document, jti not replayed), and asserted says so: op then takes the
// client as authenticated (serveWithOP). A URL client_id that is no
// configured client is resolved here, so that a document that does not
// resolve is refused with its reason. A client with keys alone that sent no assertion is asked for
// one, a public client that sent a secret is refused (secretOfPublic),
// and a configured confidential client, or an unknown one, is
// authenticated as for the token exchange, so that a refusal names what
// is wrong; public clients and the product's own are left to op. ev
// learns the client and, on a refusal, the outcome.
func (s *Server) checkOPClient(r *http.Request, form *tokenForm, ev *audit.Event) (asserted bool, e *oauthError) {
	cfg := s.Config()
	refuse := func(e *oauthError) (bool, *oauthError) {
		// Only on a refusal: for an assertion without client_id, it
		// parses the assertion again for its iss.
		ev.ClientID, ev.Outcome = clientIDFromRequest(r, form), outcomeOf(e)
		return false, e
	}
	if e := ambiguousClientAuth(r, form); e != nil {
		return refuse(e)
	}
	if form.Get("client_assertion") != "" {
		c, e := s.authenticateAssertion(r, cfg, form)
		if e != nil {
			return refuse(e)
		}
		ev.ClientID = c.ClientID
		return true, nil
	}
	id := clientIDFromRequest(r, form)
	c, err := s.lookupClient(r.Context(), cfg, id)
	if err != nil {
		return refuse(cimdRefusal(err))
	}
	// op would answer such a client "private_key_jwt not allowed for
	// this client", and take its code as redeemed.
	if c != nil && keysOnly(c) {
		return refuse(assertionMissing(id))
	}
	// op would take a public client's secret and ignore it.
	if c != nil {
		if e := secretOfPublic(r, form, c); e != nil {
			return refuse(e)
		}
	}
	// op takes the code before it authenticates the client, so a wrong
	// secret would use the code up (RFC 6749 section 4.1.3 authenticates
	// first), and it refuses a failed authentication as "invalid
	// client_id / client_secret" alone, where the token exchange's check
	// names what is wrong (unknown client, wrong secret, no secret). A
	// public client, and the product's own clients (the console), are
	// op's alone.
	if c == nil || !c.Public() && c == cfg.Client(id) {
		if _, e := s.authenticateClient(r, form); e != nil {
			return refuse(e)
		}
	}
	return false, nil
}

func outcomeOf(e *oauthError) string {
	if e.Denied {
		return audit.Denied
	}
	return audit.Error
}
