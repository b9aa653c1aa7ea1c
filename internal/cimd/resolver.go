package cimd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
	"github.com/xaa-idp/xaa-idp/internal/expiry"
)

// Options tune a Resolver beyond its Config; the zero value is the
// production setting.
type Options struct {
	// Timeout bounds one fetch, connection to last byte; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// CacheSize bounds the number of cached clients; 0 means
	// DefaultCacheSize.
	CacheSize int
	// FailureCacheSize bounds the number of URLs whose failure is
	// remembered (FailureCacheTTL); 0 means DefaultFailureCacheSize.
	FailureCacheSize int
	// Now is the clock of cache expiry; nil means time.Now.
	Now func() time.Time
	// Self returns the URLs of the server that resolves (its issuer and
	// its tenants' issuers): a URL on the host and port of one of them is
	// this server itself, and is refused unfetched. nil means none; the
	// port a request reached the server at (http.LocalAddrContextKey) is
	// refused either way.
	Self func() []string
}

// Resolver resolves client_id URLs to clients. It is safe for concurrent
// use.
type Resolver struct {
	cfg     Config
	timeout time.Duration
	now     func() time.Time
	self    func() []string
	client  *http.Client
	dialer  *net.Dialer

	mu       sync.Mutex
	cache    *boundedCache
	failures *boundedCache
	inflight map[string]*call
}

// fetches holds a place for each fetch in progress in the process
// (MaxFetches).
var fetches = make(chan struct{}, MaxFetches)

// LimitFetches makes the bound on fetches in progress n, and returns the
// function that puts back the previous one: for tests, which fill a small
// bound. Call it while no fetch is in progress.
func LimitFetches(n int) (restore func()) {
	old := fetches
	fetches = make(chan struct{}, n)
	return func() { fetches = old }
}

// entry is a cached client, or the error of a URL that did not resolve,
// and when it goes stale; fetched is when its document was fetched, and
// refetched when Refetch last fetched it, zero if never.
type entry struct {
	client    *Client
	err       error
	expires   time.Time
	fetched   time.Time
	refetched time.Time
}

// call is one fetch in progress, shared by everyone resolving its URL.
type call struct {
	done   chan struct{}
	client *Client
	err    error
}

