package cimd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
)

// site is a web server publishing metadata documents, which counts the
// requests and connections it sees.
type site struct {
	*httptest.Server
	mu    sync.Mutex
	pages map[string]http.HandlerFunc
	hits  map[string]int
	open  atomic.Int64 // connections not yet closed
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{pages: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		h := s.pages[r.URL.Path]
		s.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *site) handle(path string, h http.HandlerFunc) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[path] = h
	return s.URL + path
}

// publish serves v as JSON at path, with the given Cache-Control: one
// field line per line of cacheControl.
func (s *site) publish(path string, v any, cacheControl string) string {
	return s.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if cacheControl != "" {
			for _, line := range strings.Split(cacheControl, "\n") {
				w.Header().Add("Cache-Control", line)
			}
		}
		_ = json.NewEncoder(w).Encode(v)
	})
}

func (s *site) requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *site) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.hits {
		n += h
	}
	return n
}

// waitClosed fails the test unless every connection the site accepted is
// closed soon: the resolver keeps none behind. Soon is 10 s, for a busy
// machine: a connection kept behind stays open for ever.
func (s *site) waitClosed(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); s.open.Load() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections left open", s.open.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// noGoroutineLeak fails the test if it ends with more goroutines than it
// began with, 10 s after its other cleanups (a busy machine's goroutines
// take a while to end; a leaked one never does). Register it first, so
// that it runs after the other cleanups.
func noGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		var now int
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if now = runtime.NumGoroutine(); now <= before {
				return
			}
		}
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines at the end, %d at the start:\n%s", now, before, buf[:runtime.Stack(buf, true)])
	})
}

func publicDoc(clientID string) map[string]any {
	return map[string]any{
		"client_id":                  clientID,
		"client_name":                "Test client",
		"redirect_uris":              []string{"http://127.0.0.1/callback"},
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code"},
	}
}

func keySet(t testing.TB) map[string]any {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	var set map[string]any
	_ = json.Unmarshal(raw, &set)
	return set
}

// fastResolver gives up on a fetch after 300ms: for the servers that
// never answer, whose refusal names that timeout. A fetch that a server
// answers must not race it: on a loaded 2-core machine a local round trip
// took longer than 300ms ("no answer within 300ms" for a document the test
// server had at hand), so those use patientResolver.
func fastResolver(cfg cimd.Config) *cimd.Resolver {
	return cimd.New(cfg, &cimd.Options{Timeout: 300 * time.Millisecond})
}

// patientResolver's timeout only guards against a hang.
func patientResolver(cfg cimd.Config) *cimd.Resolver {
	return cimd.New(cfg, &cimd.Options{Timeout: time.Minute})
}

