package idp

import (
	"strconv"
	"testing"
	"time"
)

// TestTTLMap_PutIfShare: below half of max any group stores; from half
// on, a group holding share live entries is refused (mine) with its
// soonest expiry, and another group is not; an entry of the group that
// is deleted or expires makes room for it again, and the deleted keys
// leave its list.
func TestTTLMap_PutIfShare(t *testing.T) {
	m, c := newTestTTLMap(40)
	m.groupedBy(func(v string) string { return v })
	exp := func(i int) time.Time { return c.t.Add(time.Minute + time.Duration(i)*time.Second) }
	for i := range 20 {
		if _, _, ok := m.PutIfShare("a"+strconv.Itoa(i), "a", exp(i), 40, 0, "a", 10); !ok {
			t.Fatalf("a's entry %d below half the map: refused", i)
		}
	}
	retry, mine, ok := m.PutIfShare("a-more", "a", exp(30), 40, 0, "a", 10)
	if ok || !mine || !retry.Equal(exp(0)) {
		t.Fatalf("a at half the map: ok %v mine %v retry %v, want refused as its own, retry at %v", ok, mine, retry, exp(0))
	}
	for i := range 10 {
		if _, _, ok := m.PutIfShare("b"+strconv.Itoa(i), "b", exp(i), 40, 0, "b", 10); !ok {
			t.Fatalf("b's entry %d: refused", i)
		}
	}
	if _, mine, ok := m.PutIfShare("b-more", "b", exp(30), 40, 0, "b", 10); ok || !mine {
		t.Fatalf("b over its share: ok %v mine %v", ok, mine)
	}
	for i := range 11 {
		m.Delete("a" + strconv.Itoa(i))
	}
	if _, _, ok := m.PutIfShare("a-back", "a", exp(30), 40, 0, "a", 10); !ok {
		t.Fatal("a with 9 entries left: refused")
	}
	if _, mine, ok := m.RoomForShare(40, 0, "a", 10); ok || !mine {
		t.Fatalf("a at its share again: ok %v mine %v", ok, mine)
	}
	if got := len(m.groupings[0].lists["a"]); got != 10 {
		t.Errorf("a's list holds %d keys, want 10 (the deleted ones dropped)", got)
	}
	c.t = exp(15) // a's 11..14 and b's entries expire
	if _, _, ok := m.PutIfShare("b-late", "b", exp(40), 40, 0, "b", 10); !ok {
		t.Fatal("b with its entries expired: refused")
	}
}
