package policy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestTenantStore_EditChangesOnlyItsTenant edits the okta tenant of
// fixtures/samples/tenants.yaml through its TenantStore: a user added and
// an access entry added to its notes server. The file must change inside
// tenants[1] only, every comment and the layout elsewhere kept; the
// golden file is the expected result (go test -update rewrites it).
func TestTenantStore_EditChangesOnlyItsTenant(t *testing.T) {
	orig, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(file, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	okta := s.Tenant("okta")
	if _, err := okta.PutUser(policy.User{Username: "carol", Password: "carol", Email: "carol@okta-like.example"}, okta.Version()); err != nil {
		t.Fatal(err)
	}
	if _, err := okta.ApproveServerAccess("notes", policy.Access{Users: []string{"carol"}, Scopes: []string{"notes.read"}}, time.Now(), okta.Version()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "store", "tenant_edit.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the edited file differs from %s:\n%s", golden, got)
	}
	// The other tenants are exactly as they were: their lines are the
	// original file's, before and after okta's entry.
	start, end := bytes.Index(orig, []byte("  - id: okta")), bytes.Index(orig, []byte("  - id: anthropic-acme"))
	if !bytes.HasPrefix(got, orig[:start]) || !bytes.HasSuffix(got, orig[end:]) {
		t.Errorf("the edit changed more than the okta tenant:\n%s", got)
	}
	if c := s.Config().Tenant("acme"); c.User("carol") != nil {
		t.Error("carol appeared in acme")
	}
	if c := okta.Config(); c.User("carol") == nil || len(c.Server("notes").Access) != 2 {
		t.Errorf("okta after the edit: %+v", c)
	}
}
