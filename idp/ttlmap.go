package idp

import (
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/expiry"
)

// ttlMap is a mutex-guarded map whose entries expire and whose size is
// capped: every store the IdP keeps per request or per token (auth requests,
// codes, refresh tokens, SSO sessions, verified subject tokens) grows with
// traffic, so each one is bounded. When full, Put drops expired entries
// first, then the entry closest to expiry; PutIfRoom refuses instead. The
// Server's sweeper calls Sweep, so that a store that stops growing shrinks
// back as its entries expire.
type ttlMap[K comparable, V any] struct {
	mu   sync.Mutex
	max  int
	now  func() time.Time
	data map[K]ttlEntry[V]
	// byExp orders the keys by expiry, so that a Put into a full map and
	// a sweep find the soonest entries without scanning data: a load test
	// keeps the stores full, and a scan of 100,000 entries per Put, under
	// the lock, was the IdP's throughput. It is lazy: Delete, Take, Get,
	// DeleteFunc and a Put over a key with a new expiry leave the old item
	// in it, skipped when it reaches the top (liveTopLocked); Put rebuilds
	// it from data once it holds more than 2*len(data)+minShrink items, so
	// that it never holds more than 2*max+minShrink.
	byExp expiry.Heap[K]
	// swept is when a full PutIfRoom last swept, and soonest the earliest
	// expiry it left: a flood against a full map costs one sweep a second.
	swept, soonest time.Time
	// groupings, when set (groupedBy), each name a group of every entry
	// and list the keys stored in each group, so that DeleteGroup removes
	// one without scanning data: ending an SSO session scanned the access
	// and refresh tokens for those issued under it, some 17 ms under the
	// stores' locks for each sign-out once they were full; disabling a
	// user scanned every store for the user's sessions (noteGoneUsers).
	// Like byExp they are lazy: a key that left its group stays listed
	// until DeleteGroup skips it or Put rebuilds the lists from data, once
	// they hold more than 2*len(data)+minShrink keys. An entry of group ""
	// is in none.
	groupings []grouping[K, V]
	// evicted, when set, is told the key and expiry of each live entry
	// dropped to make room (evictLocked, PutShared), under the map's
	// lock: the refresh tokens' journal records those ends (refreshlog.go).
	evicted func(K, time.Time)
	// peak is the most entries data has held since it was made: a Go map
	// keeps the table it grew to when entries are deleted, so sweepLocked
	// copies it into a smaller one once it holds a quarter of that.
	peak int
}

// minShrink is the peak below which a swept map is left as it is: a small
// table costs less than copying it.
const minShrink = 1024

// grouping is one grouping of a map's entries (groupedBy): of names the
// group of a value, lists holds the keys listed in each group, and listed
// counts them.
type grouping[K comparable, V any] struct {
	of     func(V) string
	lists  map[string][]K
	listed int
}

// The groupings of the stores of a login's objects (SSO sessions, auth
// requests, access and refresh tokens), in the order groupedBy is given
// them.
const (
	bySession = iota // the sid of the SSO session
	byUser           // the sub of the user
	// bySource is the auth requests' third grouping: the client address
	// that sent the request (sourceOf), which may hold a share of them.
	bySource
)

type ttlEntry[V any] struct {
	v   V
	exp time.Time
}

func newTTLMap[K comparable, V any](max int, now func() time.Time) *ttlMap[K, V] {
	return &ttlMap[K, V]{max: max, now: now, data: make(map[K]ttlEntry[V])}
}

// groupedBy makes m keep its entries grouped by each of groupOf, numbered
// from 0 in order: DeleteGroup, TakeGroup, DeleteGroupFunc and HasGroup
// read the first grouping, EachOfGroups any. It is called once, on the new
// map. A value is listed in the group it had when stored, or when Update
// changed it: one that points to its data must not be changed in place to
// another group but by Update.
func (m *ttlMap[K, V]) groupedBy(groupOf ...func(V) string) *ttlMap[K, V] {
	for _, of := range groupOf {
		m.groupings = append(m.groupings, grouping[K, V]{of: of, lists: make(map[string][]K)})
	}
	return m
}

