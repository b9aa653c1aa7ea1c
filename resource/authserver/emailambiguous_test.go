package authserver_test

import (
	"net/http"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestSubjectMapping_EmailOfTwoUsersMapsToNeither: with subject mapping by
// email, an ID-JAG whose email is the address of two local users (equal
// but for ASCII case, as mail systems and SameEmail compare them) maps to
// neither. Taking the first would make whoever holds the second address at
// the IdP (ALICE@ACME.EXAMPLE, another account there) the first local user
// here; the users of another issuer do not count.
func TestSubjectMapping_EmailOfTwoUsersMapsToNeither(t *testing.T) {
	users := []authserver.User{
		{Username: "alice", Sub: "00u-alice-local", Email: aliceEmail},
		{Username: "alice2", Sub: "00u-alice2", Email: "ALICE@ACME.EXAMPLE"},
		{Username: "bob", Sub: "00u-bob", Email: "bob@acme.example"},
		{Username: "bob-elsewhere", Sub: "00u-bob-elsewhere", Email: "bob@acme.example", Issuer: "https://other-idp.example"},
	}
	e := newEnv(t, func(c *authserver.Config) { c.Subject, c.Users = authserver.SubjectEmail, users })
	for _, email := range []string{aliceEmail, "ALICE@ACME.EXAMPLE", "Alice@acme.example"} {
		r := e.post(t, grant(e.jag(t, func(c map[string]any) { c["email"] = email })))
		wantRefused(t, r, http.StatusBadRequest, "invalid_grant", `2 local users (alice, alice2) have the ID-JAG's email '`+email+`'`)
	}
	r := e.post(t, grant(e.jag(t, func(c map[string]any) { c["email"] = "bob@acme.example" })))
	if r.status != http.StatusOK {
		t.Fatalf("bob: HTTP %d %s, want an access token (the other issuer's bob does not count)", r.status, r.raw)
	}
}
