package throttle_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/throttle"
)

// clock is a test clock that moves only when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newThrottle(o throttle.Options) (*throttle.Throttle, *clock) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	o.Now = c.now
	return throttle.New(o), c
}

func fail(t *throttle.Throttle, user string, n int) {
	for range n {
		t.Failure(user)
	}
}

func TestThrottle_FiveFailuresAreFree(t *testing.T) {
	th, _ := newThrottle(throttle.Options{})
	for i := range throttle.FreeFailures - 1 {
		th.Failure("bob")
		if wait, ok := th.Allow("bob"); !ok {
			t.Fatalf("after %d failures: refused for %v", i+1, wait)
		}
	}
	th.Failure("bob")
	wait, ok := th.Allow("bob")
	if ok || wait != time.Second {
		t.Fatalf("after 5 failures: Allow = %v, %v; want 1s, false", wait, ok)
	}
}

func TestThrottle_BackoffDoublesUpToFiveMinutes(t *testing.T) {
	th, c := newThrottle(throttle.Options{})
	fail(th, "bob", throttle.FreeFailures)
	want := []time.Duration{2, 4, 8, 16, 32, 64, 128, 256, 300, 300}
	for i, w := range want {
		wait, _ := th.Allow("bob")
		c.advance(wait) // the back-off ends
		if _, ok := th.Allow("bob"); !ok {
			t.Fatalf("step %d: still refused after the back-off", i)
		}
		th.Failure("bob")
		if wait, ok := th.Allow("bob"); ok || wait != w*time.Second {
			t.Fatalf("failure %d: Allow = %v, %v; want %v, false", throttle.FreeFailures+i+1, wait, ok, w*time.Second)
		}
	}
}

func TestThrottle_RefusedAttemptsDoNotCount(t *testing.T) {
	th, c := newThrottle(throttle.Options{})
	fail(th, "bob", throttle.FreeFailures)
	for range 100 { // refused attempts: the caller reports nothing
		if _, ok := th.Allow("bob"); ok {
			t.Fatal("allowed during the back-off")
		}
		c.advance(time.Millisecond)
	}
	c.advance(time.Second)
	if _, ok := th.Allow("bob"); !ok {
		t.Fatal("refused after the first back-off: refused attempts were counted")
	}
}

func TestThrottle_RightPasswordIsRefusedDuringBackoff(t *testing.T) {
	// Allow comes before the password check: during a back-off even the
	// right password is not tried, so guessing cannot go on.
	th, _ := newThrottle(throttle.Options{})
	fail(th, "bob", throttle.FreeFailures)
	if _, ok := th.Allow("bob"); ok {
		t.Fatal("allowed during the back-off")
	}
}

func TestThrottle_SuccessResets(t *testing.T) {
	th, c := newThrottle(throttle.Options{})
	fail(th, "bob", throttle.FreeFailures+3)
	wait, _ := th.Allow("bob")
	c.advance(wait)
	th.Success("bob")
	fail(th, "bob", throttle.FreeFailures-1)
	if _, ok := th.Allow("bob"); !ok {
		t.Fatal("the failures before the success still count")
	}
	if th.Len() != 1 {
		t.Fatalf("tracking %d usernames, want 1", th.Len())
	}
	th.Success("bob")
	if th.Len() != 0 {
		t.Fatalf("a success left %d entries", th.Len())
	}
}

func TestThrottle_OtherUsernamesAreUnaffected(t *testing.T) {
	th, _ := newThrottle(throttle.Options{})
	fail(th, "bob", 20)
	if _, ok := th.Allow("alice"); !ok {
		t.Fatal("alice refused for bob's failures")
	}
	if _, ok := th.Allow("Bob"); !ok {
		t.Fatal("usernames are compared exactly, as the configuration does")
	}
}

func TestThrottle_Disabled(t *testing.T) {
	th, _ := newThrottle(throttle.Options{Disabled: true})
	fail(th, "bob", 100)
	if wait, ok := th.Allow("bob"); !ok || wait != 0 {
		t.Fatalf("disabled: Allow = %v, %v", wait, ok)
	}
	if th.Len() != 0 {
		t.Fatalf("disabled: tracking %d usernames", th.Len())
	}
}

