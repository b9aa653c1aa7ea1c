package web

import (
	"maps"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/expiry"
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
	// flashes are the messages a live session's next page shows once
	// (what a save or a decision did), by session id: shown from here
	// rather than from a parameter of the page's address, a reload does
	// not show them again. They end with the session.
	flashes map[string]flash
	// results are what changes shown on a page of their own left to
	// show (an onboarding run's requests and outcomes), by result id:
	// the change answers with a redirect to its result's address
	// (Post/Redirect/Get), so that Reload and Back show the result
	// again rather than make the change again. At most maxResults are
	// held, each for resultMaxAge, shown only to the session that made
	// it while it lives: those of a session ended are not shown, and go
	// when they expire or make room.
	results map[string]result
	// sids are the IdP's SSO sessions the live sessions signed in with,
	// by session id: a session ends with its SSO session (endSID).
	sids map[string]string
	// byExp orders the ids by expiry (a min-heap), so that start finds
	// the expired sessions and the one closest to expiry without a scan
	// of live: with 10,000 sessions that scan was 0.3 ms under the lock
	// per sign-in (BenchmarkRegistry_StartFull). It is lazy: end and
	// valid leave an id in it, dropped when it reaches the top; start
	// rebuilds it from live once it holds more than 2*len(live)+
	// minRebuild items.
	byExp expiry.Heap[string]
}

// minRebuild is how many stale items byExp may hold beyond twice the live
// sessions.
const minRebuild = 1024

// wallClock is the console sessions' clock: the wall clock, which their
// cookie's Max-Age counts on too (a test moves it).
var wallClock = time.Now

func newRegistry(maxAge time.Duration, max int) *registry {
	return &registry{now: wallClock, maxAge: maxAge, max: max, live: map[string]time.Time{}, flashes: map[string]flash{}, results: map[string]result{}, sids: map[string]string{}}
}

// maxResults bounds the results held at once, every session's: an
// onboarding run's is a few dozen requests, what each got back cut to
// maxKeptText.
const maxResults = 256

// resultMaxAge is how long a result is kept: its page is reloaded, or
// gone back to, soon after the change, if ever.
const resultMaxAge = time.Hour

// result is a change's result for its session's pages.
type result struct {
	session string
	until   time.Time
	value   any
}

// putResult keeps value, the result of a change session id made, for
// resultMaxAge, and returns its id; "" when the session is not live.
// Expired results go first; when maxResults are held still, the oldest.
func (r *registry) putResult(id string, value any) string {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.live[id]; !ok {
		return ""
	}
	oldest := ""
	for k, res := range r.results {
		switch {
		case !now.Before(res.until):
			delete(r.results, k)
		case oldest == "" || res.until.Before(r.results[oldest].until):
			oldest = k
		}
	}
	if len(r.results) >= maxResults {
		delete(r.results, oldest)
	}
	key := randomString(16)
	r.results[key] = result{session: id, until: now.Add(resultMaxAge), value: value}
	return key
}

// result returns the result key of session id, while it is kept and the
// session lives.
func (r *registry) result(id, key string) (any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.results[key]
	_, live := r.live[id]
	if !ok || !live || res.session != id || !r.now().Before(res.until) {
		return nil, false
	}
	return res.value, true
}

// flash is a message for one page (a console path without the tenant's
// path).
type flash struct{ page, msg string }

// setFlash has the next showing of page in session id show msg, once; it
// replaces a flash not shown yet. A session that is not live gets none.
func (r *registry) setFlash(id, page, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.live[id]; ok {
		r.flashes[id] = flash{page, msg}
	}
}

// takeFlash returns the flash of session id for page, and forgets it; ""
// when there is none for that page (one for another page is kept for it).
func (r *registry) takeFlash(id, page string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.flashes[id]
	if !ok || f.page != page {
		return ""
	}
	delete(r.flashes, id)
	return f.msg
}

// start registers a new session, a login of the IdP's SSO session sid,
// and returns its id. Expired sessions are swept first; when the registry
// is still full, the session that expires soonest is ended.
func (r *registry) start(sid string) string {
	id := randomString(32)
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now)
	if len(r.live) >= r.max {
		if it, ok := r.liveTopLocked(); ok {
			r.byExp.Pop()
			r.dropLocked(it.Key)
		}
	}
	exp := now.Add(r.maxAge)
	r.live[id] = exp
	if sid != "" {
		r.sids[id] = sid
	}
	r.byExp.Push(exp, id)
	if len(r.byExp) > 2*len(r.live)+minRebuild {
		r.byExp.Rebuild(maps.All(r.live), false)
	}
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
		r.dropLocked(id)
		ok = false
	}
	return ok
}

// end ends the session id.
func (r *registry) end(id string) {
	r.mu.Lock()
	r.dropLocked(id)
	r.mu.Unlock()
}

// endSID ends the sessions signed in with the IdP's SSO session sid, which
// has ended (idp.Server.OnSSOEnd): for good, whereas the IdP remembers the
// end only as long as an ID token of it may live.
func (r *registry) endSID(sid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, s := range r.sids {
		if s == sid {
			r.dropLocked(id)
		}
	}
}

// dropLocked forgets the session id (its item in byExp, if any, goes when
// it reaches the top).
func (r *registry) dropLocked(id string) {
	delete(r.live, id)
	delete(r.flashes, id)
	delete(r.sids, id)
}

// sweep ends the expired sessions, and forgets the expired results: the IdP's sweeper calls it
// (IdP.SweepStore), so that the sessions of admins who never come back
// do not stay until the next sign-in.
func (r *registry) sweep() {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now)
	for k, res := range r.results {
		if !now.Before(res.until) {
			delete(r.results, k)
		}
	}
}

// len is the number of sessions held, expired ones not swept yet
// included (/metrics).
func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live)
}

// sweepLocked ends the expired sessions: they are the top of byExp.
func (r *registry) sweepLocked(now time.Time) {
	for {
		it, ok := r.liveTopLocked()
		if !ok || now.Before(it.At) {
			return
		}
		r.byExp.Pop()
		r.dropLocked(it.Key)
	}
}

// liveTopLocked drops the items of ended sessions from the top of byExp
// and returns the one left there: the live session closest to expiry.
func (r *registry) liveTopLocked() (expiry.Item[string], bool) {
	for {
		it, ok := r.byExp.Top()
		if !ok {
			return it, false
		}
		if exp, ok := r.live[it.Key]; ok && exp.Equal(it.At) {
			return it, true
		}
		r.byExp.Pop()
	}
}
