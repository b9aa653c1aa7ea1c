package admin_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/policy"
)

// holdBcrypt takes every place policy.BcryptPlace has, so that no bcrypt
// run may start, and returns the functions that give them back (each
// also given back when the test ends).
func holdBcrypt(t *testing.T) []func() {
	t.Helper()
	var held []func()
	for range policy.BcryptPlaces() {
		release, err := policy.BcryptPlace(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var once atomic.Bool
		give := func() {
			if once.CompareAndSwap(false, true) {
				release()
			}
		}
		t.Cleanup(give)
		held = append(held, give)
	}
	return held
}

// scimDo sends a SCIM request as alice, from any goroutine: its status,
// or the client's error.
func scimDo(ctx context.Context, p *product, method, path, body string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.base+scimBase+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/scim+json")
	req.SetBasicAuth("alice", "alice-pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// SCIM hashes the passwords it is sent within the limit the logins'
// bcrypt checks keep (policy.BcryptPlace): while every place is taken no
// SCIM write hashes, and with one place two concurrent ones (a POST and a
// PATCH) hash one after the other, and both succeed.
func TestSCIM_PasswordHashesKeepTheBcryptLimit(t *testing.T) {
	p := editable(t)
	held := holdBcrypt(t)
	var full atomic.Bool // every place is held by the test
	full.Store(true)
	waiting := make(chan struct{}, 2)
	hashedWhenFull := make(chan struct{}, 2)
	var active, most atomic.Int32
	defer admin.WatchBcrypt(
		func(ctx context.Context) (func(), error) {
			waiting <- struct{}{}
			return policy.BcryptPlace(ctx)
		},
		func(pw []byte, _ int) ([]byte, error) {
			if full.Load() {
				hashedWhenFull <- struct{}{}
			}
			n := active.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			defer active.Add(-1)
			return bcrypt.GenerateFromPassword(pw, bcrypt.MinCost)
		})()

	type answer struct {
		what   string
		status int
		err    error
	}
	answers := make(chan answer, 2)
	send := func(what, method, path, body string) {
		go func() {
			status, err := scimDo(context.Background(), p, method, path, body)
			answers <- answer{what, status, err}
		}()
	}
	send("POST", "POST", "/Users", `{"userName":"carol","password":"carol-new-pw"}`)
	send("PATCH", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"password","value":"bob-new-pw"}]}`)
	for range 2 {
		select {
		case <-waiting:
		case <-hashedWhenFull:
			t.Fatal("a SCIM password was hashed while every bcrypt place was taken")
		case a := <-answers:
			t.Fatalf("%s answered %d %v while every bcrypt place was taken", a.what, a.status, a.err)
		}
	}
	// One place: the two hash in turn.
	full.Store(false)
	held[0]()
	want := map[string]int{"POST": http.StatusCreated, "PATCH": http.StatusOK}
	for range 2 {
		a := <-answers
		if a.err != nil || a.status != want[a.what] {
			t.Errorf("%s: %d %v, want %d", a.what, a.status, a.err, want[a.what])
		}
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d SCIM hashes ran at once with one bcrypt place, want 1", m)
	}
	for _, user := range []string{"carol", "bob"} {
		if _, err := p.loginAs(user, user+"-new-pw"); err != nil {
			t.Errorf("%s cannot log in with the password SCIM set: %v", user, err)
		}
	}
}

// A SCIM write whose client goes away while it waits for a bcrypt place
// hashes nothing and changes nothing.
func TestSCIM_PasswordWaitEndsWithTheClient(t *testing.T) {
	p := editable(t)
	holdBcrypt(t)
	waiting := make(chan struct{}, 1)
	gaveUp := make(chan error, 1)
	var hashes atomic.Int32
	defer admin.WatchBcrypt(
		func(ctx context.Context) (func(), error) {
			waiting <- struct{}{}
			release, err := policy.BcryptPlace(ctx)
			if err != nil {
				gaveUp <- err
			}
			return release, err
		},
		func(pw []byte, cost int) ([]byte, error) {
			hashes.Add(1)
			return bcrypt.GenerateFromPassword(pw, bcrypt.MinCost)
		})()
	before := readFile(t, p.file)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := scimDo(ctx, p, "PUT", "/Users/u-bob", `{"userName":"bob","displayName":"Bobby","password":"bob-new-pw"}`)
		done <- err
	}()
	select {
	case <-waiting:
	case err := <-done:
		t.Fatalf("the PUT was answered (%v) while every bcrypt place was taken", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client's PUT: %v, want it cancelled", err)
	}
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("the wait for a bcrypt place ended with %v, want the request's cancellation", err)
	}
	if n := hashes.Load(); n != 0 {
		t.Errorf("%d passwords hashed for a request whose client went away", n)
	}
	if after := readFile(t, p.file); after != before {
		t.Errorf("the file changed for a request whose client went away:\n%s", after)
	}
}