// New returns a Resolver for cfg; opts may be nil.
func New(cfg Config, opts *Options) *Resolver {
	if opts == nil {
		opts = &Options{}
	}
	if cfg.Allow == nil {
		cfg.Allow = DefaultAllow
	}
	cfg.Allow = slices.Clone(cfg.Allow)
	r := &Resolver{
		cfg:      cfg,
		timeout:  opts.Timeout,
		now:      opts.Now,
		self:     opts.Self,
		cache:    newBoundedCache(orDefault(opts.CacheSize, DefaultCacheSize), 0),
		failures: newBoundedCache(orDefault(opts.FailureCacheSize, DefaultFailureCacheSize), MaxFailureCacheBytes),
		inflight: map[string]*call{},
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.now == nil {
		r.now = time.Now
	}
	dialer := &net.Dialer{Timeout: r.timeout, ControlContext: checkDialledAddress}
	r.dialer = dialer
	r.client = &http.Client{
		Transport: &http.Transport{
			// No proxy: the address check must see the server's address,
			// not the proxy's.
			Proxy:                  nil,
			DialContext:            dialer.DialContext,
			TLSHandshakeTimeout:    r.timeout,
			ResponseHeaderTimeout:  r.timeout,
			MaxResponseHeaderBytes: 16 << 10,
			// Fetches are rare (cached) and to arbitrary hosts: keep no
			// idle connections behind.
			DisableKeepAlives: true,
		},
		// §6: redirects are not followed; the response is refused.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       r.timeout,
	}
	return r
}

// Resolve returns the client whose metadata document is at clientID, from
// the cache or fetched now. The error is an *Error that says what was wrong
// with which URL; a URL fetched in vain gets the same error, unfetched, for
// FailureCacheTTL.
func (r *Resolver) Resolve(ctx context.Context, clientID string) (*Client, error) {
	if !r.cfg.Enabled {
		return nil, &Error{ClientID: clientID, Kind: ErrDisabled, Detail: "use a registered client_id"}
	}
	// Only permitted URLs are ever cached, so a hit needs no other check.
	r.mu.Lock()
	if e, ok := r.cache.get(clientID, r.now()); ok {
		r.mu.Unlock()
		return e.client, nil
	}
	r.mu.Unlock()
	if _, err := r.permit(ctx, clientID); err != nil {
		return nil, &Error{ClientID: clientID, Kind: ErrNotAllowed, Detail: err.Error()}
	}

	r.mu.Lock()
	if e, ok := r.failures.get(clientID, r.now()); ok {
		r.mu.Unlock()
		return nil, e.err
	}
	c, waiting := r.inflight[clientID]
	if !waiting {
		c = &call{done: make(chan struct{})}
		r.inflight[clientID] = c
	}
	r.mu.Unlock()

	if waiting {
		// Someone else is fetching this URL: wait for their answer, or
		// give up when our own request does.
		select {
		case <-c.done:
			return c.client, c.err
		case <-ctx.Done():
			return nil, &Error{ClientID: clientID, Kind: ErrFetch, Detail: ctx.Err().Error()}
		}
	}

	// The fetch outlives a cancelled first caller, for the sake of the
	// others waiting on it; the timeout still bounds it.
	client, ttl, err := r.fetchClient(context.WithoutCancel(ctx), clientID)
	if e, ok := err.(*Error); ok && e.Kind != ErrBusy {
		// Said, so that whoever fixes the document knows why it still
		// fails for a while.
		e.Detail += fmt.Sprintf(" (this answer stands for %s, then the URL is fetched again)", FailureCacheTTL)
	}
	r.mu.Lock()
	delete(r.inflight, clientID)
	if err == nil {
		r.cache.put(clientID, entry{client: client, expires: r.now().Add(ttl), fetched: r.now()}, r.now())
	} else if !errors.Is(err, ErrBusy) {
		r.failures.put(clientID, entry{err: err, expires: r.now().Add(FailureCacheTTL)}, r.now())
	}
	r.mu.Unlock()
	c.client, c.err = client, err
	close(c.done)
	return client, err
}

// Refetch fetches the document of the cached client clientID again (and
// its jwks_uri), for a client assertion that none of its cached keys
// verifies: the client may have rotated its key since the document was
// cached. asked is when the caller began to resolve the client it found
// wanting: a document fetched since (for that very request, say) is as
// new as a refetch would get, and is not fetched again. A client's
// document is refetched at most once per RefetchInterval; concurrent
// callers share the fetch. It returns the client the new document
// describes, now cached in place of the old one; nil and no error when
// clientID is not cached, was fetched since asked or refetched less than
// RefetchInterval ago; nil and the *Error when its document no longer
// resolves (the cached client then stays until it expires, as a key set
// cache keeps its keys when the server that publishes them fails). A
// fetch refused by MaxFetches (ErrBusy) does not count as the client's
// refetch: the next assertion may fetch at once.
func (r *Resolver) Refetch(ctx context.Context, clientID string, asked time.Time) (*Client, error) {
	r.mu.Lock()
	e, ok := r.cache.get(clientID, r.now())
	if c, waiting := r.inflight[clientID]; ok && waiting {
		r.mu.Unlock()
		select {
		case <-c.done:
			return c.client, c.err
		case <-ctx.Done():
			return nil, nil
		}
	}
	if !ok || !e.fetched.Before(asked) || (!e.refetched.IsZero() && r.now().Before(e.refetched.Add(RefetchInterval))) {
		r.mu.Unlock()
		return nil, nil
	}
	before := e.refetched
	e.refetched = r.now()
	r.cache.entries[clientID] = e // same expiry and cost: byExp stays right
	c := &call{done: make(chan struct{})}
	r.inflight[clientID] = c
	r.mu.Unlock()

	client, ttl, err := r.fetchClient(context.WithoutCancel(ctx), clientID)
	r.mu.Lock()
	delete(r.inflight, clientID)
	if err == nil {
		r.cache.put(clientID, entry{client: client, expires: r.now().Add(ttl), fetched: r.now(), refetched: e.refetched}, r.now())
	} else if errors.Is(err, ErrBusy) {
		// Not fetched: the client's next assertion may try again.
		if cur, ok := r.cache.entries[clientID]; ok && cur.refetched.Equal(e.refetched) {
			cur.refetched = before
			r.cache.entries[clientID] = cur
		}
	}
	r.mu.Unlock()
	c.client, c.err = client, err
	close(c.done)
	if err != nil {
		return nil, err
	}
	return client, nil
}

// boundedCache holds entries by URL, at most size of them and, when
// maxBytes is set, at most maxBytes of URLs and error texts in all (a
// failing URL is the attacker's choice, as long as a form allows). Called
// with the Resolver's mu held.
type boundedCache struct {
	entries        map[string]entry
	size, maxBytes int
	bytes          int
	// byExp orders the URLs by expiry (a min-heap), so that a put into
	// the full cache finds the expired entries and the soonest without a
	// scan of entries for each: 20 µs under the Resolver's lock for each
	// put into a full cache of 1000 (BenchmarkBoundedCache_PutFull), a
	// scan per entry dropped for a large failure. It is lazy: remove and
	// a put over a URL leave its old item, dropped when it reaches the
	// top; put rebuilds it from entries once it holds more than
	// 2*len(entries)+minRebuild items.
	byExp expiry.Heap[string]
	// peak is the most entries have been since the last shrink: a Go
	// map keeps the table it grew to when entries are deleted, so sweep
	// copies it into a smaller one once it holds a quarter of that.
	peak int
}

// minRebuild is how many stale items byExp may hold beyond twice the
// entries.
const minRebuild = 64

func newBoundedCache(size, maxBytes int) *boundedCache {
	return &boundedCache{entries: map[string]entry{}, size: size, maxBytes: maxBytes}
}

// orDefault is n, or def when n is not positive.
func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// cost is what an entry counts against maxBytes.
func cost(clientID string, e entry) int {
	if e.err == nil {
		return len(clientID)
	}
	return len(clientID) + len(e.err.Error())
}

// get returns the live entry of clientID, dropping a stale one.
func (c *boundedCache) get(clientID string, now time.Time) (entry, bool) {
	e, ok := c.entries[clientID]
	if ok && !now.Before(e.expires) {
		c.remove(clientID)
		ok = false
	}
	return e, ok
}

func (c *boundedCache) remove(clientID string) {
	if e, ok := c.entries[clientID]; ok {
		c.bytes -= cost(clientID, e)
		delete(c.entries, clientID)
	}
}

// put stores e, making room when the cache is full: expired entries
// first, then the ones closest to expiry. An entry larger than maxBytes
// alone is not stored.
func (c *boundedCache) put(clientID string, e entry, now time.Time) {
	c.remove(clientID)
	n := cost(clientID, e)
	if c.maxBytes > 0 && n > c.maxBytes {
		return
	}
	full := func() bool {
		return len(c.entries) >= c.size || (c.maxBytes > 0 && c.bytes+n > c.maxBytes)
	}
	for full() {
		// The expired entries are the top: they go before any live one.
		it, ok := c.liveTop()
		if !ok {
			break
		}
		c.byExp.Pop()
		c.remove(it.Key)
	}
	c.entries[clientID] = e
	c.bytes += n
	c.peak = max(c.peak, len(c.entries))
	c.byExp.Push(e.expires, clientID)
	if len(c.byExp) > 2*len(c.entries)+minRebuild {
		c.byExp.Rebuild(c.expiries(), false)
	}
}

// sweep drops the entries expired at now and, once a burst has passed
// (a quarter of a peak of at least minRebuild entries left), gives back
// the table and the order of expiry the burst grew.
func (c *boundedCache) sweep(now time.Time) {
	for {
		it, ok := c.liveTop()
		if !ok || now.Before(it.At) {
			break
		}
		c.byExp.Pop()
		c.remove(it.Key)
	}
	if c.peak < minRebuild || len(c.entries) > c.peak/4 {
		return
	}
	entries := make(map[string]entry, len(c.entries))
	for id, e := range c.entries {
		entries[id] = e
	}
	c.entries, c.peak = entries, len(entries)
	c.byExp.Rebuild(c.expiries(), true)
}

// expiries yields each cached entry's key and expiry, for byExp.Rebuild.
func (c *boundedCache) expiries() iter.Seq2[string, time.Time] {
	return func(yield func(string, time.Time) bool) {
		for id, e := range c.entries {
			if !yield(id, e.expires) {
				return
			}
		}
	}
}

// liveTop drops the stale items from the top of byExp and returns the one
// left there: the entry closest to expiry. An item is stale once entries
// holds its URL no longer or with another expiry.
func (c *boundedCache) liveTop() (expiry.Item[string], bool) {
	for {
		it, ok := c.byExp.Top()
		if !ok {
			return it, false
		}
		if e, ok := c.entries[it.Key]; ok && e.expires.Equal(it.At) {
			return it, true
		}
		c.byExp.Pop()
	}
}

// fetchClient fetches and checks the document at clientID and, for
// private_key_jwt with jwks_uri, its keys, both within the timeout. It
// returns how long the client may be cached.
func (r *Resolver) fetchClient(ctx context.Context, clientID string) (*Client, time.Duration, error) {
	places := fetches
	select {
	case places <- struct{}{}:
		defer func() { <-places }()
	default:
		return nil, 0, &Error{ClientID: clientID, Kind: ErrBusy, Detail: fmt.Sprintf("this server is fetching %d documents already, as many as it fetches at once; try again shortly", cap(places))}
	}
	fail := func(kind error, format string, args ...any) (*Client, time.Duration, error) {
		return nil, 0, &Error{ClientID: clientID, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	}
	// One timeout for the document and its jwks_uri: the request that
	// names the client waits for both.
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	body, ttl, err := r.get(ctx, clientID)
	if err != nil {
		return fail(ErrFetch, "%v", err)
	}
	client, err := ParseDocument(clientID, body)
	if err != nil {
		return nil, 0, err
	}
	if client.JWKSURI == "" {
		return client, ttl, nil
	}
	if _, err := r.permit(ctx, client.JWKSURI); err != nil {
		return fail(ErrInvalidDocument, "jwks_uri %s: %v", client.JWKSURI, err)
	}
	set, jwksTTL, err := r.get(ctx, client.JWKSURI)
	if err != nil && ctx.Err() != nil {
		return fail(ErrFetch, "jwks_uri: %v (the document and its jwks_uri are fetched within %s together)", err, r.timeout)
	}
	if err != nil {
		return fail(ErrFetch, "jwks_uri: %v", err)
	}
	if client.Keys, err = ParseKeys(set); err != nil {
		return fail(ErrInvalidDocument, "jwks_uri %s: %v", client.JWKSURI, err)
	}
	return client, min(ttl, jwksTTL), nil
}

// get fetches one JSON document under the rules of §6 and returns it with
// its cache lifetime.
func (r *Resolver) get(ctx context.Context, rawURL string) ([]byte, time.Duration, error) {
	policy, err := r.permit(ctx, rawURL)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, policyKey{}, policy), r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %v", rawURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		var refused *addressError
		if errors.As(err, &refused) {
			return nil, 0, fmt.Errorf("GET %s: %v", rawURL, refused)
		}
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return nil, 0, fmt.Errorf("GET %s: no answer within %s", rawURL, r.timeout)
		}
		// net's words name the IdP's own DNS server ("lookup h on
		// 10.0.0.53:53"), which a client has no business learning.
		var dns *net.DNSError
		if errors.As(err, &dns) {
			if dns.IsNotFound {
				return nil, 0, fmt.Errorf("GET %s: the host %s does not resolve (no such host)", rawURL, dns.Name)
			}
			return nil, 0, fmt.Errorf("GET %s: the host %s could not be resolved (the DNS lookup failed)", rawURL, dns.Name)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once
		}
		return nil, 0, fmt.Errorf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, 0, fmt.Errorf("GET %s: HTTP %d redirect to %q; redirects are not followed, publish the document at the client_id URL itself", rawURL, resp.StatusCode, resp.Header.Get("Location"))
	case resp.StatusCode != http.StatusOK:
		return nil, 0, fmt.Errorf("GET %s: HTTP %d", rawURL, resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, 0, fmt.Errorf("GET %s: Content-Type %q is not application/json", rawURL, ct)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentBytes+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return nil, 0, fmt.Errorf("GET %s: the body did not arrive within %s", rawURL, r.timeout)
		}
		return nil, 0, fmt.Errorf("GET %s: reading the body: %v", rawURL, err)
	}
	if len(body) > MaxDocumentBytes {
		return nil, 0, fmt.Errorf("GET %s: the document is larger than %d bytes", rawURL, MaxDocumentBytes)
	}
	return body, cacheTTL(resp.Header), nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// cacheTTL is the response's Cache-Control max-age (RFC 9111 §5.2.2.1)