func (m *ttlMap[K, V]) Put(k K, v V, exp time.Time) {
	m.PutEvicting(k, v, exp)
}

// PutEvicting is Put that reports whether it dropped an entry that had not
// expired to make room: a store whose entries must not be forgotten early
// (the ended sessions) then knows that it forgot one.
func (m *ttlMap[K, V]) PutEvicting(k K, v V, exp time.Time) (evicted bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.putLocked(k, v, exp)
}

// putLocked is PutEvicting under the lock: room is made for a new key
// when the map is full, then k is stored.
func (m *ttlMap[K, V]) putLocked(k K, v V, exp time.Time) (evicted bool) {
	if _, ok := m.data[k]; !ok && len(m.data) >= m.max {
		evicted = m.evictLocked()
	}
	m.storeLocked(k, v, exp)
	return evicted
}

// PutShared is Put that keeps one group of the grouping by to its share
// once the map is under pressure: when the map holds at least max/2
// entries and group g already holds share live ones, g's oldest stored
// entry makes room for v, not another group's. So one user signing in or
// redeeming codes again and again (a script) replaces their own sessions
// and tokens rather than push every other user's out. Group "" has no
// share.
func (m *ttlMap[K, V]) PutShared(k K, v V, exp time.Time, by int, g string, share int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.data[k]; !ok && g != "" && len(m.data) >= m.max/2 {
		if n, _ := m.countGroupLocked(by, g, share); n >= share {
			m.dropOldestOfGroupLocked(by, g)
		}
	}
	m.putLocked(k, v, exp)
}

// dropOldestOfGroupLocked deletes the live entry of group g of the
// grouping by that was listed first: the group's oldest. Lists are in the
// order entries were stored, and countGroupLocked has just dropped from
// g's list the keys ahead of it that left.
func (m *ttlMap[K, V]) dropOldestOfGroupLocked(by int, g string) {
	gr := &m.groupings[by]
	now := m.now()
	for _, k := range gr.lists[g] {
		if e, ok := m.data[k]; ok && gr.of(e.v) == g && now.Before(e.exp) {
			delete(m.data, k)
			if m.evicted != nil {
				m.evicted(k, e.exp)
			}
			return
		}
	}
}

// PutNewEvicting is PutEvicting when k has no live value, and nothing
// otherwise: added is false for a caller that lost the race to another
// with the same k (two end_session requests for one session), which must
// then not do what the first does (audit and push the end once).
func (m *ttlMap[K, V]) PutNewEvicting(k K, v V, exp time.Time) (added, evicted bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.data[k]; ok && m.now().Before(e.exp) {
		return false, false
	}
	return true, m.putLocked(k, v, exp)
}

// storeLocked sets k and keeps byExp holding an item for every entry.
func (m *ttlMap[K, V]) storeLocked(k K, v V, exp time.Time) {
	old, ok := m.data[k]
	if !ok || !old.exp.Equal(exp) {
		m.byExp.Push(exp, k)
	}
	for i := range m.groupings {
		if g := &m.groupings[i]; !ok || g.of(old.v) != g.of(v) {
			g.list(k, v)
		}
	}
	m.data[k] = ttlEntry[V]{v, exp}
	m.peak = max(m.peak, len(m.data))
	// Rebuilding costs len(data), paid for by the more than len(data)
	// stale items (or listed keys) that the calls since the last rebuild
	// left.
	if len(m.byExp) > 2*len(m.data)+minShrink {
		m.rebuildLocked(false)
	}
	for i := range m.groupings {
		if m.groupings[i].listed > 2*len(m.data)+minShrink {
			m.regroupLocked(i)
		}
	}
}

// list lists k in the group of v.
func (g *grouping[K, V]) list(k K, v V) {
	if name := g.of(v); name != "" {
		g.lists[name] = append(g.lists[name], k)
		g.listed++
	}
}

// regroupLocked makes grouping i's lists anew from data, without the keys
// that left.
func (m *ttlMap[K, V]) regroupLocked(i int) {
	g := &m.groupings[i]
	g.lists, g.listed = make(map[string][]K), 0
	for k, e := range m.data {
		g.list(k, e.v)
	}
}

