package policy

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
)

// TestApplyBatch_IndexesTheListOnce: a batch that changes many users (a
// SCIM PATCH of a group's 1,000 members) reads each user's name once, not
// once per changed user: the lookup was O(members x users).
func TestApplyBatch_IndexesTheListOnce(t *testing.T) {
	const n = 400
	src, cur := batchUsers(n)
	keyReads := 0
	counting := func(c *Config) ([]User, func(*User) string) {
		list, key := usersOf(c)
		return list, func(u *User) string { keyReads++; return key(u) }
	}
	var entries []batchEntry[User]
	for i := n - 1; i >= 0; i -= 2 { // every other user, from the end
		u := cur.Users[i]
		u.Groups = []string{"eng"}
		entries = append(entries, batchEntry[User]{name: u.Username, v: u})
	}
	entries = append(entries, batchEntry[User]{name: "user0", del: true}, batchEntry[User]{v: User{Username: "new", Password: "p"}})
	doc, err := yamlpatch.Edit([]byte(src), reflect.TypeFor[Config](), decodeLikeParse)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyBatch(doc, cur, "user", "users", counting, entries, nil); err != nil {
		t.Fatal(err)
	}
	if keyReads > n {
		t.Errorf("%d usernames read for a batch of %d over %d users, want at most %d (one pass)", keyReads, len(entries), n, n)
	}
	out, err := doc.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(out, "batch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Users) != n || got.User("user0") != nil || got.User("new") == nil ||
		!got.User("user399").InGroup("eng") || got.User("user398").InGroup("eng") || !got.User("user3").InGroup("eng") {
		t.Errorf("after the batch: %d users, user0 %v, new %v", len(got.Users), got.User("user0"), got.User("new"))
	}

	// A name that names nothing, and a name edited twice, are refused.
	doc, _ = yamlpatch.Edit([]byte(src), reflect.TypeFor[Config](), decodeLikeParse)
	var nf *NotFoundError
	if err := applyBatch(doc, cur, "user", "users", usersOf, []batchEntry[User]{{name: "nobody"}}, nil); !errors.As(err, &nf) {
		t.Errorf("unknown user: %v, want a NotFoundError", err)
	}
	if err := applyBatch(doc, cur, "user", "users", usersOf, []batchEntry[User]{{name: "user5", v: cur.Users[5]}, {name: "user5", del: true}}, nil); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a user edited twice: %v", err)
	}
}

// BenchmarkApplyBatch is the lookup part of a SCIM PATCH that adds 1,000
// members to a group of a 5,000-user company: 1,000 users changed.
func BenchmarkApplyBatch(b *testing.B) {
	const n, changed = 5000, 1000
	src, cur := batchUsers(n)
	var entries []batchEntry[User]
	for i := range changed {
		u := cur.Users[n-1-i*5]
		u.Groups = []string{"eng"}
		entries = append(entries, batchEntry[User]{name: u.Username, v: u})
	}
	data := []byte(src)
	for b.Loop() {
		b.StopTimer()
		doc, err := yamlpatch.Edit(data, reflect.TypeFor[Config](), decodeLikeParse)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := applyBatch(doc, cur, "user", "users", usersOf, entries, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// batchUsers is a configuration of group eng and n users named user0 to
// user<n-1>, none in it, as YAML, and a Config of the same users.
func batchUsers(n int) (string, *Config) {
	var src strings.Builder
	src.WriteString("groups:\n  - name: eng\nusers:\n")
	cur := &Config{}
	for i := range n {
		name := fmt.Sprint("user", i)
		fmt.Fprintf(&src, "  - username: %s\n    password: p\n", name)
		cur.Users = append(cur.Users, User{Username: name, Password: "p"})
	}
	return src.String(), cur
}
