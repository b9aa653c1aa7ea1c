package resource

import (
	"container/heap"
	"errors"
	"fmt"
	"sync"
	"time"
)

// defaultReplayCacheSize is the number of live jti values remembered when
// AuthServerConfig.ReplayCacheSize is zero. With 5-minute ID-JAGs it allows
// a sustained 300 grants a second, far beyond any demo.
const defaultReplayCacheSize = 100_000

// errReplayed means the jti was already used and is still within its lifetime.
var errReplayed = errors.New("jti already used")

// cacheFullError means every slot holds a jti that has not expired yet.
type cacheFullError struct {
	size int
	// retryAfter is when the oldest entry expires and frees a slot.
	retryAfter time.Duration
}

func (e *cacheFullError) Error() string {
	return fmt.Sprintf("replay cache holds %d unexpired ID-JAGs", e.size)
}

// jtiCache remembers the jti of every ID-JAG redeemed here until that ID-JAG
// expires, which is what EMA's required replay detection needs: after its
// exp (plus skew) the ID-JAG is refused on its own, so the entry can go.
//
// The cache is bounded. When it is full of live entries it refuses new ones
// (cacheFullError) instead of evicting: forgetting a live jti would silently
// re-open the replay window, while a refusal is visible, temporary, and only
// reachable by someone who can mint valid ID-JAGs faster than they expire.
type jtiCache struct {
	max int

	mu      sync.Mutex
	expires map[string]time.Time
	queue   expiryQueue // the same entries, soonest expiry first
}

func newJTICache(max int) *jtiCache {
	if max <= 0 {
		max = defaultReplayCacheSize
	}
	return &jtiCache{max: max, expires: make(map[string]time.Time)}
}

// use records key as used until the given time. It fails with errReplayed if
// key is already recorded and live, or with *cacheFullError.
func (c *jtiCache) use(key string, until, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()

	for len(c.queue) > 0 && !c.queue[0].until.After(now) {
		e := heap.Pop(&c.queue).(expiryEntry)
		delete(c.expires, e.key)
	}
	if _, ok := c.expires[key]; ok {
		return errReplayed
	}
	if len(c.expires) >= c.max {
		return &cacheFullError{size: c.max, retryAfter: c.queue[0].until.Sub(now)}
	}
	c.expires[key] = until
	heap.Push(&c.queue, expiryEntry{key: key, until: until})
	return nil
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
	*q = old[:len(old)-1]
	return e
}
