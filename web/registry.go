package web

import (
	"container/heap"
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
	// byExp orders the ids by expiry (a min-heap), so that start finds
	// the expired sessions and the one closest to expiry without a scan
	// of live: with 10,000 sessions that scan was 0.3 ms under the lock
	// per sign-in (BenchmarkRegistry_StartFull). It is lazy: end and
	// valid leave an id in it, dropped when it reaches the top; start
	// rebuilds it from live once it holds more than 2*len(live)+
	// minRebuild items.
	byExp expHeap
}

// minRebuild is how many stale items byExp may hold beyond twice the live
// sessions.
const minRebuild = 1024

type expItem struct {
	exp time.Time
	id  string
}

// expHeap is a container/heap of expItems, the soonest on top.
type expHeap []expItem

func (h expHeap) Len() int           { return len(h) }
func (h expHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expHeap) Push(x any)        { *h = append(*h, x.(expItem)) }
func (h *expHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = expItem{}
	*h = old[:len(old)-1]
	return it
}

func newRegistry(maxAge time.Duration, max int) *registry {
	return &registry{now: time.Now, maxAge: maxAge, max: max, live: map[string]time.Time{}}
}

// start registers a new session and returns its id. Expired sessions are
// swept first; when the registry is still full, the session that expires
// soonest is ended.
func (r *registry) start() string {
	id := randomString(32)
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now)
	if len(r.live) >= r.max {
		if it, ok := r.liveTopLocked(); ok {
			heap.Pop(&r.byExp)
			delete(r.live, it.id)
		}
	}
	exp := now.Add(r.maxAge)
	r.live[id] = exp
	heap.Push(&r.byExp, expItem{exp, id})
	if len(r.byExp) > 2*len(r.live)+minRebuild {
		r.byExp = r.byExp[:0]
		for id, exp := range r.live {
			r.byExp = append(r.byExp, expItem{exp, id})
		}
		heap.Init(&r.byExp)
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

// sweepLocked ends the expired sessions: they are the top of byExp.
func (r *registry) sweepLocked(now time.Time) {
	for {
		it, ok := r.liveTopLocked()
		if !ok || now.Before(it.exp) {
			return
		}
		heap.Pop(&r.byExp)
		delete(r.live, it.id)
	}
}

// liveTopLocked drops the items of ended sessions from the top of byExp
// and returns the one left there: the live session closest to expiry.
func (r *registry) liveTopLocked() (expItem, bool) {
	for len(r.byExp) > 0 {
		it := r.byExp[0]
		if exp, ok := r.live[it.id]; ok && exp.Equal(it.exp) {
			return it, true
		}
		heap.Pop(&r.byExp)
	}
	return expItem{}, false
}
