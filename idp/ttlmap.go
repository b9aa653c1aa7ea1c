package idp

import (
	"sync"
	"time"
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
	// swept is when a full PutIfRoom last swept, and soonest the earliest
	// expiry it left: a flood against a full map costs one sweep a second.
	swept, soonest time.Time
	// peak is the most entries data has held since it was made: a Go map
	// keeps the table it grew to when entries are deleted, so sweepLocked
	// copies it into a smaller one once it holds a quarter of that.
	peak int
}

// minShrink is the peak below which a swept map is left as it is: a small
// table costs less than copying it.
const minShrink = 1024

type ttlEntry[V any] struct {
	v   V
	exp time.Time
}

func newTTLMap[K comparable, V any](max int, now func() time.Time) *ttlMap[K, V] {
	return &ttlMap[K, V]{max: max, now: now, data: make(map[K]ttlEntry[V])}
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
	if _, ok := m.data[k]; !ok && len(m.data) >= m.max {
		evicted = m.evictLocked()
	}
	m.data[k] = ttlEntry[V]{v, exp}
	m.peak = max(m.peak, len(m.data))
	return evicted
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
	m.data[k] = ttlEntry[V]{v, exp}
	if len(m.data) > m.peak {
		m.peak = len(m.data)
	}
	return time.Time{}, true
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
	m.soonest = time.Time{}
	for k, e := range m.data {
		switch {
		case !now.Before(e.exp):
			delete(m.data, k)
		case m.soonest.IsZero() || e.exp.Before(m.soonest):
			m.soonest = e.exp
		}
	}
	if m.peak >= minShrink && len(m.data) <= m.peak/4 {
		// A burst has passed: give back the table it grew.
		data := make(map[K]ttlEntry[V], len(m.data))
		for k, e := range m.data {
			data[k] = e
		}
		m.data, m.peak = data, len(data)
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

// Update applies f to the live value for k under the lock.
func (m *ttlMap[K, V]) Update(k K, f func(*V)) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[k]
	if !ok || !m.now().Before(e.exp) {
		return false
	}
	f(&e.v)
	m.data[k] = e
	return true
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

func (m *ttlMap[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.data)
}

func (m *ttlMap[K, V]) evictLocked() (evicted bool) {
	now := m.now()
	var victim K
	var soonest time.Time
	found := false
	for k, e := range m.data {
		if !now.Before(e.exp) {
			delete(m.data, k)
			continue
		}
		if !found || e.exp.Before(soonest) {
			victim, soonest, found = k, e.exp, true
		}
	}
	if len(m.data) >= m.max && found {
		delete(m.data, victim)
		return true
	}
	return false
}
