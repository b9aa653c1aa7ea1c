package idp

import (
	"fmt"
	"sync"
	"time"
)

// Clock is the IdP's time. Every issuance and every validation reads it:
// SSO sessions, auth requests, codes, access and refresh tokens, the
// expiry checks on subject tokens, the iat and exp of ID tokens and
// ID-JAGs, key retirement and, when the audit log is opened with
// Clock.Now, audit timestamps. Tests and the admin API set, advance and
// freeze it, so that expiry can be tested without sleeping.
//
// A running clock follows its source (the wall clock) at an offset; a
// frozen clock reads the same instant until it is advanced, set or
// unfrozen. The zero Clock is the wall clock. Its methods are safe for
// concurrent use.
type Clock struct {
	mu     sync.RWMutex
	source func() time.Time // nil means time.Now
	offset time.Duration    // added to the source while running
	frozen bool
	at     time.Time // the reading while frozen
}

// NewClock returns a running clock that follows source; nil means the wall
// clock (time.Now).
func NewClock(source func() time.Time) *Clock {
	return &Clock{source: source}
}

func (c *Clock) sourceNow() time.Time {
	if c.source == nil {
		return time.Now()
	}
	return c.source()
}

// Now returns the clock's reading.
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.frozen {
		return c.at
	}
	return c.sourceNow().Add(c.offset)
}

// Set moves the clock to t. A running clock goes on running from t; a
// frozen one stays at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = t
		return
	}
	c.offset = t.Sub(c.sourceNow())
}

// Advance moves the clock by d (backwards for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = c.at.Add(d)
		return
	}
	c.offset += d
}

// Freeze stops the clock at its current reading. Freezing a frozen clock
// changes nothing.
func (c *Clock) Freeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen {
		c.at = c.sourceNow().Add(c.offset)
		c.frozen = true
	}
}

// Unfreeze lets a frozen clock run again from the instant it shows.
func (c *Clock) Unfreeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.offset = c.at.Sub(c.sourceNow())
		c.frozen = false
	}
}

// ClockSetting is how a clock is set: its offset from its source, or the
// instant it is frozen at. Restore puts it back.
type ClockSetting struct {
	offset time.Duration
	frozen bool
	at     time.Time
}

// Setting returns how the clock is set now.
func (c *Clock) Setting() ClockSetting {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return ClockSetting{offset: c.offset, frozen: c.frozen, at: c.at}
}

// Restore sets the clock as s, which Setting returned: a change undone (a
// running clock reads its source at the old offset again).
func (c *Clock) Restore(s ClockSetting) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset, c.frozen, c.at = s.offset, s.frozen, s.at
}

// Frozen reports whether the clock is frozen.
func (c *Clock) Frozen() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.frozen
}

// Offset returns how far the clock's reading is from its source now:
// zero for a clock that was never set, advanced or frozen.
func (c *Clock) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.frozen {
		return c.at.Sub(c.sourceNow())
	}
	return c.offset
}

// The range of times the clock may read. A running clock is its source
// plus an offset, a time.Duration of at most 292 years either way, so
// that 0000-01-01 would read 1734 and 9999-01-01 2319; access entries'
// expires, and the times stored with them, stop at 2261 (policy
// timestamps); before 1970 every iat and exp would be negative, and in
// its first second 0, which JWT libraries and this IdP read as none (an
// ID token's auth_time, zitadel leaves out, so max_auth_age was never
// met; a SET's iat).
var (
	ClockMin = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)
	ClockMax = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)
)

// CheckClockTime reports whether the clock may be set to t: an error
// naming the range when t is before ClockMin or after ClockMax. Callers
// that take a time from a user (serve --clock, PUT /admin/api/clock)
// check it, and the time an advance leads to, before they change the
// clock.
func CheckClockTime(t time.Time) error {
	if t.Before(ClockMin) || t.After(ClockMax) {
		return fmt.Errorf("the clock cannot read %s; use a time from 1970-01-01T00:00:01Z to 2261-12-31T23:59:59Z", t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}
