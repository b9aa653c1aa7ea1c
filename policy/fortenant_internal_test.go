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
		{"duplicate id", "  - {id: acme, path: /t/other}\n"},
		{"duplicate path", "  - {id: beta, path: /t/acme}\n"},
		{"nested path", "  - {id: beta, path: /t/acme/inner}\n"},
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
		for i, line := range []int{2, 3} {
			got := ps.forTenant(i)
			other := []string{"tenants[1]", "tenants[0]"}[i]
			if len(got) != 1 || got[0].Line != line || strings.Contains(got[0].Msg, other) || !strings.Contains(got[0].Msg, OtherTenant) || strings.Contains(got[0].Msg, "line") {
				t.Errorf("%s: tenant %d is told %v, want its own line %d alone and %q", c.name, i, got, line, OtherTenant)
			}
		}
	}
	ps := Problems{{File: "f.yaml", Line: 9, Msg: "tenants[1].users[0].username: bad"}, {File: "f.yaml", Line: 3, Msg: "tenants[0].users[0].username: bad"}}
	got := ps.forTenant(0)
	if len(got) != 2 || got[0] != ps[1] || got[1].Line != 0 || got[1].Msg != "the change "+OtherTenant {
		t.Errorf("another tenant's own problem: %v", got)
	}
}
