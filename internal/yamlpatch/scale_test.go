package yamlpatch_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
)

// TestPut_CostDoesNotGrowWithTheList: replacing one entry of a list costs
// the same in a list of 100 entries as in one of 5,000. Put styled the new
// nodes like every other entry of the list, gathering the values of the
// changed key from all of them, so that a SCIM PATCH adding 1,000 users
// to a group (1,000 Puts in one edit) over a company's 5,000 users read
// the whole list 1,000 times. Counted in bytes allocated, which gathering
// grows with the list, so that the bound holds on any machine.
func TestPut_CostDoesNotGrowWithTheList(t *testing.T) {
	bytesOfPut := func(n int) uint64 {
		var b strings.Builder
		b.WriteString("users:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - username: user%d\n    password: p\n    groups: [g%d, g%d]\n", i, i%50, (i+1)%50)
		}
		d, err := yamlpatch.Edit([]byte(b.String()), schema, decode)
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range 20 {
			u := user{Username: fmt.Sprint("user", i), Password: "p", Groups: []string{"g1", "g2", "new"}, Name: "A Name"}
			if err := d.Put("users", i, u); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := bytesOfPut(100), bytesOfPut(5000)
	if large > 2*small {
		t.Errorf("20 Puts allocate %d bytes in a list of 5,000 entries, %d in one of 100: the cost of a Put grows with the list", large, small)
	}
}
