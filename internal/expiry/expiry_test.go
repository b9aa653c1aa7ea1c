package expiry_test

import (
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/expiry"
)

var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

// popAll pops every item of h and fails unless they come soonest first
// and are exactly want.
func popAll(t *testing.T, h *expiry.Heap[int], want map[int]time.Time) {
	t.Helper()
	want = maps.Clone(want)
	var last time.Time
	for h.Len() > 0 {
		it, ok := h.Pop()
		if !ok {
			t.Fatal("Pop on a heap of", h.Len(), "items reports it empty")
		}
		if it.At.Before(last) {
			t.Fatalf("popped %v after %v", it.At, last)
		}
		last = it.At
		if at, ok := want[it.Key]; !ok || !at.Equal(it.At) {
			t.Fatalf("popped key %d expiring %v, which the heap was not given", it.Key, it.At)
		}
		delete(want, it.Key)
	}
	if len(want) != 0 {
		t.Errorf("%d items never popped", len(want))
	}
}

func TestHeap_PopsSoonestFirstUnderRandomPushesAndPops(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h expiry.Heap[int]
	held := map[int]time.Time{}
	for k := range 20_000 {
		if len(held) > 0 && r.IntN(3) == 0 {
			it, ok := h.Pop()
			if !ok {
				t.Fatalf("Pop on %d items reports the heap empty", len(held))
			}
			for _, at := range held {
				if at.Before(it.At) {
					t.Fatalf("popped %v while %v was held", it.At, at)
				}
			}
			if at, ok := held[it.Key]; !ok || !at.Equal(it.At) {
				t.Fatalf("popped key %d expiring %v, not held", it.Key, it.At)
			}
			delete(held, it.Key)
		}
		// Few distinct times, so that ties are common.
		at := t0.Add(time.Duration(r.IntN(500)) * time.Second)
		h.Push(at, k)
		held[k] = at
		if top, _ := h.Top(); h.Len() != len(held) || top.At.After(at) {
			t.Fatalf("after pushing %v: %d items, top %v; want %d, no later than it", at, h.Len(), top.At, len(held))
		}
	}
	popAll(t, &h, held)
}

func TestHeap_EmptyReportsNothing(t *testing.T) {
	var h expiry.Heap[string]
	if _, ok := h.Top(); ok {
		t.Error("Top of an empty heap reports an item")
	}
	if _, ok := h.Pop(); ok {
		t.Error("Pop of an empty heap reports an item")
	}
}

func TestHeap_RebuildHoldsExactlyTheItemsGiven(t *testing.T) {
	for _, shrink := range []bool{false, true} {
		var h expiry.Heap[int]
		r := rand.New(rand.NewPCG(3, 4))
		for k := range 5000 {
			h.Push(t0.Add(time.Duration(r.IntN(1e6))), k)
		}
		kept := map[int]time.Time{}
		for k := range 5000 {
			if k%7 == 0 {
				// Some keep their item, some were stored again.
				kept[k] = t0.Add(time.Duration(r.IntN(1e6)))
			}
		}
		grown := cap(h)
		h.Rebuild(maps.All(kept), shrink)
		if h.Len() != len(kept) {
			t.Fatalf("shrink %v: %d items after Rebuild from %d", shrink, h.Len(), len(kept))
		}
		if shrink && cap(h) != len(kept) {
			t.Errorf("Rebuild with shrink keeps room for %d items, for %d", cap(h), len(kept))
		}
		if !shrink && cap(h) != grown {
			t.Errorf("Rebuild without shrink made a new array of %d, not reusing the %d", cap(h), grown)
		}
		for i, it := range h[len(h):cap(h)] {
			if it != (expiry.Item[int]{}) {
				t.Fatalf("shrink %v: slot %d beyond the rebuilt items still holds %v", shrink, len(h)+i, it)
			}
		}
		popAll(t, &h, kept)
	}
}

// Rebuild into an array too small for the items grows it.
func TestHeap_RebuildGrows(t *testing.T) {
	var h expiry.Heap[int]
	h.Push(t0, -1)
	all := map[int]time.Time{}
	for k := range 100 {
		all[k] = t0.Add(time.Duration(100-k) * time.Second)
	}
	h.Rebuild(maps.All(all), false)
	popAll(t, &h, all)
}

// The slots Pop frees keep no key: the array outlives the items popped
// from it, and a key may be a long token.
func TestHeap_PopClearsTheSlotItFrees(t *testing.T) {
	var h expiry.Heap[*[1 << 10]byte]
	for k := range 100 {
		h.Push(t0.Add(time.Duration(k%13)*time.Second), new([1 << 10]byte))
	}
	for range 60 {
		h.Pop()
	}
	for i, it := range h[len(h):cap(h)] {
		if it.Key != nil || !it.At.IsZero() {
			t.Fatalf("slot %d, popped, still holds %v", len(h)+i, it)
		}
	}
}

// BenchmarkHeap_PushPop is an item pushed and the soonest popped from a
// heap of 100,000: what a full store pays to order one entry.
func BenchmarkHeap_PushPop(b *testing.B) {
	var h expiry.Heap[string]
	const n = 100_000
	for i := range n {
		h.Push(t0.Add(time.Duration(i)*time.Millisecond), "key")
	}
	i := n
	for b.Loop() {
		h.Push(t0.Add(time.Duration(i)*time.Millisecond), "key")
		h.Pop()
		i++
	}
}