// TestResolve_RefusesBadDocuments has one row per way a document or its
// server can be wrong.
func TestResolve_RefusesBadDocuments(t *testing.T) {
	noGoroutineLeak(t)
	s := newSite(t)
	r, fast := patientResolver(cimd.DefaultConfig()), fastResolver(cimd.DefaultConfig())
	doc := func(path string, edit func(map[string]any)) string {
		id := s.URL + path
		d := publicDoc(id)
		edit(d)
		return s.publish(path, d, "")
	}
	tests := []struct {
		name     string
		clientID string
		kind     error
		detail   string
		slow     bool // never answers: resolved with fast's 300ms
	}{
		{
			name: "not JSON",
			clientID: s.handle("/html", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html>hello</html>")
			}),
			kind: cimd.ErrFetch, detail: `Content-Type "text/html" is not application/json`,
		},
		{
			name: "JSON content type, not a JSON object",
			clientID: s.handle("/array", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `["a"]`)
			}),
			kind: cimd.ErrInvalidDocument, detail: "not a JSON object",
		},
		{
			name: "too big",
			clientID: s.handle("/big", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"client_name": %q}`, strings.Repeat("x", cimd.MaxDocumentBytes))
			}),
			kind: cimd.ErrFetch, detail: "larger than 5120 bytes",
		},
		{
			name: "slow",
			clientID: s.handle("/slow", func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-time.After(10 * time.Second):
				case <-r.Context().Done():
				}
			}),
			kind: cimd.ErrFetch, detail: "no answer within 300ms", slow: true,
		},
		{
			name: "slow body",
			clientID: s.handle("/slow-body", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"client_id": `)
				w.(http.Flusher).Flush()
				select {
				case <-time.After(10 * time.Second):
				case <-r.Context().Done():
				}
			}),
			kind: cimd.ErrFetch, detail: "within 300ms", slow: true,
		},
		{
			name: "redirecting",
			clientID: s.handle("/moved", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/public", http.StatusFound)
			}),
			kind: cimd.ErrFetch, detail: `HTTP 302 redirect to "/public"; redirects are not followed`,
		},
		{
			name:     "HTTP 404",
			clientID: s.URL + "/nowhere",
			kind:     cimd.ErrFetch, detail: "HTTP 404",
		},
		{
			name:     "client_id mismatch",
			clientID: doc("/mismatch", func(d map[string]any) { d["client_id"] = s.URL + "/other" }),
			kind:     cimd.ErrInvalidDocument, detail: "is not the URL it was fetched from",
		},
		{
			name:     "client_id differs by a trailing slash",
			clientID: doc("/slash", func(d map[string]any) { d["client_id"] = s.URL + "/slash/" }),
			kind:     cimd.ErrInvalidDocument, detail: "byte for byte",
		},
		{
			name:     "missing redirect_uris",
			clientID: doc("/no-redirects", func(d map[string]any) { delete(d, "redirect_uris") }),
			kind:     cimd.ErrInvalidDocument, detail: "redirect_uris is missing",
		},
		{
			name:     "relative redirect URI",
			clientID: doc("/relative-redirect", func(d map[string]any) { d["redirect_uris"] = []string{"/callback"} }),
			kind:     cimd.ErrInvalidDocument, detail: `redirect_uris has "/callback"`,
		},
		{
			name:     "redirect URI with a fragment",
			clientID: doc("/fragment-redirect", func(d map[string]any) { d["redirect_uris"] = []string{"https://app.example/cb#x"} }),
			kind:     cimd.ErrInvalidDocument, detail: `redirect_uris has "https://app.example/cb#x", which is not an absolute URI without a fragment`,
		},
		{
			// url.Parse leaves Fragment empty for a bare "#", yet the
			// redirect would carry it (RFC 6749 §3.1.2 forbids any).
			name:     "redirect URI with an empty fragment",
			clientID: doc("/empty-fragment-redirect", func(d map[string]any) { d["redirect_uris"] = []string{"http://127.0.0.1/callback#"} }),
			kind:     cimd.ErrInvalidDocument, detail: `redirect_uris has "http://127.0.0.1/callback#", which is not an absolute URI without a fragment`,
		},
		{
			name: "javascript: redirect_uri",
			clientID: doc("/script-redirect", func(d map[string]any) {
				d["redirect_uris"] = []string{"http://127.0.0.1/callback", "javascript:alert(1)"}
			}),
			kind: cimd.ErrInvalidDocument, detail: `redirect_uris has "javascript:alert(1)", whose scheme runs`,
		},
		{
			name: "client_id twice",
			clientID: s.handle("/twice", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"client_id": "https://other.example/client.json", "client_id": %q, "redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": "none"}`, s.URL+"/twice")
			}),
			kind: cimd.ErrInvalidDocument, detail: `has the key "client_id" twice`,
		},
		{
			// encoding/json reads "redirect_uri\u017f" (a long s) as
			// redirect_uris: the IdP would use the second list, a reader
			// of the document the first.
			name: "redirect_uris twice, once with a long s",
			clientID: s.handle("/twice-long-s", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"client_id": %q, "redirect_uris": ["http://127.0.0.1/callback"], "redirect_uri\u017f": ["https://evil.example/cb"], "token_endpoint_auth_method": "none"}`, s.URL+"/twice-long-s")
			}),
			kind: cimd.ErrInvalidDocument, detail: "twice",
		},
		{
			name:     "client_secret inside",
			clientID: doc("/secret", func(d map[string]any) { d["client_secret"] = "hunter2" }),
			kind:     cimd.ErrInvalidDocument, detail: "contains a client_secret",
		},
		{
			name:     "client_secret inside, in another case",
			clientID: doc("/secret-case", func(d map[string]any) { d["Client_Secret"] = "hunter2" }),
			kind:     cimd.ErrInvalidDocument, detail: "contains a client_secret",
		},
		{
			name:     "unsupported auth method",
			clientID: doc("/basic", func(d map[string]any) { d["token_endpoint_auth_method"] = "client_secret_basic" }),
			kind:     cimd.ErrInvalidDocument, detail: `token_endpoint_auth_method "client_secret_basic" is not supported`,
		},
		{
			name:     "auth method missing",
			clientID: doc("/no-method", func(d map[string]any) { delete(d, "token_endpoint_auth_method") }),
			kind:     cimd.ErrInvalidDocument, detail: "token_endpoint_auth_method is missing",
		},
		{
			name:     "private_key_jwt without keys",
			clientID: doc("/no-keys", func(d map[string]any) { d["token_endpoint_auth_method"] = "private_key_jwt" }),
			kind:     cimd.ErrInvalidDocument, detail: "add jwks or jwks_uri",
		},
		{
			name: "private_key_jwt with a symmetric key only",
			clientID: doc("/oct", func(d map[string]any) {
				d["token_endpoint_auth_method"] = "private_key_jwt"
				d["jwks"] = map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "c2VjcmV0"}}}
			}),
			kind: cimd.ErrInvalidDocument, detail: "no usable public signature key",
		},
		{
			name: "jwks and jwks_uri",
			clientID: doc("/both", func(d map[string]any) {
				d["token_endpoint_auth_method"] = "private_key_jwt"
				d["jwks"] = keySet(t)
				d["jwks_uri"] = s.URL + "/jwks.json"
			}),
			kind: cimd.ErrInvalidDocument, detail: "both jwks and jwks_uri",
		},
		{
			name: "jwks_uri 404",
			clientID: doc("/jwks-404", func(d map[string]any) {
				d["token_endpoint_auth_method"] = "private_key_jwt"
				d["jwks_uri"] = s.URL + "/missing-jwks.json"
			}),
			kind: cimd.ErrFetch, detail: "jwks_uri: GET " + s.URL + "/missing-jwks.json: HTTP 404",
		},
		{
			name: "jwks_uri outside the allow list",
			clientID: doc("/jwks-elsewhere", func(d map[string]any) {
				d["token_endpoint_auth_method"] = "private_key_jwt"
				d["jwks_uri"] = "http://203.0.113.7/jwks.json"
			}),
			kind: cimd.ErrInvalidDocument, detail: "matches no allowed pattern",
		},
		{
			name:     "URL with a fragment",
			clientID: s.URL + "/public#frag",
			kind:     cimd.ErrNotAllowed, detail: "fragment",
		},
		{
			name:     "URL with user info",
			clientID: strings.Replace(s.URL, "http://", "http://user:pw@", 1) + "/public",
			kind:     cimd.ErrNotAllowed, detail: "user name or password",
		},
		{
			name:     "URL with a dot segment",
			clientID: s.URL + "/a/../public",
			kind:     cimd.ErrNotAllowed, detail: `".." segment`,
		},
		{
			name:     "URL without a path",
			clientID: s.URL,
			kind:     cimd.ErrNotAllowed, detail: "no path",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := r
			if tt.slow {
				r = fast
			}
			for attempt := range 2 {
				before := s.total()
				c, err := r.Resolve(t.Context(), tt.clientID)
				var e *cimd.Error
				if !errors.As(err, &e) || !errors.Is(err, tt.kind) {
					t.Fatalf("Resolve = %+v, %v; want an *Error of kind %v", c, err, tt.kind)
				}
				if !strings.Contains(err.Error(), tt.detail) || !strings.Contains(err.Error(), tt.clientID) {
					t.Errorf("error %q does not name the URL and %q", err, tt.detail)
				}
				// A refused document is remembered for a while
				// (FailureCacheTTL): only the first attempt fetches. A URL
				// not allowed is never fetched.
				if fetched := s.total() > before; fetched != (tt.kind != cimd.ErrNotAllowed && attempt == 0) {
					t.Errorf("attempt %d: fetched = %v", attempt+1, fetched)
				}
			}
			s.waitClosed(t)
		})
	}
	if n := s.requests("/public"); n != 0 {
		t.Errorf("the redirect target was fetched %d times", n)
	}
}

