package admin_test

import (
	"testing"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestUsersPage_OfTheConfigurationGiven: a page read with a Config is of
// that version, also once an edit has replaced it (the console shows the
// page beside the servers and positions of the configuration it read), and
// without one of the running configuration.
func TestUsersPage_OfTheConfigurationGiven(t *testing.T) {
	store, err := policy.NewStore([]byte(`users: [{username: alice, password: alice}]
clients: [{client_id: c, client_secret: s, redirect_uris: [http://127.0.0.1/callback]}]
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: "http://idp.example", Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	store.OnChange(srv.SetConfig)
	api := admin.New(admin.Options{IdP: srv, Store: store})
	before := store.Config()
	if _, err := store.PutUser(policy.User{Username: "bob", Password: "bob"}, "*"); err != nil {
		t.Fatal(err)
	}

	names := func(q admin.UsersQuery) []string {
		t.Helper()
		users, _, err := api.UsersPage(q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range users {
			out = append(out, u.Username)
		}
		return out
	}
	if got := names(admin.UsersQuery{Config: before}); len(got) != 1 || got[0] != "alice" {
		t.Errorf("the page of the configuration before the edit: %v", got)
	}
	if got := names(admin.UsersQuery{}); len(got) != 2 || got[1] != "bob" {
		t.Errorf("the page of the running configuration: %v", got)
	}
	if _, _, err := api.UsersPage(admin.UsersQuery{After: "bob", Config: before}); err != admin.ErrNoSuchUser {
		t.Errorf("after a user the configuration given does not have: %v", err)
	}
}
