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
		return allocated(func() {
			for i := range 20 {
				u := user{Username: fmt.Sprint("user", i), Password: "p", Groups: []string{"g1", "g2", "new"}, Name: "A Name"}
				if err := d.Put("users", i, u); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	small, large := bytesOfPut(100), bytesOfPut(5000)
	if large > 2*small {
		t.Errorf("20 Puts allocate %d bytes in a list of 5,000 entries, %d in one of 100: the cost of a Put grows with the list", large, small)
	}
}

// TestPut_ManyPutsDoNotCopyTheList: the Puts of one edit into one list
// copy it once, not once each: every Put derived the list again, copying
// all of its entries, so that a SCIM PATCH adding 1,000 users to a group
// over 5,000 users copied 5 million node pointers. Counted in bytes
// allocated, as TestPut_CostDoesNotGrowWithTheList.
func TestPut_ManyPutsDoNotCopyTheList(t *testing.T) {
	bytesOfPuts := func(n int) uint64 {
		d := editOfUsers(t, n)
		// The first Put copies the list once, whatever follows.
		if err := d.Put("users", n-1, user{Username: fmt.Sprint("user", n-1), Password: "q"}); err != nil {
			t.Fatal(err)
		}
		return allocated(func() {
			for i := range 200 {
				if err := d.Put("users", i, user{Username: fmt.Sprint("user", i), Password: "q"}); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	small, large := bytesOfPuts(200), bytesOfPuts(20000)
	if large > 2*small {
		t.Errorf("200 Puts allocate %d bytes in a list of 20,000 entries, %d in one of 200: each Put copies the list", large, small)
	}
}

// TestDelete_ManyDeletesDoNotCopyTheList: the Deletes of one edit from
// one list copy it once, not once each, as Put's (a SCIM PATCH removing
// 1,000 users, or a batch of deletes, over 5,000 users copied the list
// 1,000 times). Counted in bytes allocated, as
// TestPut_ManyPutsDoNotCopyTheList; the entries left are checked too.
func TestDelete_ManyDeletesDoNotCopyTheList(t *testing.T) {
	bytesOfDeletes := func(n int) uint64 {
		d := editOfUsers(t, n)
		// The first Delete copies the list once, whatever follows.
		if err := d.Delete("users", n-1); err != nil {
			t.Fatal(err)
		}
		bytes := allocated(func() {
			for range 100 {
				if err := d.Delete("users", 0); err != nil { // the first
					t.Fatal(err)
				}
				if err := d.Delete("users", 1); err != nil { // one in the middle
					t.Fatal(err)
				}
			}
		})
		out, err := d.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		// Each round deletes the first and the second entry: left are
		// user199, then user201 .. user(n-2).
		want := "users:\n  - username: user199\n    password: p\n  - username: user201\n    password: p\n  - username: user202\n"
		if !strings.HasPrefix(string(out), want) || strings.Contains(string(out), fmt.Sprintf("user%d\n", n-1)) || strings.Count(string(out), "username:") != n-201 {
			t.Errorf("after 201 deletes of %d users the document starts:\n%.200s\nwant it to start:\n%s", n, out, want)
		}
		return bytes
	}
	small, large := bytesOfDeletes(400), bytesOfDeletes(20000)
	if large > 2*small {
		t.Errorf("200 Deletes allocate %d bytes in a list of 20,000 entries, %d in one of 400: each Delete copies the list", large, small)
	}
}

// editOfUsers opens for editing a document listing n users, user0 ..
// user(n-1), each with the password p.
func editOfUsers(t *testing.T, n int) *yamlpatch.Doc {
	t.Helper()
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - username: user%d\n    password: p\n", i)
	}
	d, err := yamlpatch.Edit([]byte(b.String()), schema, decode)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// allocated runs f and returns the bytes allocated while it ran, a cost
// that, unlike time, is the same on any machine.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