// TestResolve_FetchesNothingOutsideTheAllowList: a URL that no pattern
// matches, or whose address only a pattern naming the host would allow,
// never reaches a server.
func TestResolve_FetchesNothingOutsideTheAllowList(t *testing.T) {
	noGoroutineLeak(t)
	s := newSite(t)
	id := s.URL + "/client.json"
	s.publish("/client.json", publicDoc(id), "")
	localhostID := strings.Replace(s.URL, "127.0.0.1", "localhost", 1) + "/client.json"
	tests := []struct {
		name     string
		allow    []string
		clientID string
		kind     error
		detail   string
	}{
		{"https only", []string{"https://*"}, id, cimd.ErrNotAllowed, "matches no allowed pattern (https://*)"},
		{"another host", []string{"http://127.0.0.2:*"}, id, cimd.ErrNotAllowed, "matches no allowed pattern"},
		{"empty list", []string{}, id, cimd.ErrNotAllowed, "matches no allowed pattern"},
		{"loopback behind a wildcard host", []string{"http://*"}, id, cimd.ErrFetch, "address 127.0.0.1 is a loopback address"},
		{"a name resolving to loopback", []string{"http://*"}, localhostID, cimd.ErrFetch, "is a loopback address"},
		{"private address behind a wildcard host", []string{"http://*"}, "http://10.1.2.3:8080/client.json", cimd.ErrFetch, "address 10.1.2.3 is a private address"},
		{"link-local address", []string{"http://*"}, "http://169.254.169.254/latest/client.json", cimd.ErrFetch, "a link-local address"},
		{"shared address space", []string{"http://*"}, "http://100.64.0.1/client.json", cimd.ErrFetch, "a private address"},
		{"IPv6 unique local", []string{"http://*"}, "http://[fd00::1]:8080/client.json", cimd.ErrFetch, "a private address"},
		{"unspecified", []string{"http://*"}, "http://0.0.0.0:8080/client.json", cimd.ErrFetch, "not a unicast address"},
		// IPv6 forms that carry an IPv4 address to a translator (NAT64,
		// RFC 6052; 6to4, RFC 3056) reach that IPv4 address.
		{"link-local address in NAT64 form", []string{"http://*"}, "http://[64:ff9b::a9fe:a9fe]/client.json", cimd.ErrFetch, "a link-local address"},
		{"private address in NAT64 form", []string{"http://*"}, "http://[64:ff9b::10.1.2.3]/client.json", cimd.ErrFetch, "a private address"},
		{"loopback in NAT64 form", []string{"http://*"}, "http://[64:ff9b::7f00:1]/client.json", cimd.ErrFetch, "loopback"},
		{"local-use NAT64 prefix", []string{"http://*"}, "http://[64:ff9b:1::a00:1]/client.json", cimd.ErrFetch, "a private address"},
		{"link-local address in 6to4 form", []string{"http://*"}, "http://[2002:a9fe:a9fe::1]/client.json", cimd.ErrFetch, "a link-local address"},
		// The deprecated forms are refused too: an IPv4-compatible
		// address (RFC 4291 §2.5.5.1) and an IPv4-translated one (SIIT,
		// RFC 2765) carry an IPv4 address, and site-local addresses
		// (RFC 3879) are a site's own. They were dialled.
		{"loopback in IPv4-compatible form", []string{"http://*"}, "http://[::127.0.0.1]/client.json", cimd.ErrFetch, "loopback"},
		{"link-local in IPv4-translated form", []string{"http://*"}, "http://[::ffff:0:a9fe:a9fe]/client.json", cimd.ErrFetch, "a link-local address"},
		{"IPv6 site-local", []string{"http://*"}, "http://[fec0::1]/client.json", cimd.ErrFetch, "a private address"},
		// Documentation ranges (RFC 5737, RFC 3849) are no public
		// address (RFC 6890: not globally reachable); networks that use
		// one, as a private range, were reached.
		{"TEST-NET-1", []string{"http://*"}, "http://192.0.2.1/client.json", cimd.ErrFetch, "a private address"},
		{"TEST-NET-2", []string{"http://*"}, "http://198.51.100.1/client.json", cimd.ErrFetch, "a private address"},
		{"TEST-NET-3", []string{"http://*"}, "http://203.0.113.1/client.json", cimd.ErrFetch, "a private address"},
		{"IPv6 documentation", []string{"http://*"}, "http://[2001:db8::1]/client.json", cimd.ErrFetch, "a private address"},
		{"IPv6 benchmarking", []string{"http://*"}, "http://[2001:2::1]/client.json", cimd.ErrFetch, "a private address"},
		{"IPv6 discard-only", []string{"http://*"}, "http://[100::1]/client.json", cimd.ErrFetch, "a private address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := patientResolver(cimd.Config{Enabled: true, Allow: tt.allow})
			_, err := r.Resolve(t.Context(), tt.clientID)
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.kind, tt.detail)
			}
			if n := s.total(); n != 0 {
				t.Fatalf("%d requests reached the server", n)
			}
		})
	}
	t.Run("disabled", func(t *testing.T) {
		r := patientResolver(cimd.Config{Enabled: false})
		if _, err := r.Resolve(t.Context(), id); !errors.Is(err, cimd.ErrDisabled) {
			t.Fatalf("err = %v, want ErrDisabled", err)
		}
		if n := s.total(); n != 0 {
			t.Fatalf("%d requests reached the server", n)
		}
	})
	s.waitClosed(t)
}

