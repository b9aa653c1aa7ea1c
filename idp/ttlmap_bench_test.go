package idp

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkTTLMap_PutFull is a Put on a store at its cap of live entries,
// as every login pays once a load fills the used codes, tokens or sessions:
// each Put must drop the entry closest to expiry. Compare it with the floor,
// BenchmarkTTLMap_PutEmpty.
func BenchmarkTTLMap_PutFull(b *testing.B) {
	now := time.Unix(1e9, 0)
	m := newTTLMap[string, string](maxTokens, func() time.Time { return now })
	for i := range maxTokens {
		m.Put(strconv.Itoa(i), "grant", now.Add(time.Hour+time.Duration(i)*time.Millisecond))
	}
	i := maxTokens
	for b.Loop() {
		m.Put(strconv.Itoa(i), "grant", now.Add(time.Hour+time.Duration(i)*time.Millisecond))
		i++
	}
	if m.Len() != maxTokens {
		b.Fatalf("%d entries, want %d", m.Len(), maxTokens)
	}
}

// BenchmarkTTLMap_PutEmpty is the floor: a Put (and the Delete that keeps
// the store empty) where there is room.
func BenchmarkTTLMap_PutEmpty(b *testing.B) {
	now := time.Unix(1e9, 0)
	m := newTTLMap[string, string](maxTokens, func() time.Time { return now })
	i := 0
	for b.Loop() {
		k := strconv.Itoa(i)
		m.Put(k, "grant", now.Add(time.Hour+time.Duration(i)*time.Millisecond))
		m.Delete(k)
		i++
	}
}
