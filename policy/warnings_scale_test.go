package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/policy"
)

// sharedMailbox is a file of n users who all have one address (a team's
// mailbox, as directories imported from HR often hold): n-1 warnings.
func sharedMailbox(n int) []byte {
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {username: user%d, password: p, sub: s%d, email: team@acme.example}\n", i, i)
	}
	return []byte(b.String())
}

// TestWarnings_ManyParseTheFileOnce: the warnings of a file with many
// look-alike users cost about one parse of the file, not one per warning
// (Line parses the whole file at each call): 5,000 users of one address
// made `check`, a start and every admin edit parse a company's file ten
// thousand times. Counted in allocations, which a parse makes thousands
// of, so that the bound holds on any machine.
func TestWarnings_ManyParseTheFileOnce(t *testing.T) {
	const n = 300
	data := sharedMailbox(n)
	cfg, err := policy.Parse(data, "u.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(policy.Warnings(cfg, data, "u.yaml")); got != n-1 {
		t.Fatalf("%d warnings, want %d", got, n-1)
	}
	parse := testing.AllocsPerRun(1, func() {
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
	})
	warn := testing.AllocsPerRun(1, func() { policy.Warnings(cfg, data, "u.yaml") })
	// One parse, and a few dozen allocations per warning for its text.
	if limit := parse + 50*n; warn > limit {
		t.Errorf("Warnings of %d look-alike users: %.0f allocations, want at most %.0f (one parse of the file is %.0f)", n, warn, limit, parse)
	}
}