// TestResolve_AcceptsGoodDocuments covers both authentication methods and
// both ways of publishing keys.
func TestResolve_AcceptsGoodDocuments(t *testing.T) {
	noGoroutineLeak(t)
	s := newSite(t)
	r := patientResolver(cimd.DefaultConfig())
	jwksURL := s.publish("/jwks.json", keySet(t), "")
	doc := func(path string, edit func(map[string]any)) string {
		d := publicDoc(s.URL + path)
		edit(d)
		return s.publish(path, d, "")
	}
	tests := []struct {
		name     string
		clientID string
		method   string
		keys     int
	}{
		{"public client", doc("/public.json", func(map[string]any) {}), cimd.AuthNone, 0},
		{"inline jwks", doc("/inline.json", func(d map[string]any) {
			d["token_endpoint_auth_method"] = "private_key_jwt"
			d["jwks"] = keySet(t)
		}), cimd.AuthPrivateKeyJWT, 1},
		{"jwks_uri", doc("/remote.json", func(d map[string]any) {
			d["token_endpoint_auth_method"] = "private_key_jwt"
			d["jwks_uri"] = jwksURL
		}), cimd.AuthPrivateKeyJWT, 1},
		{"localhost name", strings.Replace(doc("/localhost.json", func(d map[string]any) {
			d["client_id"] = strings.Replace(s.URL, "127.0.0.1", "localhost", 1) + "/localhost.json"
		}), "127.0.0.1", "localhost", 1), cimd.AuthNone, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := r.Resolve(t.Context(), tt.clientID)
			if err != nil {
				t.Fatal(err)
			}
			if c.ClientID != tt.clientID || c.ClientName != "Test client" || len(c.RedirectURIs) != 1 ||
				c.TokenEndpointAuthMethod != tt.method || len(c.Keys) != tt.keys {
				t.Errorf("client %+v", c)
			}
			for _, k := range c.Keys {
				if !k.IsPublic() {
					t.Errorf("key %s is not public", k.KeyID)
				}
			}
		})
	}
	s.waitClosed(t)
}

