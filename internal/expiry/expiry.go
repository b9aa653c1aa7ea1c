// Package expiry orders keys by when they expire, so that a bounded store
// finds its expired entries, and the entry closest to expiry, without a
// scan of all of them under its lock. The IdP's token and session stores,
// the client metadata cache, the console's sessions and the replay cache
// each keep one beside their map.
package expiry

import (
	"iter"
	"time"
)

// Item is a key and the time it expires.
type Item[K any] struct {
	At  time.Time
	Key K
}

// Heap is a binary min-heap of Items, the soonest At on top. It holds the
// items themselves: container/heap's Push and Pop take an any, which cost
// an allocation for every item pushed. The zero value is an empty heap.
//
// A Heap knows nothing of the store beside it. A store that deletes a key,
// or stores it again with another expiry, leaves the old item in the heap,
// pops it when it reaches the top, and calls Rebuild from its entries once
// the stale items could outnumber them. Which items are stale is the
// store's to say, in its own loop over Top and Pop: a callback here, an
// indirect call per item the compiler cannot inline across packages, made
// a Put into a full IdP store slower (BenchmarkTTLMap_PutFull).
type Heap[K any] []Item[K]

// Len is the number of items, stale or not.
func (h Heap[K]) Len() int { return len(h) }

// Push adds k, expiring at at.
func (h *Heap[K]) Push(at time.Time, k K) {
	*h = append(*h, Item[K]{at, k})
	h.up(len(*h) - 1)
}

// Top returns the item that expires soonest, and false when h is empty.
func (h Heap[K]) Top() (Item[K], bool) {
	if len(h) == 0 {
		return Item[K]{}, false
	}
	return h[0], true
}

// Pop removes and returns the item that expires soonest, and false when h
// is empty. The slot it frees at the end of the array is cleared, so that
// the array no longer keeps the key alive.
func (h *Heap[K]) Pop() (Item[K], bool) {
	old := *h
	if len(old) == 0 {
		return Item[K]{}, false
	}
	top := old[0]
	n := len(old) - 1
	old[0] = old[n]
	old[n] = Item[K]{}
	*h = old[:n]
	h.down(0)
	return top, true
}

// Rebuild makes h hold the items of all, a key and its expiry each, and
// none of those it held. It reuses h's array, clearing the slots it no
// longer uses so that they keep no key alive; with shrink it moves the
// items to an array of their size instead, so that a store a burst has
// left gives back the array the burst grew.
func (h *Heap[K]) Rebuild(all iter.Seq2[K, time.Time], shrink bool) {
	old := *h
	items := old[:0]
	for k, at := range all {
		items = append(items, Item[K]{at, k})
	}
	if len(items) < len(old) {
		clear(old[len(items):])
	}
	if shrink && cap(items) > len(items) {
		items = append(make([]Item[K], 0, len(items)), items...)
	}
	*h = items
	for i := len(items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h Heap[K]) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h[i].At.Before(h[parent].At) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (h Heap[K]) down(i int) {
	n := len(h)
	for {
		least := i
		if l := 2*i + 1; l < n && h[l].At.Before(h[least].At) {
			least = l
		}
		if r := 2*i + 2; r < n && h[r].At.Before(h[least].At) {
			least = r
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}
