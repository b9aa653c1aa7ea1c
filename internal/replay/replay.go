// Package replay remembers single-use identifiers (a JWT's jti, a DPoP
// proof's jti, a client assertion's jti) until they expire: the replay
// detection RFC 7523 §3 (item 7), RFC 9449 §11.1 and the ID-JAG draft ask of
// whoever accepts such a JWT. It is shared by the IdP and the authorization
// servers, so both follow one rule when the cache is full.
package replay

import (
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// DefaultSize is the number of live identifiers remembered when New is given
// zero. With 5-minute ID-JAGs it allows a sustained 300 uses a second, far
// beyond any test or demo.
const DefaultSize = 100_000

// Bounds of what callers record, since every identifier is kept until it expires: a jti of more
// than MaxJTIBytes is refused, and so is a client assertion (RFC 7523) that expires more than
// MaxAssertionLifetime ahead, which RFC 7523 section 3 lets a server refuse. No real client comes
// near either: jtis are a few dozen bytes, assertions live a minute or so (an hour is what Okta
// allows), while anyone who hosts a client metadata document with keys can mint assertions.
const (
	MaxJTIBytes          = 256
	MaxAssertionLifetime = time.Hour
)

// ErrReplayed means the identifier was already used and is still live.
var ErrReplayed = errors.New("already used")

// FullError means every slot holds an identifier that has not expired yet.
type FullError struct {
	Size int
	// RetryAfter is when the soonest entry expires and frees a slot.
	RetryAfter time.Duration
}

func (e *FullError) Error() string {
	return fmt.Sprintf("replay cache holds %d unexpired entries", e.Size)
}

// Cache remembers each identifier until the time given with it.
//
// It is bounded. When it is full of live entries it refuses new ones
// (*FullError) instead of evicting: forgetting a live identifier would
// silently re-open the replay window, while a refusal is visible, temporary,
// and only reachable by someone who can mint valid tokens faster than they
// expire.
type Cache struct {
	max int

	mu      sync.Mutex
	expires map[string]time.Time
	queue   expiryQueue // the same entries, soonest expiry first
	// peak is the most entries held since expires was made: a Go map keeps
	// the table it grew to, and a slice its array, when entries leave, so
	// purgeLocked copies both once a quarter of that is left.
	peak int
}

// minShrink is the peak below which a purged cache is left as it is.
const minShrink = 1024

// New returns a cache of at most max live entries (DefaultSize when max <= 0).
func New(max int) *Cache {
	if max <= 0 {
		max = DefaultSize
	}
	return &Cache{max: max, expires: make(map[string]time.Time)}
}

// Use records key as used until the given time, in one step, so that two
// concurrent callers can never both use it. It fails with ErrReplayed if key
// is already recorded and live at now, or with *FullError.
func (c *Cache) Use(key string, until, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.purgeLocked(now)
	if exp, ok := c.expires[key]; ok && exp.After(now) {
		return ErrReplayed
	}
	if len(c.expires) >= c.max {
		return &FullError{Size: c.max, RetryAfter: c.queue[0].until.Sub(now)}
	}
	c.expires[key] = until
	heap.Push(&c.queue, expiryEntry{key: key, until: until})
	c.peak = max(c.peak, len(c.queue))
	return nil
}

// Len reports the number of entries, live or not yet purged.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.expires)
}

// Purge drops every entry expired at now; Use does the same as it goes, so a
// sweeper only matters for a cache that goes idle.
func (c *Cache) Purge(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purgeLocked(now)
}

func (c *Cache) purgeLocked(now time.Time) {
	for len(c.queue) > 0 && !c.queue[0].until.After(now) {
		e := heap.Pop(&c.queue).(expiryEntry)
		if exp, ok := c.expires[e.key]; ok && exp.Equal(e.until) {
			delete(c.expires, e.key)
		}
	}
	if c.peak >= minShrink && len(c.queue) <= c.peak/4 {
		// A burst has passed: give back the table and the array it grew.
		expires := make(map[string]time.Time, len(c.expires))
		for k, v := range c.expires {
			expires[k] = v
		}
		c.expires, c.queue = expires, slices.Clone(c.queue)
		c.peak = len(c.queue)
	}
}

type expiryEntry struct {
	key   string
	until time.Time
}

// expiryQueue is a container/heap min-heap on until, so purging expired
// entries costs O(log n) each instead of a scan of the whole cache.
type expiryQueue []expiryEntry

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].until.Before(q[j].until) }
func (q expiryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)        { *q = append(*q, x.(expiryEntry)) }
func (q *expiryQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = expiryEntry{} // the array keeps no key it no longer holds
	*q = old[:len(old)-1]
	return e
}