// clamped to [MinCacheTTL, MaxCacheTTL]; no-store, no-cache and an absent
// or malformed max-age count as zero, so the minimum. Every field line
// counts (RFC 9110 §5.3: they are one list); of two max-age the first
// does (RFC 9111 §4.2.1); one too large for an integer is as large as
// any (§1.2.2).
func cacheTTL(h http.Header) time.Duration {
	ttl, seen := time.Duration(0), false
	for _, d := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return MinCacheTTL
		case "max-age":
			if seen {
				continue
			}
			seen = true
			value = strings.Trim(value, `"`)
			if value == "" || strings.Trim(value, "0123456789") != "" {
				continue // not delta-seconds (1*DIGIT)
			}
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil { // only ErrRange is left: more digits than int64 holds
				n = math.MaxInt64
			}
			ttl = time.Duration(min(n, int64(MaxCacheTTL/time.Second))) * time.Second
		}
	}
	return min(max(ttl, MinCacheTTL), MaxCacheTTL)
}

// addressPolicy is which non-public addresses a fetch may dial.
type addressPolicy struct {
	loopback bool       // a pattern names the host, and it is localhost (RFC 6761 §6.3)
	named    netip.Addr // a pattern names the host, and it is this IP address
	private  bool       // an AllowPrivate pattern names the host, a DNS name
	// self is the address the request being served reached this server
	// at: that port on an address of this machine is the server itself.
	self netip.AddrPort
}

