package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAdminAPI_UnknownUsernameFloodLeavesCPU: an unknown username costs a
// bcrypt check (so that its 401 takes as long as a wrong password's), and
// the login throttle counts per username, so a flood of made-up usernames,
// each tried once, was checked at once on every core: the process spent
// all its CPU on bcrypt, and logins, token exchanges and /healthz waited
// behind it. Password checks now run at most max(1, GOMAXPROCS/2) at once,
// known usernames' and unknown ones' in the same queue (so their times
// still tell nothing apart).
func TestAdminAPI_UnknownUsernameFloodLeavesCPU(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	slots := max(1, procs/2)
	base := serveOneAdmin(t)
	// What is checked here is how many checks run at once, not the
	// queue's 5 s wait: on a loaded machine 72 checks in one queue
	// outlast it and shed (503).
	defer policy.LimitBcryptQueue(policy.MaxBcryptWaitersPerPlace*policy.BcryptPlaces(), time.Minute)()
	attempt := func(user string) error {
		req, _ := http.NewRequest(http.MethodGet, base+"/admin/api/status", nil)
		req.SetBasicAuth(user, "guess")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			return fmt.Errorf("%s: %d, want 401", user, resp.StatusCode)
		}
		return nil
	}
	if err := attempt("warm-up"); err != nil { // makes the unknown users' hash
		t.Fatal(err)
	}

	// The checks running at once, seen in the goroutines' stacks: one
	// waiting for its turn is not in package bcrypt.
	inBcrypt := func() int {
		buf := make([]byte, 8<<20)
		buf = buf[:runtime.Stack(buf, true)]
		n := 0
		for _, g := range bytes.Split(buf, []byte("\n\n")) {
			if bytes.Contains(g, []byte("golang.org/x/crypto/bcrypt.")) {
				n++
			}
		}
		return n
	}
	workers, each := 4*procs, 3
	errs := make(chan error, workers*each)
	done := make(chan struct{})
	most := make(chan int)
	go func() {
		m := 0
		for {
			select {
			case <-done:
				most <- m
				return
			case <-time.After(5 * time.Millisecond):
				m = max(m, inBcrypt())
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := attempt(fmt.Sprintf("nobody-%d-%d", w, i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(done)
	m := <-most
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if m > slots {
		t.Errorf("%d unknown usernames, %d at once: %d bcrypt checks ran at once; want at most %d (max(1, GOMAXPROCS/2), GOMAXPROCS %d), so that a flood leaves CPU to the rest", workers*each, workers, m, slots, procs)
	}
}

// TestAdminAPI_AbandonedChecksAreNotRun: a check waits for its place in
// the bounded queue; one whose client has gone away (a flood that sends
// and hangs up) is dropped rather than run later, so that hung-up
// requests do not pile up a backlog that the sign-ins after them wait out.
func TestAdminAPI_AbandonedChecksAreNotRun(t *testing.T) {
	slots := max(1, runtime.GOMAXPROCS(0)/2)
	base := serveOneAdmin(t)
	get := func(ctx context.Context, user, pw string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/admin/api/status", nil)
		req.SetBasicAuth(user, pw)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if _, err := get(context.Background(), "warm-up", "x"); err != nil {
		t.Fatal(err)
	}
	// The floor, in this run: the fastest of three sign-ins, each one check.
	floor := time.Hour
	for range 3 {
		start := time.Now()
		if status, err := get(context.Background(), "admin", "right-pw"); err != nil || status != http.StatusOK {
			t.Fatalf("the admin before the flood: %d %v", status, err)
		}
		floor = min(floor, time.Since(start))
	}
	// Some 40 checks' time per place, sent at once and hung up on; then
	// the admin signs in: behind the dropped checks, not after them. The
	// fastest of 3 such rounds, as the floor is the fastest of 3, so that
	// a moment of a busy machine in one round does not fail the test.
	took := time.Hour
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := range 40 * slots {
			wg.Go(func() { _, _ = get(ctx, fmt.Sprintf("gone-%d", i), "guess") })
		}
		time.Sleep(200 * time.Millisecond) // not a wait for anything: the time the flood lasts
		cancel()
		wg.Wait()
		start := time.Now()
		status, err := get(context.Background(), "admin", "right-pw")
		took = min(took, time.Since(start))
		if err != nil || status != http.StatusOK {
			t.Fatalf("the admin after the flood: %d %v", status, err)
		}
	}
	// Run first, the hung-up checks would take some 40 sign-ins' time (less
	// those done during the 200 ms); dropped, the admin waits at most for
	// the checks in progress. A ratio to the floor, not a wall-clock bound.
	if took > 12*floor {
		t.Errorf("the admin's sign-in after %d hung-up requests took %v, %.0fx one sign-in (%v): their checks were run first", 40*slots, took.Round(time.Millisecond), float64(took)/float64(floor), floor.Round(time.Millisecond))
	}
}

// serveOneAdmin serves a product whose one user, admin, signs in with
// right-pw, checked against a bcrypt hash; it returns the base URL.
func serveOneAdmin(t *testing.T) string {
	t.Helper()
	base, _ := serveConfig(t, `
users:
  - {username: admin, password_bcrypt: "`+rightPwHash(t)+`", admin: true}
`, "bcrypt.yaml")
	return base
}