// fakeClock is a settable clock for cache expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestResolve_CachesAsCacheControlSays checks the clamping of max-age to
// [1 min, 24 h], and that every Cache-Control field line counts (RFC 9110
// §5.3: they are one list).
func TestResolve_CachesAsCacheControlSays(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		cacheControl string
		fresh, stale time.Duration // still cached at fresh, refetched at stale
	}{
		{"", 59 * time.Second, 61 * time.Second},
		{"no-store", 59 * time.Second, 61 * time.Second},
		{"max-age=5", 59 * time.Second, 61 * time.Second},
		{"public, max-age=600", 599 * time.Second, 601 * time.Second},
		{"max-age=31536000", 23 * time.Hour, 24*time.Hour + time.Second},
		// A second field line is part of the list (RFC 9110 §5.3): its
		// no-store counts, as it would on the first line.
		{"max-age=86400\nno-store", 59 * time.Second, 61 * time.Second},
		{"public\nmax-age=600", 599 * time.Second, 601 * time.Second},
		// Beyond what any integer holds: the largest lifetime (RFC 9111
		// §1.2.2), not none.
		{"max-age=99999999999999999999", 23 * time.Hour, 24*time.Hour + time.Second},
		// Twice: the first (RFC 9111 §4.2.1), not the last.
		{"max-age=60, max-age=86400", 59 * time.Second, 61 * time.Second},
		// Not delta-seconds (1*DIGIT): no lifetime, so the least.
		{"max-age=+86400", 59 * time.Second, 61 * time.Second},
	}
	for i, tt := range tests {
		t.Run(tt.cacheControl, func(t *testing.T) {
			path := fmt.Sprintf("/cc%d.json", i)
			id := s.publish(path, publicDoc(s.URL+path), tt.cacheControl)
			clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
			r := cimd.New(cimd.DefaultConfig(), &cimd.Options{Now: clock.Now})
			resolve := func(wantRequests int, when string) {
				t.Helper()
				if _, err := r.Resolve(t.Context(), id); err != nil {
					t.Fatal(err)
				}
				if n := s.requests(path); n != wantRequests {
					t.Fatalf("%s: %d requests, want %d", when, n, wantRequests)
				}
			}
			resolve(1, "first")
			clock.Advance(tt.fresh)
			resolve(1, "while fresh")
			clock.Advance(tt.stale - tt.fresh)
			resolve(2, "once stale")
		})
	}
}