// policyKey carries a fetch's addressPolicy to the dialer.
type policyKey struct{}

// permit checks that rawURL is a well-formed client_id URL matching an
// allow pattern and not this server itself, and returns the addresses it
// may be fetched from.
func (r *Resolver) permit(ctx context.Context, rawURL string) (addressPolicy, error) {
	var p addressPolicy
	if err := urlpattern.Check(rawURL); err != nil {
		return p, err
	}
	u, _ := url.Parse(rawURL)
	host := strings.ToLower(u.Hostname())
	p.self = localAddr(ctx)
	if why := r.ownURL(p.self, u); why != "" {
		return p, fmt.Errorf("the URL is this server itself (%s): a metadata document is never one of this server's own URLs, which are not fetched (each such fetch could start another)", why)
	}
	matched := false
	for _, pat := range r.cfg.Allow {
		if !urlpattern.Match(pat, rawURL) {
			continue
		}
		matched = true
		if named := patternHost(pat); named == host {
			// A pattern admits a non-public address only when it names
			// it: an IP literal that address, localhost the loopback
			// ones. A DNS name admits only the public addresses it
			// resolves to: whoever controls partner.example's DNS must
			// not reach 127.0.0.1 or 169.254.169.254 through
			// "https://partner.example/*", a narrowing of the list.
			if a, err := netip.ParseAddr(host); err == nil {
				p.named = a.Unmap()
			} else if loopbackName(host) {
				p.loopback = true
			}
		}
	}
	if !matched {
		return p, urlpattern.Refusal(r.cfg.Allow, rawURL)
	}
	for _, pat := range r.cfg.AllowPrivate {
		// The administrator's word that this name is theirs: its DNS is
		// trusted to point at the intranet (not at link-local addresses,
		// checkDialledAddress).
		if named := patternHost(pat); named == host && urlpattern.Match(pat, rawURL) {
			p.private = true
		}
	}
	return p, nil
}

