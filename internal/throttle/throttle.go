// Package throttle slows down password guessing: after a few consecutive
// failed logins for one username, further attempts for that username are
// refused for a back-off that doubles with each further failure. One
// Throttle serves one tenant: the IdP's login page and the admin API's
// HTTP Basic share it, so that a username is throttled wherever its
// password is tried (docs/http.md, "Limits and throttles" in the README).
//
// Memory is bounded: at most Options.Max usernames are tracked, an entry is
// forgotten Forget after its last failure or the end of its back-off, and
// a sweep drops forgotten entries.
package throttle

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// The rules.
const (
	// FreeFailures is the number of consecutive failures a username may
	// have before its attempts are refused.
	FreeFailures = 5
	// FirstBackoff is the back-off after the FreeFailures-th failure; each
	// further failure doubles it, up to MaxBackoff.
	FirstBackoff = time.Second
	// MaxBackoff bounds the back-off.
	MaxBackoff = 5 * time.Minute
	// Forget is how long an entry is kept after its last failure or, when
	// later, the end of its back-off: idle longer, its failures are
	// forgotten.
	Forget = 15 * time.Minute
	// DefaultMax is the number of usernames tracked when Options.Max is 0.
	DefaultMax = 10_000
	// sweepEvery is how often Failure drops forgotten entries, at most.
	sweepEvery = time.Minute
	// CheckTime is how long an attempt Allow let through counts as being
	// checked, unless Failure or Success says so sooner.
	CheckTime = 10 * time.Second
)

// Options configure a Throttle.
type Options struct {
	// Now is the clock; nil means time.Now. It should be the wall clock,
	// not a clock that tests freeze: a frozen clock never ends a back-off.
	Now func() time.Time
	// Max bounds the usernames tracked; 0 means DefaultMax. When it is
	// reached and nothing can be forgotten, the entry with the fewest
	// failures is dropped: memory stays bounded, and an attacker who fails
	// once each for other usernames evicts those, not the count of the
	// username being guessed (that takes Max usernames with more failures).
	Max int
	// Disabled lets every attempt through and tracks nothing (for load
	// tests: security.login_throttle: false).
	Disabled bool
}

// Throttle counts consecutive failed logins per username. It is safe for
// concurrent use; the zero value is not usable, call New.
type Throttle struct {
	now      func() time.Time
	max      int
	disabled bool

	mu        sync.Mutex
	entries   map[string]*entry
	lastSweep time.Time
	// peak is the most entries tracked since entries was made
	// (sweepLocked).
	peak int
}

type entry struct {
	failures int       // consecutive failures
	until    time.Time // attempts are refused before this
	expires  time.Time // forgotten after this
	// checking counts the attempts let through and not yet reported,
	// until checkingUntil: attempts sent at once would otherwise all be
	// checked before the first failure is counted.
	checking      int
	checkingUntil time.Time
	// settled, when not nil, is closed when an attempt being checked is
	// reported: Wait's callers then try again.
	settled chan struct{}
}

// settle wakes the attempts waiting for one being checked to end.
func (e *entry) settle() {
	if e.settled != nil {
		close(e.settled)
		e.settled = nil
	}
}

// New returns a Throttle with the options o.
func New(o Options) *Throttle {
	t := &Throttle{now: o.Now, max: o.Max, disabled: o.Disabled, entries: map[string]*entry{}}
	if t.now == nil {
		t.now = time.Now
	}
	if t.max <= 0 {
		t.max = DefaultMax
	}
	return t
}

// Allow reports whether an attempt for username may be checked now; if
// so, report its outcome with Failure or Success. When it may not, wait is
// how long the username's back-off still lasts, or a second while as many
// attempts are being checked as failures are left before the back-off
// (at least one): answer HTTP 429 with Retry-After (RFC 6585 section 4;
// RetryAfter formats it) without checking the password, and report
// neither Failure nor Success, so that refused attempts do not count.
// Without that bound, attempts sent at once (a slow password_bcrypt check
// each) would all be checked before the first failure counts. Wait is
// Allow for a request, which waits for such a slot rather than refuse.
func (t *Throttle) Allow(username string) (wait time.Duration, ok bool) {
	wait, ok, _ = t.try(username)
	return wait, ok
}

// Wait is Allow, except that an attempt refused only because others for
// username are being checked waits until one of them is reported, then
// tries again, while ctx lasts: parallel logins with the right password
// (a CI job's, a script's admin API calls) are not refused, and guesses
// sent at once are still checked no faster than they can fail. It gives
// up only when none is reported for CheckTime (a check that is stuck),
// not after CheckTime in all: attempts sent at once wait behind several
// rounds of checks, which on a busy machine add up to more.
func (t *Throttle) Wait(ctx context.Context, username string) (wait time.Duration, ok bool) {
	var timer *time.Timer
	for {
		wait, ok, settled := t.try(username)
		if ok || settled == nil {
			return wait, ok
		}
		if timer == nil {
			timer = time.NewTimer(CheckTime)
			defer timer.Stop()
		} else {
			timer.Reset(CheckTime)
		}
		select {
		case <-settled:
		case <-ctx.Done():
			return wait, false
		case <-timer.C:
			return wait, false
		}
	}
}