func TestThrottle_IdleEntriesAreForgotten(t *testing.T) {
	th, c := newThrottle(throttle.Options{})
	fail(th, "bob", throttle.FreeFailures-1)
	fail(th, "carol", throttle.FreeFailures+10) // 5 min back-off
	c.advance(throttle.Forget + time.Second)
	th.Failure("dave") // sweeps
	if th.Len() != 2 {
		t.Fatalf("tracking %d usernames; want carol (still backing off, then Forget) and dave", th.Len())
	}
	c.advance(throttle.MaxBackoff)
	th.Failure("dave")
	if th.Len() != 1 {
		t.Fatalf("tracking %d usernames after carol's time; want dave only", th.Len())
	}
	fail(th, "bob", 1)
	if _, ok := th.Allow("bob"); !ok {
		t.Fatal("bob's forgotten failures still count")
	}
}

func TestThrottle_MemoryIsBounded(t *testing.T) {
	th, c := newThrottle(throttle.Options{Max: 100})
	for i := range 1000 {
		th.Failure("user" + strconv.Itoa(i))
		c.advance(time.Millisecond)
	}
	if th.Len() > 100 {
		t.Fatalf("tracking %d usernames, Max is 100", th.Len())
	}
	// A username that just failed is tracked, even at the bound.
	fail(th, "bob", throttle.FreeFailures)
	if _, ok := th.Allow("bob"); ok {
		t.Fatal("bob not throttled at the bound")
	}
}

func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		wait time.Duration
		want string
	}{
		{time.Second, "1"},
		{time.Millisecond, "1"},
		{1500 * time.Millisecond, "2"},
		{5 * time.Minute, "300"},
		{0, "1"},
	} {
		if got := throttle.RetryAfter(c.wait); got != c.want {
			t.Errorf("RetryAfter(%v) = %s, want %s", c.wait, got, c.want)
		}
	}
}

// BenchmarkAllowSuccess is the cost the throttle adds to a good login.
func BenchmarkAllowSuccess(b *testing.B) {
	th := throttle.New(throttle.Options{})
	fail(th, "someone-else", 3)
	for b.Loop() {
		if _, ok := th.Allow("alice"); !ok {
			b.Fatal("refused")
		}
		th.Success("alice")
	}
}

// At the bound, the entries dropped are those with the fewest failures: a
// flood of failures for other usernames, one each, does not reset the
// count of a username being guessed (and lift its back-off).
func TestThrottle_FloodOfOtherUsernamesKeepsTheBackoff(t *testing.T) {
	th, c := newThrottle(throttle.Options{Max: 100})
	fail(th, "bob", throttle.FreeFailures+3)
	for i := range 1000 {
		th.Failure("user" + strconv.Itoa(i))
		c.advance(time.Millisecond)
	}
	if _, ok := th.Allow("bob"); ok {
		t.Fatal("bob's back-off was dropped to make room for a flood of other usernames")
	}
}

// TestThrottle_AttemptsAtOnceAreBounded: attempts let through count until
// their outcome is reported, so that attempts sent at once (each a slow
// password_bcrypt check) cannot all be checked before the first failure
// counts: at most as many as failures are left before the back-off, and
// one at a time once a back-off has ended. An attempt whose outcome is
// never reported stops counting after CheckTime.
func TestThrottle_AttemptsAtOnceAreBounded(t *testing.T) {
	th, c := newThrottle(throttle.Options{})
	allowed := func(n int) int {
		got := 0
		for range n {
			if _, ok := th.Allow("bob"); ok {
				got++
			}
		}
		return got
	}
	if got := allowed(100); got != throttle.FreeFailures {
		t.Fatalf("100 attempts at once: %d let through, want %d", got, throttle.FreeFailures)
	}
	if wait, ok := th.Allow("carol"); !ok {
		t.Fatalf("another username: refused for %v", wait)
	}
	fail(th, "bob", 2)
	if got := allowed(100); got != 0 {
		t.Errorf("3 still being checked, 2 failures: %d more let through, want 0", got)
	}
	fail(th, "bob", 3) // the back-off starts
	c.advance(time.Second)
	if got := allowed(100); got != 1 {
		t.Errorf("after the back-off: %d let through at once, want 1", got)
	}
	c.advance(throttle.CheckTime + time.Second) // its outcome never came
	if got := allowed(100); got != 1 {
		t.Errorf("after an unreported check: %d let through, want 1", got)
	}
	th.Success("bob")
	if got := allowed(100); got != throttle.FreeFailures {
		t.Errorf("after a success: %d let through, want %d", got, throttle.FreeFailures)
	}
}