// addressError is a dial refused because of the address it would reach.
type addressError struct {
	addr   netip.Addr
	reason string
	self   bool // the address is this server's own
	// linkLocal: the address is link-local, or AWS's IPv6 metadata one,
	// which no DNS name reaches (AllowPrivate included).
	linkLocal bool
	// privateName: an AllowPrivate pattern names the host, and the
	// address is in a non-public range other than a private or loopback
	// one.
	privateName bool
}

func (e *addressError) Error() string {
	if e.self {
		return fmt.Sprintf("address %s is %s", e.addr, e.reason)
	}
	if e.linkLocal {
		return fmt.Sprintf("address %s is %s, where cloud metadata is served; a DNS name never reaches one: to fetch from this address, make it the URL's host and name it in a cimd.allow pattern", e.addr, e.reason)
	}
	if e.privateName {
		return fmt.Sprintf("address %s is %s; cimd.allow_private admits private (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7) and loopback addresses alone: to fetch from this one, make the address the URL's host and name it in a cimd.allow pattern", e.addr, e.reason)
	}
	return fmt.Sprintf("address %s is %s; an allow pattern naming a DNS name admits only public addresses: to fetch from this one, name the host in cimd.allow_private, or make the address the URL's host and name it in an allow pattern", e.addr, e.reason)
}

