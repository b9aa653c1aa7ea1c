package web

import (
	"sync"
	"time"
)

// maxSessions bounds the console sessions held at once: far more admins
// than a mock IdP has, signed in on every browser they own.
const maxSessions = 10_000

// registry holds the console sessions that are signed in, by the random id
// each session's cookie carries. The cookie alone would stay valid until
// its Max-Age however it was copied; with the registry, sign-out ends the
// session on the server, and a copy of the cookie taken before it is
// refused.
//
// A registry of live sessions, rather than a list of ended ones, fails
// closed: an id the server does not know is refused, so that when the
// bound is reached the session dropped is one that signs in again, never
// an ended one that comes back to life.
type registry struct {
	now    func() time.Time
	maxAge time.Duration
	max    int

	mu   sync.Mutex
	live map[string]time.Time // id → when the session expires
}

func newRegistry(maxAge time.Duration, max int) *registry {
	return &registry{now: time.Now, maxAge: maxAge, max: max, live: map[string]time.Time{}}
}

// start registers a new session and returns its id. Expired sessions are
// swept first (sign-ins are rare: the sweep costs nothing that matters);
// when the registry is still full, the session that expires soonest is
// ended.
func (r *registry) start() string {
	id := randomString(32)
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now)
	if len(r.live) >= r.max {
		var oldest string
		for other, exp := range r.live {
			if oldest == "" || exp.Before(r.live[oldest]) {
				oldest = other
			}
		}
		delete(r.live, oldest)
	}
	r.live[id] = now.Add(r.maxAge)
	return id
}

// valid reports whether id is a session signed in and not expired.
func (r *registry) valid(id string) bool {
	if id == "" {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	exp, ok := r.live[id]
	if ok && !r.now().Before(exp) {
		delete(r.live, id)
		ok = false
	}
	return ok
}

// end ends the session id.
func (r *registry) end(id string) {
	r.mu.Lock()
	delete(r.live, id)
	r.mu.Unlock()
}

func (r *registry) sweepLocked(now time.Time) {
	for id, exp := range r.live {
		if !now.Before(exp) {
			delete(r.live, id)
		}
	}
}
