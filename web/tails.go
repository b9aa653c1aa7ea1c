package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"
)

// Live tails held at once: each is a connection, a goroutine and an audit
// subscription for as long as it lasts, so neither one session (a page
// reloaded in many tabs, a script), nor one tenant's consoles, nor all of
// them may hold them without bound.
const (
	maxTailsPerSession = 4
	maxTails           = 64
	// tailRetryAfter is the Retry-After of a tail refused at a cap: a slot
	// frees when a tail ends, which no one can foresee.
	tailRetryAfter = 30
)

// TailSlots counts the live tails open, per console session, per tenant
// and in all. The consoles of one process (every tenant's) share one, so
// that maxTails bounds the process, not each tenant (Options.TailSlots).
type TailSlots struct {
	mu        sync.Mutex
	bySession map[string]int
	byTenant  map[string]int
	consoles  map[string]bool // the tenants whose consoles share s (join)
	total     int
}

// NewTailSlots returns the count of a process's live tails, none open.
func NewTailSlots() *TailSlots {
	return &TailSlots{bySession: map[string]int{}, byTenant: map[string]int{}, consoles: map[string]bool{}}
}

// join counts the console of tenant (its path, unique in a process) among
// those sharing s: with more than one, each has a share (share).
func (s *TailSlots) join(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consoles[tenant] = true
}

// share is each tenant's share of maxTails when the consoles of several
// tenants share s: maxTails divided among them (at least one), so that
// however many tails the other tenants' admins hold, a tenant finds its
// own share free, while the process holds at most maxTails. Until
// 2026-12-06 each tenant's was half, whatever their number: two tenants'
// admins could take every tail. Called with mu held.
func (s *TailSlots) share() int {
	return max(maxTails/max(len(s.consoles), 1), 1)
}

// take takes a slot for a tail of session (a console session's ID,
// random, so unique across the consoles sharing s) at tenant's console,
// or answers the refusal into w (429 at the session's cap or the
// tenant's share, 503 at the total's, all with Retry-After) and reports
// false. The caller gives a slot it took back with give.
func (s *TailSlots) take(w http.ResponseWriter, tenant, session string) bool {
	s.mu.Lock()
	perSession := s.bySession[session] >= maxTailsPerSession
	tenants, share := len(s.consoles), s.share()
	perTenant := tenants > 1 && s.byTenant[tenant] >= share
	total := s.total >= maxTails
	if !perSession && !perTenant && !total {
		s.bySession[session]++
		s.byTenant[tenant]++
		s.total++
	}
	s.mu.Unlock()
	switch {
	case perSession:
		w.Header().Set("Retry-After", strconv.Itoa(tailRetryAfter))
		http.Error(w, "this console session has "+strconv.Itoa(maxTailsPerSession)+" live tails open, the most it may: close one (another tab) and retry", http.StatusTooManyRequests)
		return false
	case perTenant:
		w.Header().Set("Retry-After", strconv.Itoa(tailRetryAfter))
		http.Error(w, "this tenant's console sessions have "+strconv.Itoa(share)+" live tails open, the tenant's share of the process's "+strconv.Itoa(maxTails)+" (divided among its "+strconv.Itoa(tenants)+" tenants): close one or retry later", http.StatusTooManyRequests)
		return false
	case total:
		w.Header().Set("Retry-After", strconv.Itoa(tailRetryAfter))
		http.Error(w, "the console has "+strconv.Itoa(maxTails)+" live tails open, the most it serves at once: retry later", http.StatusServiceUnavailable)
		return false
	}
	return true
}

// give gives back a slot of session at tenant's console that take took.
func (s *TailSlots) give(tenant, session string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySession[session]--; s.bySession[session] <= 0 {
		delete(s.bySession, session)
	}
	if s.byTenant[tenant]--; s.byTenant[tenant] <= 0 {
		delete(s.byTenant, tenant)
	}
	s.total--
}

// stoppingKey is the context key of WithStopping.
type stoppingKey struct{}

// WithStopping returns ctx carrying stopping, a channel that the HTTP
// server closes when it begins to shut down (http.Server.BaseContext and
// RegisterOnShutdown). A live tail served under it ends then: Shutdown
// waits for every connection to go idle, and a tail never would, so it
// would hold the process for the whole shutdown deadline (and a restart
// on the same state directory out until then).
func WithStopping(ctx context.Context, stopping <-chan struct{}) context.Context {
	return context.WithValue(ctx, stoppingKey{}, stopping)
}

// stoppingOf is the channel of WithStopping; nil, which never fires,
// without one.
func stoppingOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stoppingKey{}).(<-chan struct{})
	return ch
}
