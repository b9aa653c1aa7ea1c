package admin

import (
	"bytes"
	"errors"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestEncodeAPIList_SameBytesAsEncodeAPI: the users list, written a user
// at a time, is byte for byte what encoding the whole slice wrote (indent,
// HTML escaping, the empty list, the final newline).
func TestEncodeAPIList_SameBytesAsEncodeAPI(t *testing.T) {
	views := []UserView{
		{User: policy.User{Username: "alice", Name: "Alice <a&b>", Groups: []string{"eng"}}, Access: []ServerAccess{{Server: "s1", Decision: "allowed", Allowed: true, ByClient: []ClientDecision{{ClientID: "c", Allowed: true, Reason: "r"}}}}},
		{User: policy.User{Username: "bob"}, Access: []ServerAccess{}},
		{User: policy.User{Username: "carol", Claims: map[string]any{"x": []any{1, "two"}}}, Access: []ServerAccess{}},
	}
	for n := range len(views) + 1 {
		var want, got bytes.Buffer
		if err := encodeAPI(&want, views[:n]); err != nil {
			t.Fatal(err)
		}
		if err := encodeAPIList(&got, n, func(i int) any { return views[i] }); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("%d users:\n got %q\nwant %q", n, got.String(), want.String())
		}
	}
}

// failAfter accepts n bytes, then fails every write, as a connection whose
// client has gone.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, errors.New("connection reset")
	}
	f.n -= len(p)
	return len(p), nil
}

// TestEncodeAPIList_MakesElementsAsItWrites: an element is made only as it
// is written, and once the client has gone the rest are not made: a page
// of a company's users (half a megabyte each) never sits in memory whole.
func TestEncodeAPIList_MakesElementsAsItWrites(t *testing.T) {
	big := UserView{User: policy.User{Username: string(bytes.Repeat([]byte("u"), 40<<10))}, Access: []ServerAccess{}}
	made := 0
	err := encodeAPIList(&failAfter{n: 100 << 10}, 1000, func(int) any { made++; return big })
	if err == nil {
		t.Fatal("no error from a writer that failed")
	}
	if made > 10 {
		t.Fatalf("%d of 1000 elements made for a client gone after 100 KB", made)
	}
}