// PutIfRoom stores v under k unless the map holds max live entries; then
// it reports when the soonest one expires. It never evicts: it is for a
// store whose entries someone waits on (a login shown its form).
func (m *ttlMap[K, V]) PutIfRoom(k K, v V, exp time.Time, max int) (retryAt time.Time, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if retryAt, ok := m.roomLocked(max); !ok {
		return retryAt, false
	}
	m.storeLocked(k, v, exp)
	return time.Time{}, true
}

// PutIfShare is PutIfRoom that also keeps one group of the grouping by
// from taking more than its share once the map is under pressure: when the
// map holds at least max/2 entries, an entry of group g is refused (ok
// false, mine true) while g holds share live entries, with the soonest
// expiry among them. A refusal for a full map has mine false. Group ""
// has no share.
func (m *ttlMap[K, V]) PutIfShare(k K, v V, exp time.Time, max, by int, g string, share int) (retryAt time.Time, mine, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if retryAt, mine, ok := m.shareLocked(max, by, g, share); !ok {
		return retryAt, mine, false
	}
	m.storeLocked(k, v, exp)
	return time.Time{}, false, true
}

// RoomForShare reports whether PutIfShare would store an entry of group g
// now, and if not, when to retry and whether the group's share (mine) or
// the full map refused it.
func (m *ttlMap[K, V]) RoomForShare(max, by int, g string, share int) (retryAt time.Time, mine, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shareLocked(max, by, g, share)
}

func (m *ttlMap[K, V]) shareLocked(max, by int, g string, share int) (time.Time, bool, bool) {
	if g != "" && len(m.data) >= max/2 {
		if n, soonest := m.countGroupLocked(by, g, share); n >= share {
			return soonest, true, false
		}
	}
	retryAt, ok := m.roomLocked(max)
	return retryAt, false, ok
}

// countGroupLocked counts the live entries of group g of the grouping by,
// up to limit, and reports the soonest expiry among those counted. It
// stops at limit, so that a group at its share costs limit lookups
// however many it was refused, and drops from g's list the keys that left
// it on the way.
func (m *ttlMap[K, V]) countGroupLocked(by int, g string, limit int) (n int, soonest time.Time) {
	gr := &m.groupings[by]
	keys := gr.lists[g]
	kept := keys[:0]
	now := m.now()
	i := 0
	for ; i < len(keys) && n < limit; i++ {
		e, ok := m.data[keys[i]]
		if !ok || gr.of(e.v) != g {
			continue // left g: no longer listed
		}
		kept = append(kept, keys[i])
		if now.Before(e.exp) {
			n++
			if soonest.IsZero() || e.exp.Before(soonest) {
				soonest = e.exp
			}
		}
	}
	if dropped := i - len(kept); dropped > 0 {
		kept = append(kept, keys[i:]...)
		clear(keys[len(kept):]) // let the keys go
		gr.listed -= dropped
		if len(kept) == 0 {
			delete(gr.lists, g)
		} else {
			gr.lists[g] = kept
		}
	}
	return n, soonest
}

// Room reports whether PutIfRoom with max would store an entry now, and
// if not, when the soonest entry expires.
func (m *ttlMap[K, V]) Room(max int) (retryAt time.Time, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.roomLocked(max)
}

func (m *ttlMap[K, V]) roomLocked(max int) (time.Time, bool) {
	if len(m.data) < max {
		return time.Time{}, true
	}
	if now := m.now(); now.Sub(m.swept) >= time.Second || now.Before(m.swept) {
		m.sweepLocked(now)
		m.swept = now
	}
	return m.soonest, len(m.data) < max
}

// Sweep removes every expired entry.
func (m *ttlMap[K, V]) Sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(m.now())
}