// TestThrottle_WaitQueuesAttemptsBeyondTheBound: an attempt beyond the ones
// being checked waits for one of them to be reported instead of being
// refused, so that parallel logins with the right password all go through;
// once failures start a back-off, the waiting attempts get it without
// their passwords being checked; a request that goes away stops waiting.
func TestThrottle_WaitQueuesAttemptsBeyondTheBound(t *testing.T) {
	th, _ := newThrottle(throttle.Options{})
	ctx := context.Background()
	checking(t, th, "alice")
	done := waiting(th, ctx, "alice")
	select {
	case r := <-done:
		t.Fatalf("an attempt beyond the %d being checked did not wait (ok %v)", throttle.FreeFailures, r.ok)
	case <-time.After(50 * time.Millisecond):
	}
	th.Success("alice") // one of the five: the right password
	if r := <-done; !r.ok {
		t.Fatal("the waiting attempt was refused after a success")
	}

	// Five guesses being checked, one more waiting: the guesses fail.
	checking(t, th, "bob")
	done = waiting(th, ctx, "bob")
	fail(th, "bob", throttle.FreeFailures)
	if r := <-done; r.ok || r.wait < time.Second {
		t.Fatalf("the waiting guess after %d failures: ok %v, wait %v; want the back-off", throttle.FreeFailures, r.ok, r.wait)
	}

	// A request that goes away stops waiting.
	for range throttle.FreeFailures {
		th.Wait(ctx, "carol")
	}
	gone, cancel := context.WithCancel(ctx)
	done = waiting(th, gone, "carol")
	cancel()
	if r := <-done; r.ok {
		t.Fatal("a cancelled attempt was let through")
	}
}

type waitResult struct {
	wait time.Duration
	ok   bool
}

func waiting(th *throttle.Throttle, ctx context.Context, user string) chan waitResult {
	done := make(chan waitResult, 1)
	go func() {
		wait, ok := th.Wait(ctx, user)
		done <- waitResult{wait, ok}
	}()
	return done
}

// TestThrottle_WaitLastsWhileChecksKeepEnding: CheckTime bounds how long
// an attempt waits for one being checked to end, not how long it waits in
// all: attempts sent at once wait behind several rounds of checks (a
// script's 20 admin API calls as one password_bcrypt admin are four
// rounds of five), and a slow machine makes the rounds add up to more
// than CheckTime. While checks keep ending, the attempt waits on; only a
// check that none ends for CheckTime (a stuck one) makes it give up.
func TestThrottle_WaitLastsWhileChecksKeepEnding(t *testing.T) {
	t.Parallel()
	th, _ := newThrottle(throttle.Options{})
	ctx := context.Background()
	checking(t, th, "alice")
	done := waiting(th, ctx, "alice")
	// Each failure ends one check and lowers the bound by one: the
	// attempt still waits, each time less than CheckTime, in all more.
	step := throttle.CheckTime * 3 / 10
	for i := range throttle.FreeFailures - 1 {
		time.Sleep(step)
		select {
		case r := <-done:
			t.Fatalf("after %v, with a check ending every %v, the waiting attempt gave up (ok %v, wait %v)", time.Duration(i+1)*step, step, r.ok, r.wait)
		default:
		}
		th.Failure("alice")
	}
	th.Success("alice")
	if r := <-done; !r.ok {
		t.Fatalf("the waiting attempt was refused after a success (wait %v)", r.wait)
	}
}

// checking lets through as many attempts for user as may be checked at
// once, none of them reported yet.
func checking(t *testing.T, th *throttle.Throttle, user string) {
	t.Helper()
	for range throttle.FreeFailures {
		if _, ok := th.Wait(context.Background(), user); !ok {
			t.Fatal("refused below the bound")
		}
	}
}

// TestSweep_ForgetsIdleUsernames: usernames idle past Forget leave the
// throttle at a Sweep, with no further attempt to sweep them: a flood of
// made-up usernames was kept until the next login attempt came, the
// table it grew for the life of the process.
func TestSweep_ForgetsIdleUsernames(t *testing.T) {
	th, c := newThrottle(throttle.Options{})
	for i := range 2000 {
		th.Failure("ghost-" + strconv.Itoa(i))
	}
	c.advance(throttle.Forget - time.Second)
	th.Failure("recent")
	c.advance(2 * time.Second)
	th.Sweep()
	if n := th.Len(); n != 1 {
		t.Errorf("%d usernames tracked after %s idle, want 1 (the recent one)", n, throttle.Forget)
	}
	if _, ok := th.Allow("recent"); !ok {
		t.Error("the recent username was refused after one failure")
	}
}