// TestResolve_CacheIsBounded: with room for two clients, a third evicts
// the one closest to expiry.
func TestResolve_CacheIsBounded(t *testing.T) {
	s := newSite(t)
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	r := cimd.New(cimd.DefaultConfig(), &cimd.Options{Now: clock.Now, CacheSize: 2})
	a := s.publish("/a.json", publicDoc(s.URL+"/a.json"), "max-age=300")
	b := s.publish("/b.json", publicDoc(s.URL+"/b.json"), "max-age=600")
	c := s.publish("/c.json", publicDoc(s.URL+"/c.json"), "max-age=600")
	for _, id := range []string{a, b, c, b, c, a} {
		if _, err := r.Resolve(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if got := [3]int{s.requests("/a.json"), s.requests("/b.json"), s.requests("/c.json")}; got != [3]int{2, 1, 1} {
		t.Errorf("requests a, b, c = %v, want [2 1 1]: a, the soonest to expire, is evicted for c", got)
	}
}

// TestResolve_SharesConcurrentFirstFetches: many resolutions of one URL
// cause one request, and a slow URL does not hold up another.
func TestResolve_SharesConcurrentFirstFetches(t *testing.T) {
	noGoroutineLeak(t)
	s := newSite(t)
	r := cimd.New(cimd.DefaultConfig(), nil)
	arrived, release := make(chan struct{}), make(chan struct{})
	slowID := s.URL + "/slow.json"
	s.handle("/slow.json", func(w http.ResponseWriter, _ *http.Request) {
		close(arrived)
		<-release
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(publicDoc(slowID))
	})
	fastID := s.publish("/fast.json", publicDoc(s.URL+"/fast.json"), "")

	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			c, err := r.Resolve(context.Background(), slowID)
			if err == nil && c.ClientID != slowID {
				err = fmt.Errorf("client %+v", c)
			}
			errs <- err
		})
	}
	<-arrived
	if _, err := r.Resolve(t.Context(), fastID); err != nil {
		t.Fatalf("another URL while the first is in flight: %v", err)
	}
	// A waiter whose own request ends stops waiting.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Resolve(ctx, slowID); !errors.Is(err, cimd.ErrFetch) || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("cancelled waiter: err = %v", err)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := s.requests("/slow.json"); got != 1 {
		t.Errorf("%d requests for one URL resolved %d times at once, want 1", got, n)
	}
	s.waitClosed(t)
}