// sweepLocked removes the expired entries and notes the soonest expiry
// among those left.
func (m *ttlMap[K, V]) sweepLocked(now time.Time) {
	m.expireLocked(now)
	m.soonest = time.Time{}
	if it, ok := m.liveTopLocked(); ok {
		m.soonest = it.At
	}
	if m.peak >= minShrink && len(m.data) <= m.peak/4 {
		// A burst has passed: give back the table it grew, and what
		// byExp and groups held for it.
		data := make(map[K]ttlEntry[V], len(m.data))
		for k, e := range m.data {
			data[k] = e
		}
		m.data, m.peak = data, len(data)
		m.rebuildLocked(true)
		for i := range m.groupings {
			m.regroupLocked(i)
		}
		return
	}
	// A map that never grew past minShrink keeps its table, but not the
	// keys its groupings list for entries gone, once they are the most
	// of what is listed (remaking the lists costs len(data), less than
	// them): else up to minShrink of them, and their groups, stayed for
	// good in each grouping of each store that had emptied.
	for i := range m.groupings {
		if m.groupings[i].listed > 2*len(m.data) {
			m.regroupLocked(i)
		}
	}
}

// expireLocked removes every entry that has expired at now: they are the
// top of byExp.
func (m *ttlMap[K, V]) expireLocked(now time.Time) {
	for {
		it, ok := m.liveTopLocked()
		if !ok || now.Before(it.At) {
			return
		}
		m.byExp.Pop()
		delete(m.data, it.Key)
	}
}

