package policy

import (
	"errors"
	"strings"
	"testing"
)

// TestForTenant: a problem between two tenants (a duplicate id or path,
// nested paths) is told to each tenant's admin as its own key alone and
// "conflicts with another tenant's configuration"; a problem of another
// tenant alone is that sentence, without a line; the file's check is
// told both keys.
func TestForTenant(t *testing.T) {
	for _, c := range []struct{ name, second string }{
		{"duplicate path", "  - {id: beta, path: /t/acme}\n"},
		{"nested path", "  - {id: beta, path: /t/acme/inner}\n"},
		{"duplicate id", "  - {id: acme, path: /t/other}\n"},
	} {
		file := "tenants:\n  - {id: acme, path: /t/acme}\n" + c.second
		_, err := Parse([]byte(file), "f.yaml")
		var ps Problems
		if !errors.As(err, &ps) || len(ps) != 1 {
			t.Fatalf("%s: %v, want one problem", c.name, err)
		}
		if !strings.Contains(ps[0].Msg, "tenants[1].") || !strings.Contains(ps.Error(), "line 2") {
			t.Errorf("%s: the file's check %q names not both tenants", c.name, ps[0].Msg)
		}
		for i, id := range []string{"acme", "beta"} {
			got := ps.forTenant(id, -1)
			other := []string{"tenants[1]", "tenants[0]"}[i]
			line := i + 2
			if c.name == "duplicate id" {
				if id != "acme" {
					continue
				}
				other, line = "line", ps.forTenant(id, -1)[0].Line // two tenants named acme: either side is acme's
			}
			if len(got) != 1 || got[0].Line != line || strings.Contains(got[0].Msg, other) || !strings.Contains(got[0].Msg, OtherTenant) || strings.Contains(got[0].Msg, "line") {
				t.Errorf("%s: tenant %s is told %v, want its own line %d alone and %q", c.name, id, got, line, OtherTenant)
			}
		}
	}
	// A problem of another tenant alone is one sentence without a line,
	// wherever the file lists the tenant.
	_, err := Parse([]byte("tenants:\n  - {id: beta, path: /t/beta, users: [{username: ''}]}\n  - {id: acme, path: /t/acme}\n"), "f.yaml")
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatal(err)
	}
	if got := ps.forTenant("acme", 0); len(got) != 1 || got[0].Line != 0 || got[0].Msg != "this configuration "+OtherTenant {
		t.Errorf("another tenant's own problem, told to acme: %v", got)
	}
	if got := ps.forTenant("beta", -1); len(got) != len(ps) || !strings.HasPrefix(got[0].Msg, "tenants[0].") {
		t.Errorf("beta's own problem, told to beta: %v, want %v", got, ps)
	}
	// Not known whose (bigMappings): by the index of the edited tenant.
	ps = Problems{{File: "f.yaml", Line: 9, Msg: "tenants[1].users: 5000 keys"}, {File: "f.yaml", Line: 3, Msg: "tenants[0].users: 5000 keys"}}
	if got := ps.forTenant("acme", 0); len(got) != 2 || got[0] != ps[1] || got[1].Line != 0 {
		t.Errorf("problems of unknown tenants: %v", got)
	}
}