func TestIsURL(t *testing.T) {
	for id, want := range map[string]bool{
		"https://app.example/client.json": true,
		"http://127.0.0.1:3000/c":         true,
		"mcp-client":                      false,
		"urn:example:client":              false,
		"HTTPS://app.example/c":           false,
	} {
		if got := cimd.IsURL(id); got != want {
			t.Errorf("IsURL(%q) = %v", id, got)
		}
	}
}

// BenchmarkResolve_Cached shows that a cached resolution costs a map
// lookup under a mutex, no I/O.
func BenchmarkResolve_Cached(b *testing.B) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	id := srv.URL + "/client.json"
	mux.HandleFunc("/client.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_ = json.NewEncoder(w).Encode(publicDoc(id))
	})
	r := cimd.New(cimd.DefaultConfig(), nil)
	ctx := context.Background()
	if _, err := r.Resolve(ctx, id); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Resolve(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestResolve_TimeoutBoundsTheDocumentAndItsKeysTogether: a document and
// its jwks_uri are one fetch, within one timeout. Each had its own, so a
// client whose two URLs each answered just in time held the request that
// named it for twice the timeout (10 s at the IdP's 5 s).
func TestResolve_TimeoutBoundsTheDocumentAndItsKeysTogether(t *testing.T) {
	s := newSite(t)
	// The document answers after half the timeout, its keys after three
	// quarters: each within the timeout, not both. The margins are wide:
	// with 400ms and 300ms each, a loaded machine's round trip could make
	// the document alone too late ("no answer within 400ms").
	const timeout = 2 * time.Second
	slow := func(after time.Duration, v any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(after):
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(v)
		}
	}
	jwksURI := s.handle("/keys.json", slow(timeout*3/4, keySet(t)))
	doc := publicDoc(s.URL + "/doc.json")
	doc["token_endpoint_auth_method"] = "private_key_jwt"
	doc["jwks_uri"] = jwksURI
	id := s.handle("/doc.json", slow(timeout/2, doc))
	r := cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: timeout})
	_, err := r.Resolve(t.Context(), id)
	if !errors.Is(err, cimd.ErrFetch) || !strings.Contains(err.Error(), "within") || !strings.Contains(err.Error(), "together") {
		t.Fatalf("Resolve = %v; want ErrFetch saying the two fetches together took longer than the timeout", err)
	}
}