// try is Allow; when the attempt is refused only because others are
// being checked, settled is closed once one of them is reported.
func (t *Throttle) try(username string) (wait time.Duration, ok bool, settled <-chan struct{}) {
	if t.disabled {
		return 0, true, nil
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entryLocked(username, now)
	if wait = e.until.Sub(now); wait > 0 {
		return wait, false, nil
	}
	if now.After(e.checkingUntil) {
		e.checking = 0
	}
	if e.checking >= max(FreeFailures-e.failures, 1) {
		if e.settled == nil {
			e.settled = make(chan struct{})
		}
		return time.Second, false, e.settled
	}
	e.checking++
	e.checkingUntil = now.Add(CheckTime)
	if e.expires.Before(e.checkingUntil) {
		e.expires = e.checkingUntil
	}
	return 0, true, nil
}

// entryLocked is username's entry, made if need be: first making room,
// when Max are tracked, by forgetting what can be, else the entry with
// the fewest failures.
func (t *Throttle) entryLocked(username string, now time.Time) *entry {
	if now.Sub(t.lastSweep) >= sweepEvery {
		t.sweepLocked(now)
	}
	e := t.entries[username]
	if e == nil {
		if len(t.entries) >= t.max {
			t.sweepLocked(now)
			if len(t.entries) >= t.max {
				least := t.leastFailedLocked()
				t.entries[least].settle()
				delete(t.entries, least)
			}
		}
		e = &entry{}
		t.entries[username] = e
		t.peak = max(t.peak, len(t.entries))
	}
	return e
}

// Failure records a failed attempt for username (an unknown username
// included, so that throttling does not tell which usernames exist). From
// the FreeFailures-th consecutive failure on, it starts a back-off:
// FirstBackoff, doubled by every further failure, up to MaxBackoff.
func (t *Throttle) Failure(username string) {
	if t.disabled {
		return
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entryLocked(username, now)
	if e.checking > 0 {
		e.checking--
	}
	defer e.settle()
	e.failures++
	if n := e.failures - FreeFailures; n >= 0 {
		e.until = now.Add(backoff(n))
	}
	e.expires = now.Add(Forget)
	if e.until.After(now) {
		e.expires = e.until.Add(Forget)
	}
}

// backoff is the back-off after n failures beyond FreeFailures-1.
// leastFailedLocked is the username with the fewest failures, the one
// whose count matters least: a flood of failures for other usernames then
// evicts its own entries before that of a username being guessed. The
// scan costs what the sweep before it does.
func (t *Throttle) leastFailedLocked() string {
	least, fewest := "", 0
	for name, e := range t.entries {
		if least == "" || e.failures < fewest {
			least, fewest = name, e.failures
			if fewest <= 1 {
				break
			}
		}
	}
	return least
}

func backoff(n int) time.Duration {
	d := FirstBackoff
	for ; n > 0 && d < MaxBackoff; n-- {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Success records a successful attempt for username: its failures are
// forgotten.
func (t *Throttle) Success(username string) {
	if t.disabled {
		return
	}
	t.mu.Lock()
	if e := t.entries[username]; e != nil {
		e.settle()
		delete(t.entries, username)
	}
	t.mu.Unlock()
}

// Unchecked reports that an attempt Allow or Wait let through was not
// checked after all (the IdP had no room to check its password): it no
// longer counts as being checked, and it is neither a failure nor a
// success, so that a legitimate user turned away by a busy IdP is not
// throttled for it.
func (t *Throttle) Unchecked(username string) {
	if t.disabled {
		return
	}
	t.mu.Lock()
	if e := t.entries[username]; e != nil {
		if e.checking > 0 {
			e.checking--
		}
		e.settle()
	}
	t.mu.Unlock()
}

// Len returns the number of usernames tracked.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// sweepLocked drops the entries whose time to be forgotten has come.
func (t *Throttle) sweepLocked(now time.Time) {
	t.lastSweep = now
	for name, e := range t.entries {
		if now.After(e.expires) {
			e.settle()
			delete(t.entries, name)
		}
	}
	if t.peak >= minShrink && len(t.entries) <= t.peak/4 {
		// A flood has passed: give back the table it grew (a Go map
		// keeps it when entries are deleted).
		entries := make(map[string]*entry, len(t.entries))
		for name, e := range t.entries {
			entries[name] = e
		}
		t.entries, t.peak = entries, len(entries)
	}
}

// minShrink is the peak below which a swept throttle keeps its table: a
// small one costs less than copying it.
const minShrink = 1024

// RetryAfter formats a wait from Allow as the value of a Retry-After
// header: whole seconds, rounded up, at least 1 (RFC 9110 section 10.2.3).
func RetryAfter(wait time.Duration) string {
	s := int64((wait + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}

// Sweep forgets the usernames whose time to be forgotten has come, which
// Failure and Allow do only when asked about a username: the IdP's store
// sweeper calls it every minute, so that a flood of usernames does not
// keep its memory until the next login attempt.
func (t *Throttle) Sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepLocked(t.now())
}