// localAddr is the address the request of ctx reached this server at, if
// ctx is a request's (http.LocalAddrContextKey).
func localAddr(ctx context.Context) netip.AddrPort {
	a, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return netip.AddrPort{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// ownURL says why u is this server itself, or "": its host and port are
// those of one of r.self's URLs (a loopback spelling is any other), or
// u's port is local's and its host an address of this machine.
func (r *Resolver) ownURL(local netip.AddrPort, u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), urlPort(u)
	if r.self != nil {
		for _, s := range r.self() {
			su, err := url.Parse(s)
			if err != nil || su.Host == "" || urlPort(su) != port {
				continue
			}
			if sh := strings.ToLower(su.Hostname()); sh == host || loopbackName(sh) && loopbackName(host) {
				return "the host and port of its issuer " + s
			}
		}
	}
	if !local.IsValid() || strconv.Itoa(int(local.Port())) != port {
		return ""
	}
	if a, err := netip.ParseAddr(host); loopbackName(host) || err == nil && ownAddress(a.Unmap(), local.Addr()) {
		return fmt.Sprintf("port %s of this machine, where this server listens", port)
	}
	return ""
}

// urlPort is u's port, or its scheme's default.
func urlPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// loopbackName reports whether host names this machine's loopback
// interface: localhost (and its subdomains, RFC 6761 §6.3) or a loopback
// address.
func loopbackName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// ownAddress reports whether a, dialled, reaches this machine where local
// is this server's address: local itself, any loopback address for a
// server reached on one, the unspecified address, or an address of one of
// this machine's interfaces.
func ownAddress(a, local netip.Addr) bool {
	a = a.Unmap()
	if a == local || a.IsUnspecified() || a.IsLoopback() && (local.IsLoopback() || local.IsUnspecified()) {
		return true
	}
	addrs, _ := net.InterfaceAddrs()
	for _, ia := range addrs {
		if n, ok := ia.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == a {
				return true
			}
		}
	}
	return false
}

// checkDialledAddress is the dialer's Control hook: it sees the address
// actually dialled, after name resolution, so a name that resolves to a
// private address (DNS rebinding included) is refused like the address
// itself.
func checkDialledAddress(ctx context.Context, _, address string, _ syscall.RawConn) error {
	policy, ok := ctx.Value(policyKey{}).(addressPolicy)
	if !ok {
		return errors.New("cimd: dial without an address policy")
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("cimd: dialled address %q: %v", address, err)
	}
	a := ap.Addr().Unmap()
	// An IPv6 address that a translator turns into an IPv4 one (NAT64,
	// 6to4) reaches that address, so it is judged by it.
	target, via := a, ""
	if v4, ok := embeddedIPv4(a); ok {
		target, via = v4, fmt.Sprintf(" (it reaches %s)", v4)
	}
	refuse := func(reason string) error { return &addressError{addr: a, reason: reason + via} }
	if policy.self.IsValid() && ap.Port() == policy.self.Port() && (ownAddress(a, policy.self.Addr()) || ownAddress(target, policy.self.Addr())) {
		return &addressError{addr: a, reason: fmt.Sprintf("this server itself (port %d of this machine, where it listens)%s", ap.Port(), via), self: true}
	}
	switch {
	case target.IsUnspecified() || target.IsMulticast():
		return refuse("not a unicast address")
	case a == policy.named:
		// The address an allow pattern names, whatever its range.
	case target.IsLinkLocalUnicast():
		// Cloud metadata (169.254.169.254) hands out the machine's
		// credentials: a name, even one allow_private trusts, never
		// reaches it.
		return &addressError{addr: a, reason: "a link-local address" + via, linkLocal: true}
	case a == awsMetadataV6:
		return &addressError{addr: a, reason: "the IPv6 address of AWS's instance metadata", linkLocal: true}
	case target == alibabaMetadata:
		return &addressError{addr: a, reason: "the address of Alibaba Cloud's instance metadata" + via, linkLocal: true}
	case policy.private && (target.IsLoopback() || target.IsPrivate()):
		// An intranet name the administrator trusts (AllowPrivate): its
		// DNS points at the company's own network, the private ranges
		// (RFC 1918, RFC 4193) and loopback.
	case policy.private && nonPublic(target):
		// Not a company's own network: the carrier-grade NAT space
		// (RFC 6598) is the carrier's, and some clouds serve their
		// services there; the others are reserved. Only a pattern
		// naming the address admits one.
		return &addressError{addr: a, reason: fmt.Sprintf("in %s, a range that is not globally reachable%s", nonPublicPrefix(target), via), privateName: true}
	case target.IsLoopback():
		if !policy.loopback {
			return refuse("a loopback address")
		}
	case target.IsPrivate() || nonPublic(target):
		return refuse("a private address")
	}
	return nil
}