// Get returns the live value for k; an expired entry is removed and reported absent.
func (m *ttlMap[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[k]
	if !ok {
		var zero V
		return zero, false
	}
	if !m.now().Before(e.exp) {
		delete(m.data, k)
		var zero V
		return zero, false
	}
	return e.v, true
}

// Take returns and removes the live value for k, so that two concurrent
// callers can never both redeem it (authorization codes are single use).
func (m *ttlMap[K, V]) Take(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[k]
	delete(m.data, k)
	if !ok || !m.now().Before(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (m *ttlMap[K, V]) Delete(k K) {
	m.mu.Lock()
	delete(m.data, k)
	m.mu.Unlock()
}

// Update applies f to the live value for k under the lock; f may change
// the value's groups, in place too (an auth request completed by a login).
func (m *ttlMap[K, V]) Update(k K, f func(*V)) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[k]
	if !ok || !m.now().Before(e.exp) {
		return false
	}
	var buf [2]string
	was := buf[:0]
	for i := range m.groupings {
		was = append(was, m.groupings[i].of(e.v))
	}
	f(&e.v)
	m.data[k] = e
	for i := range m.groupings {
		if g := &m.groupings[i]; g.of(e.v) != was[i] {
			g.list(k, e.v)
		}
	}
	return true
}

// UpdateUntil is Update that also keeps the entry until exp at least: an
// entry that would expire sooner lives on to exp.
func (m *ttlMap[K, V]) UpdateUntil(k K, exp time.Time, f func(*V)) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[k]
	if !ok || !m.now().Before(e.exp) {
		return false
	}
	f(&e.v)
	if exp.Before(e.exp) {
		exp = e.exp
	}
	m.storeLocked(k, e.v, exp)
	return true
}

// DeleteGroup removes every entry of group g (see groupedBy) and reports
// how many it removed.
func (m *ttlMap[K, V]) DeleteGroup(g string) int {
	return m.DeleteGroupFunc(g, func(V) bool { return true })
}

// TakeGroup removes every entry of group g, expired or not, and returns
// their values.
func (m *ttlMap[K, V]) TakeGroup(g string) []V {
	var vs []V
	m.DeleteGroupFunc(g, func(v V) bool {
		vs = append(vs, v)
		return true
	})
	return vs
}

// DeleteGroupFunc removes the entries of group g for which f reports true
// and reports how many it removed: it reads only the keys listed in g.
func (m *ttlMap[K, V]) DeleteGroupFunc(g string, f func(V) bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	m.filterGroupLocked(0, g, func(_ K, v V) bool {
		if f(v) {
			n++
			return false
		}
		return true
	})
	return n
}

// EachOfGroups calls f with every entry of the groups gs of the grouping
// by (see groupedBy), expired ones not yet swept included, under the map's
// lock: f must not call m. It reads the keys listed in those groups, or,
// when they are more than a quarter of the entries, every entry, which
// costs less than looking up as many keys. It reports how many entries it
// read. An entry that left a group and came back (Update) is listed, and
// may be given to f, twice.
func (m *ttlMap[K, V]) EachOfGroups(by int, gs map[string]bool, f func(K, V)) (read int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gr := &m.groupings[by]
	for g := range gs {
		read += len(gr.lists[g])
	}
	if read > len(m.data)/4 {
		for k, e := range m.data {
			if gs[gr.of(e.v)] {
				f(k, e.v)
			}
		}
		return len(m.data)
	}
	for g := range gs {
		m.filterGroupLocked(by, g, func(k K, v V) bool {
			f(k, v)
			return true
		})
	}
	return read
}

// filterGroupLocked reads the keys listed in group g of the grouping by:
// those that left g are listed no more, and so are those of the entries
// for which keep reports false, which are deleted.
func (m *ttlMap[K, V]) filterGroupLocked(by int, g string, keep func(K, V) bool) {
	gr := &m.groupings[by]
	keys := gr.lists[g]
	kept := keys[:0]
	for _, k := range keys {
		e, ok := m.data[k]
		switch {
		case !ok || gr.of(e.v) != g:
			// Left g: no longer listed.
		case !keep(k, e.v):
			delete(m.data, k)
		default:
			kept = append(kept, k)
		}
	}
	clear(keys[len(kept):]) // let the keys go
	gr.listed -= len(keys) - len(kept)
	if len(kept) == 0 {
		delete(gr.lists, g)
	} else {
		gr.lists[g] = kept
	}
}

// HasGroup reports whether a live entry is in group g.
func (m *ttlMap[K, V]) HasGroup(g string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	gr := &m.groupings[0]
	now := m.now()
	for _, k := range gr.lists[g] {
		if e, ok := m.data[k]; ok && gr.of(e.v) == g && now.Before(e.exp) {
			return true
		}
	}
	return false
}

// DeleteFunc removes every entry for which f reports true and reports how
// many it removed.
func (m *ttlMap[K, V]) DeleteFunc(f func(K, V) bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, e := range m.data {
		if f(k, e.v) {
			delete(m.data, k)
			n++
		}
	}
	return n
}

// EachLive calls f with every live entry and its expiry, under the map's
// lock: f must not call m.
func (m *ttlMap[K, V]) EachLive(f func(K, V, time.Time)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, e := range m.data {
		if now.Before(e.exp) {
			f(k, e.v, e.exp)
		}
	}
}

func (m *ttlMap[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.data)
}

// evictLocked makes room for one entry: the expired entries go first,
// then, if none had, the live entry closest to expiry.
func (m *ttlMap[K, V]) evictLocked() (evicted bool) {
	m.expireLocked(m.now())
	if len(m.data) < m.max {
		return false
	}
	it, ok := m.liveTopLocked()
	if !ok {
		return false
	}
	m.byExp.Pop()
	delete(m.data, it.Key)
	if m.evicted != nil {
		m.evicted(it.Key, it.At)
	}
	return true
}

// liveTopLocked drops the stale items from the top of byExp and returns
// the one left there: the entry closest to expiry. An item is stale once
// data holds its key no longer or with another expiry.
func (m *ttlMap[K, V]) liveTopLocked() (expiry.Item[K], bool) {
	for {
		it, ok := m.byExp.Top()
		if !ok {
			return it, false
		}
		if e, ok := m.data[it.Key]; ok && e.exp.Equal(it.At) {
			return it, true
		}
		m.byExp.Pop()
	}
}

// rebuildLocked makes byExp anew from data, without its stale items. It
// reuses byExp's array unless shrink: a sweep after a burst gives back
// the memory the burst grew.
func (m *ttlMap[K, V]) rebuildLocked(shrink bool) {
	m.byExp.Rebuild(func(yield func(K, time.Time) bool) {
		for k, e := range m.data {
			if !yield(k, e.exp) {
				return
			}
		}
	}, shrink)
}
