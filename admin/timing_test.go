package admin_test

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestAdminAPI_UnknownUserTakesAsLongAsWrongPassword: HTTP Basic at the
// admin API checked a bcrypt hash for a known username and nothing for an
// unknown one, so the 401's time (some 50 ms against under 1 ms) named
// the usernames that exist, admins among them.
func TestAdminAPI_UnknownUserTakesAsLongAsWrongPassword(t *testing.T) {
	hash := rightPwHash(t)
	base, _ := serveConfig(t, `
users:
  - {username: a1, password_bcrypt: "`+hash+`", admin: true}
  - {username: a2, password_bcrypt: "`+hash+`", admin: true}
  - {username: a3, password_bcrypt: "`+hash+`", admin: true}
`, "bcrypt.yaml")
	attempt := wrongPasswordTimer(t, base)
	// The fastest of three of each: a busy machine can only slow an
	// attempt down, so a stall cannot make the check fail.
	known, unknown := time.Hour, time.Hour
	for _, n := range []string{"1", "2", "3"} {
		known = min(known, attempt("a"+n))
		unknown = min(unknown, attempt("nobody"+n))
	}
	if unknown < known/3 {
		t.Errorf("the fastest wrong password took %v, the fastest unknown username %v: the time tells which usernames exist", known, unknown)
	}
}

// TestAdminAPI_PlainPasswordUserTakesAsLongAsUnknown: with password_bcrypt
// users, an unknown username costs a bcrypt check; a user with a plain
// password in the same file was refused at once, so a fast 401 named the
// plain-password usernames (the demo accounts a file kept, often admins).
// A wrong plain password now costs the same check.
func TestAdminAPI_PlainPasswordUserTakesAsLongAsUnknown(t *testing.T) {
	hash := rightPwHash(t)
	base, _ := serveConfig(t, `
users:
  - {username: hashed, password_bcrypt: "`+hash+`", admin: true}
  - {username: p1, password: plain-pw, admin: true}
  - {username: p2, password: plain-pw, admin: true}
  - {username: p3, password: plain-pw, admin: true}
`, "mixed.yaml")
	attempt := wrongPasswordTimer(t, base)
	attempt("warm-up") // makes the unknown usernames' hash
	// The fastest of three of each, as above.
	plain, unknown := time.Hour, time.Hour
	for _, n := range []string{"1", "2", "3"} {
		plain = min(plain, attempt("p"+n))
		unknown = min(unknown, attempt("nobody"+n))
	}
	if plain < unknown/3 {
		t.Errorf("the fastest wrong plain password took %v, the fastest unknown username %v: the time tells which usernames exist", plain, unknown)
	}
	// The right plain password still signs in.
	if resp, body := call(t, http.MethodGet, base+"/admin/api/status", "p1", "plain-pw", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("p1 with the right password: %d %s", resp.StatusCode, body)
	}
}

// rightPwHash is a bcrypt hash of "right-pw" at the default cost: the
// cost whose check takes the time these tests compare.
func rightPwHash(t *testing.T) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("right-pw"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(hash)
}

// wrongPasswordTimer returns a sign-in at base's admin API with a wrong
// password for user, which must be 401, timed.
func wrongPasswordTimer(t *testing.T, base string) func(user string) time.Duration {
	return func(user string) time.Duration {
		start := time.Now()
		resp, _ := call(t, http.MethodGet, base+"/admin/api/status", user, "wrong-pw", "")
		took := time.Since(start)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s with a wrong password: %d, want 401", user, resp.StatusCode)
		}
		return took
	}
}