// awsMetadataV6 is the IPv6 address of AWS's instance metadata service,
// 169.254.169.254's counterpart: it is in fd00::/8, a private range, not a
// link-local one.
var awsMetadataV6 = netip.MustParseAddr("fd00:ec2::254")

// alibabaMetadata is the address of Alibaba Cloud's instance metadata
// service, in the shared address space (100.64.0.0/10, RFC 6598), not a
// link-local one: a name allow_private trusts must not reach it either.
var alibabaMetadata = netip.MustParseAddr("100.100.100.200")

// nonPublicPrefixes are special-purpose ranges (RFC 6890) that are not
// globally reachable and that netip.Addr has no predicate for. The
// documentation ranges are among them: no public server has such an
// address, and a network that uses one uses it as a private range.
var nonPublicPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // RFC 6598 shared address space
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),    // RFC 5737 TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // RFC 2544 benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // RFC 5737 TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // RFC 5737 TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"), // RFC 8215 local-use NAT64: a translator of the local network
	netip.MustParsePrefix("100::/64"),       // RFC 6666 discard-only
	netip.MustParsePrefix("2001:2::/48"),    // RFC 5180 benchmarking
	netip.MustParsePrefix("2001:db8::/32"),  // RFC 3849 documentation
	netip.MustParsePrefix("fec0::/10"),      // RFC 3879 site-local: deprecated, still a site's own
}

// Prefixes of IPv6 addresses that carry an IPv4 address to a translator:
// the NAT64 well-known prefix (RFC 6052, the IPv4 address in the last 32
// bits), 6to4 (RFC 3056, the IPv4 address in bits 16 to 47), and the
// deprecated IPv4-compatible (RFC 4291 §2.5.5.1) and IPv4-translated
// (SIIT, RFC 2765) forms, the IPv4 address in the last 32 bits.
var (
	nat64Prefix    = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	ipv4Compatible = netip.MustParsePrefix("::/96")
	ipv4Translated = netip.MustParsePrefix("::ffff:0:0:0/96")
)

// embeddedIPv4 returns the IPv4 address a NAT64, 6to4, IPv4-compatible or
// IPv4-translated address reaches.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case !a.Is6() || a.IsUnspecified() || a.IsLoopback(): // :: and ::1 are in ::/96
		return netip.Addr{}, false
	case nat64Prefix.Contains(a), ipv4Compatible.Contains(a), ipv4Translated.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

func nonPublic(a netip.Addr) bool { return nonPublicPrefix(a).IsValid() }

// nonPublicPrefix is the one of nonPublicPrefixes that holds a, or the
// zero Prefix.
func nonPublicPrefix(a netip.Addr) netip.Prefix {
	for _, p := range nonPublicPrefixes {
		if p.Contains(a) {
			return p
		}
	}
	return netip.Prefix{}
}

// Len reports how many clients are cached and how many failing URLs are
// remembered, expired ones not yet swept included.
func (r *Resolver) Len() (clients, failures int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cache.entries), len(r.failures.entries)
}

// Sweep forgets the clients and failures that have expired, which are
// otherwise dropped only when asked for again or when their cache is
// full: the IdP's store sweeper calls it every minute, so that a burst of
// client_id URLs does not keep its memory for the life of the process.
func (r *Resolver) Sweep() {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cache.sweep(now)
	r.failures.sweep(now)
}
