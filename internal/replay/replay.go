// Package replay remembers single-use identifiers (a JWT's jti, a DPoP
// proof's jti, a client assertion's jti) until they expire: the replay
// detection RFC 7523 §3 (item 7), RFC 9449 §11.1 and the ID-JAG draft ask of
// whoever accepts such a JWT. It is shared by the IdP and the authorization
// servers, so both follow one rule when the cache is full.
package replay

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/expiry"
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

// FullError means every slot holds an identifier that has not expired yet,
// or, with Owner set, that the cache is half full and Owner holds its share
// (UseShared).
type FullError struct {
	Size int
	// RetryAfter is when the soonest entry expires and frees a slot.
	RetryAfter time.Duration
	// Owner and Share: the owner refused for holding Share live entries.
	Owner string
	Share int
}

func (e *FullError) Error() string {
	if e.Owner != "" {
		return fmt.Sprintf("replay cache is half full of its %d entries, and %d or more unexpired ones are of the same owner", e.Size, e.Share)
	}
	return fmt.Sprintf("replay cache holds %d unexpired entries", e.Size)
}

// Share is how many live entries one owner may hold once a cache of size
// entries is half full (UseShared): 1% of it, at least 10.
func Share(size int) int {
	return max(size/100, 10)
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
	// queue holds the same entries, soonest expiry first, so that purging
	// the expired ones costs O(log n) each instead of a scan of expires.
	queue expiry.Heap[string]
	// peak is the most entries held since expires was made: a Go map keeps
	// the table it grew to, and a slice its array, when entries leave, so
	// purgeLocked copies both once a quarter of that is left.
	peak int
	// ownerOf names the owner of each entry UseShared recorded, and owned
	// counts each owner's entries, until they leave expires.
	ownerOf map[string]string
	owned   map[string]int
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
	return c.UseShared(key, "", until, now)
}

// UseShared is Use that keeps one owner (a user) to its share: once the
// cache is half full, an owner that holds Share of its entries is refused
// (*FullError with Owner set), while other owners' keys are still
// recorded. So one user who mints valid tokens by the hundred a second
// cannot fill the cache every user needs. Owner "" has no share.
func (c *Cache) UseShared(key, owner string, until, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()

	c.purgeLocked(now)
	if exp, ok := c.expires[key]; ok && exp.After(now) {
		return ErrReplayed
	}
	if len(c.expires) >= c.max {
		soonest, _ := c.queue.Top()
		return &FullError{Size: c.max, RetryAfter: soonest.At.Sub(now)}
	}
	if share := Share(c.max); owner != "" && len(c.expires) >= c.max/2 && c.owned[owner] >= share {
		soonest, _ := c.queue.Top()
		return &FullError{Size: c.max, RetryAfter: soonest.At.Sub(now), Owner: owner, Share: share}
	}
	c.forgetOwnerLocked(key) // an expired entry of key, not purged yet
	c.expires[key] = until
	c.queue.Push(until, key)
	c.peak = max(c.peak, len(c.queue))
	if owner != "" {
		if c.ownerOf == nil {
			c.ownerOf, c.owned = make(map[string]string), make(map[string]int)
		}
		c.ownerOf[key] = owner
		c.owned[owner]++
	}
	return nil
}

// forgetOwnerLocked stops counting key for its owner, if it has one.
func (c *Cache) forgetOwnerLocked(key string) {
	owner, ok := c.ownerOf[key]
	if !ok {
		return
	}
	delete(c.ownerOf, key)
	if c.owned[owner]--; c.owned[owner] <= 0 {
		delete(c.owned, owner)
	}
}

// Each calls f with every entry live at now and the time it is used
// until, under the cache's lock: f must not call c. A caller that keeps
// the entries elsewhere (the IdP's state directory) rewrites them from it.
func (c *Cache) Each(now time.Time, f func(key string, until time.Time)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, until := range c.expires {
		if until.After(now) {
			f(k, until)
		}
	}
}

// Forget drops key if it is recorded until the given time, as Use just
// recorded it: a caller that records one use in two caches undoes the
// first when the second refuses it.
func (c *Cache) Forget(key string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.expires[key]; ok && exp.Equal(until) {
		delete(c.expires, key) // its queue entry is skipped when purged
		c.forgetOwnerLocked(key)
	}
	// A client can have uses undone at will (a replay the other cache
	// refuses), each leaving its queue entry until its time: once those
	// outnumber the entries, the queue is made again from them.
	if stale := len(c.queue) - len(c.expires); stale >= minShrink && stale > len(c.expires) {
		c.queue.Rebuild(maps.All(c.expires), true)
	}
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
	for {
		e, ok := c.queue.Top()
		if !ok || e.At.After(now) {
			break
		}
		c.queue.Pop()
		if exp, ok := c.expires[e.Key]; ok && exp.Equal(e.At) {
			delete(c.expires, e.Key)
			c.forgetOwnerLocked(e.Key)
		}
	}
	if c.peak >= minShrink && len(c.queue) <= c.peak/4 {
		// A burst has passed: give back the table and the array it grew.
		expires := make(map[string]time.Time, len(c.expires))
		for k, v := range c.expires {
			expires[k] = v
		}
		c.expires = expires
		if c.ownerOf != nil {
			ownerOf, owned := make(map[string]string, len(c.ownerOf)), make(map[string]int, len(c.owned))
			for k, v := range c.ownerOf {
				ownerOf[k] = v
			}
			for k, v := range c.owned {
				owned[k] = v
			}
			c.ownerOf, c.owned = ownerOf, owned
		}
		c.queue.Rebuild(maps.All(expires), true)
		c.peak = len(c.queue)
	}
}
