package idp

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// clockAt is a clock a test moves by hand.
type clockAt struct{ t time.Time }

func (c *clockAt) now() time.Time { return c.t }

func newTestTTLMap(max int) (*ttlMap[string, string], *clockAt) {
	c := &clockAt{time.Unix(1e9, 0)}
	return newTTLMap[string, string](max, c.now), c
}

// wantKeys fails t unless m holds exactly the live keys want.
func wantKeys(t *testing.T, m *ttlMap[string, string], want ...string) {
	t.Helper()
	if m.Len() != len(want) {
		t.Errorf("%d entries, want %d (%v)", m.Len(), len(want), want)
	}
	for _, k := range want {
		if _, ok := m.Get(k); !ok {
			t.Errorf("%q was dropped", k)
		}
	}
}

func TestTTLMap_FullDropsTheExpiredThenTheSoonest(t *testing.T) {
	m, c := newTestTTLMap(3)
	m.Put("a", "", c.t.Add(1*time.Minute))
	m.Put("b", "", c.t.Add(2*time.Minute))
	m.Put("c", "", c.t.Add(3*time.Minute))
	c.t = c.t.Add(90 * time.Second) // a has expired
	if m.PutEvicting("d", "", c.t.Add(4*time.Minute)) {
		t.Error("an expired entry made room, yet PutEvicting reported a live one dropped")
	}
	wantKeys(t, m, "b", "c", "d")
	if !m.PutEvicting("e", "", c.t.Add(5*time.Minute)) {
		t.Error("a live entry was dropped, yet PutEvicting reported none")
	}
	wantKeys(t, m, "c", "d", "e")
}

// A key stored again keeps its place in the order of expiry only by its
// newest expiry: the item of the old one is stale.
func TestTTLMap_PutTwiceEvictsByTheNewExpiry(t *testing.T) {
	t.Run("later", func(t *testing.T) {
		m, c := newTestTTLMap(3)
		m.Put("a", "", c.t.Add(1*time.Minute))
		m.Put("b", "", c.t.Add(2*time.Minute))
		m.Put("c", "", c.t.Add(3*time.Minute))
		m.Put("a", "", c.t.Add(4*time.Minute))
		m.Put("d", "", c.t.Add(5*time.Minute))
		wantKeys(t, m, "a", "c", "d")
		// The stale item of a, a minute in, must not drop it in a sweep either.
		c.t = c.t.Add(150 * time.Second)
		m.Sweep()
		wantKeys(t, m, "a", "c", "d")
	})
	t.Run("sooner", func(t *testing.T) {
		m, c := newTestTTLMap(3)
		m.Put("a", "", c.t.Add(4*time.Minute))
		m.Put("b", "", c.t.Add(2*time.Minute))
		m.Put("c", "", c.t.Add(3*time.Minute))
		m.Put("a", "", c.t.Add(1*time.Minute))
		m.Put("d", "", c.t.Add(5*time.Minute))
		wantKeys(t, m, "b", "c", "d")
		c.t = c.t.Add(150 * time.Second)
		m.Sweep()
		wantKeys(t, m, "c", "d")
	})
	t.Run("same expiry, new value", func(t *testing.T) {
		m, c := newTestTTLMap(2)
		m.Put("a", "old", c.t.Add(1*time.Minute))
		m.Put("a", "new", c.t.Add(1*time.Minute))
		if v, _ := m.Get("a"); v != "new" {
			t.Errorf("a = %q, want new", v)
		}
		m.Put("b", "", c.t.Add(2*time.Minute))
		m.Put("c", "", c.t.Add(3*time.Minute))
		wantKeys(t, m, "b", "c")
		m.Put("d", "", c.t.Add(4*time.Minute))
		wantKeys(t, m, "c", "d")
	})
}

// An entry removed by any means leaves a stale item behind: eviction
// skips it and drops a live entry, so the map never holds more than max.
func TestTTLMap_EvictsPastRemovedEntries(t *testing.T) {
	removals := map[string]func(m *ttlMap[string, string], c *clockAt){
		"Delete": func(m *ttlMap[string, string], _ *clockAt) { m.Delete("a") },
		"Take": func(m *ttlMap[string, string], _ *clockAt) {
			if _, ok := m.Take("a"); !ok {
				panic("a was not there to take")
			}
		},
		"DeleteFunc": func(m *ttlMap[string, string], _ *clockAt) {
			m.DeleteFunc(func(k, _ string) bool { return k == "a" })
		},
		"Get of the expired": func(m *ttlMap[string, string], c *clockAt) {
			c.t = c.t.Add(90 * time.Second)
			m.Get("a")
			c.t = c.t.Add(-90 * time.Second)
		},
		"Delete, then Put with the same expiry": func(m *ttlMap[string, string], c *clockAt) {
			m.Delete("a")
			m.Put("a", "", c.t.Add(1*time.Minute))
			m.Delete("a")
		},
	}
	for name, remove := range removals {
		t.Run(name, func(t *testing.T) {
			m, c := newTestTTLMap(3)
			m.Put("a", "", c.t.Add(1*time.Minute))
			m.Put("b", "", c.t.Add(2*time.Minute))
			m.Put("c", "", c.t.Add(3*time.Minute))
			remove(m, c)
			if m.PutEvicting("d", "", c.t.Add(4*time.Minute)) {
				t.Error("there was room, yet PutEvicting dropped an entry")
			}
			if !m.PutEvicting("e", "", c.t.Add(5*time.Minute)) {
				t.Error("the map was full, yet PutEvicting reported nothing dropped")
			}
			wantKeys(t, m, "c", "d", "e")
			if _, ok := m.Get("a"); ok {
				t.Error("a came back")
			}
		})
	}
}

func TestTTLMap_UpdateKeepsTheExpiry(t *testing.T) {
	m, c := newTestTTLMap(2)
	m.Put("a", "", c.t.Add(1*time.Minute))
	m.Put("b", "", c.t.Add(2*time.Minute))
	if !m.Update("a", func(v *string) { *v = "updated" }) {
		t.Fatal("Update found no a")
	}
	m.Put("c", "", c.t.Add(3*time.Minute))
	wantKeys(t, m, "b", "c")
}

// PutIfRoom reports when the soonest live entry expires, not when the
// stale item of a key stored again would have.
func TestTTLMap_PutIfRoomRetryAtIsTheSoonestLiveExpiry(t *testing.T) {
	m, c := newTestTTLMap(100)
	m.Put("a", "", c.t.Add(1*time.Minute))
	m.Put("b", "", c.t.Add(2*time.Minute))
	m.Put("a", "", c.t.Add(3*time.Minute))
	retryAt, ok := m.PutIfRoom("c", "", c.t.Add(4*time.Minute), 2)
	if ok {
		t.Fatal("PutIfRoom stored c past its max")
	}
	if want := c.t.Add(2 * time.Minute); !retryAt.Equal(want) {
		t.Errorf("retryAt %v, want %v (b)", retryAt, want)
	}
	wantKeys(t, m, "a", "b")
}

// The items a Put leaves in the order (and the keys in the groups) when
// its key goes or is stored again are dropped once they could outnumber
// the entries: a store of a few live entries through which millions pass
// keeps its memory.
func TestTTLMap_OrderStaysBoundedByTheEntries(t *testing.T) {
	m, c := newTestTTLMap(maxTokens)
	m.groupedBy(func(v string) string { return v })
	m.Put("kept", "s", c.t.Add(time.Hour))
	bound := func() int { return 2*m.Len() + minShrink }
	put := func(k string, exp time.Time) {
		t.Helper()
		m.Put(k, "s"+strconv.Itoa(len(k)%3), exp)
		if len(m.byExp) > bound() || m.groupings[0].listed > bound() {
			t.Fatalf("after a Put the order holds %d items, and the groups list %d keys, for %d entries", len(m.byExp), m.groupings[0].listed, m.Len())
		}
	}
	for i := range 100_000 {
		k := strconv.Itoa(i)
		put(k, c.t.Add(time.Minute))
		switch i % 3 {
		case 0:
			m.Delete(k)
		case 1:
			m.Take(k)
		case 2:
			put("kept", c.t.Add(time.Hour+time.Duration(i)))
			m.DeleteFunc(func(key, _ string) bool { return key == k })
		}
	}
	wantKeys(t, m, "kept")

	// A burst, then its expiry: the sweep gives back the order's memory
	// with the map's.
	for i := range 50_000 {
		m.Put(strconv.Itoa(i), "s"+strconv.Itoa(i), c.t.Add(time.Minute))
	}
	c.t = c.t.Add(2 * time.Minute)
	m.Sweep()
	wantKeys(t, m, "kept")
	if cap(m.byExp) > bound() {
		t.Errorf("the swept order keeps room for %d items, for %d entries", cap(m.byExp), m.Len())
	}
	if len(m.groupings[0].lists) != 1 || m.groupings[0].listed != 1 {
		t.Errorf("the swept groups are %d, listing %d keys, for one entry", len(m.groupings[0].lists), m.groupings[0].listed)
	}
}

// refTTLMap is the ttlMap that scanned every entry to evict: the
// behaviour ttlMap keeps, in its simplest form.
type refTTLMap struct {
	max  int
	data map[string]ttlEntry[string]
}

func (r *refTTLMap) expire(now time.Time) {
	for k, e := range r.data {
		if !now.Before(e.exp) {
			delete(r.data, k)
		}
	}
}

func (r *refTTLMap) put(k, v string, exp, now time.Time) (evicted bool) {
	if _, ok := r.data[k]; !ok && len(r.data) >= r.max {
		r.expire(now)
		var victim string
		var soonest time.Time
		for k, e := range r.data {
			if soonest.IsZero() || e.exp.Before(soonest) {
				victim, soonest = k, e.exp
			}
		}
		if len(r.data) >= r.max {
			delete(r.data, victim)
			evicted = true
		}
	}
	r.data[k] = ttlEntry[string]{v, exp}
	return evicted
}

func (r *refTTLMap) get(k string, now time.Time) (string, bool) {
	e, ok := r.data[k]
	if !ok || !now.Before(e.exp) {
		delete(r.data, k)
		return "", false
	}
	return e.v, true
}

// TestTTLMap_ActsAsTheScanningMap runs random operations on a ttlMap and
// on refTTLMap and fails at the first answer in which they differ.
// Expiries are distinct, so that which entry is the soonest is never a tie.
// Grouped, a map's entries are grouped by the last digit of their value,
// and DeleteGroup must remove what DeleteFunc would; and by their first
// digit, and EachOfGroups of either grouping must find what a scan would.
func TestTTLMap_ActsAsTheScanningMap(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		const max = 50
		m, c := newTestTTLMap(max)
		grouped := seed%2 == 1
		groupOf := func(v string) string { return v[len(v)-1:] }
		groupings := []func(string) string{groupOf, func(v string) string { return v[:1] }}
		if grouped {
			m.groupedBy(groupings...)
		}
		ref := &refTTLMap{max: max, data: map[string]ttlEntry[string]{}}
		seq := 0
		exp := func() time.Time {
			seq++
			return c.t.Add(time.Duration(rng.IntN(600))*time.Second + time.Duration(seq))
		}
		for step := range 20_000 {
			k := strconv.Itoa(rng.IntN(3 * max))
			v := strconv.Itoa(step)
			ops := 10
			if grouped {
				ops += 4
			}
			switch op := rng.IntN(ops); op {
			case 0, 1, 2:
				e := exp()
				if got, want := m.PutEvicting(k, v, e), ref.put(k, v, e, c.t); got != want {
					t.Fatalf("seed %d step %d: PutEvicting(%s) evicted %v, want %v", seed, step, k, got, want)
				}
			case 3:
				got, gotOK := m.Get(k)
				want, wantOK := ref.get(k, c.t)
				if got != want || gotOK != wantOK {
					t.Fatalf("seed %d step %d: Get(%s) = %q %v, want %q %v", seed, step, k, got, gotOK, want, wantOK)
				}
			case 4:
				got, gotOK := m.Take(k)
				want, wantOK := ref.get(k, c.t)
				delete(ref.data, k)
				if got != want || gotOK != wantOK {
					t.Fatalf("seed %d step %d: Take(%s) = %q %v, want %q %v", seed, step, k, got, gotOK, want, wantOK)
				}
			case 5:
				m.Delete(k)
				delete(ref.data, k)
			case 6:
				gotOK := m.Update(k, func(s *string) { *s = v })
				e, wantOK := ref.data[k]
				if wantOK = wantOK && c.t.Before(e.exp); wantOK {
					e.v = v
					ref.data[k] = e
				}
				if gotOK != wantOK {
					t.Fatalf("seed %d step %d: Update(%s) = %v, want %v", seed, step, k, gotOK, wantOK)
				}
			case 7:
				drop := func(k string) bool { return len(k) > 0 && k[len(k)-1] == v[len(v)-1] }
				got := m.DeleteFunc(func(k, _ string) bool { return drop(k) })
				want := 0
				for k := range ref.data {
					if drop(k) {
						delete(ref.data, k)
						want++
					}
				}
				if got != want {
					t.Fatalf("seed %d step %d: DeleteFunc removed %d, want %d", seed, step, got, want)
				}
			case 8:
				m.Sweep()
				ref.expire(c.t)
			case 9:
				c.t = c.t.Add(time.Duration(rng.IntN(60)) * time.Second)
			case 10:
				g := groupOf(v)
				got := m.DeleteGroup(g)
				want := 0
				for k, e := range ref.data {
					if groupOf(e.v) == g {
						delete(ref.data, k)
						want++
					}
				}
				if got != want {
					t.Fatalf("seed %d step %d: DeleteGroup(%s) removed %d, want %d", seed, step, g, got, want)
				}
			case 11:
				// Of one group, the values whose second last digit is
				// odd (a grant among a session's tokens).
				g := groupOf(v)
				odd := func(v string) bool { return len(v) > 1 && (v[len(v)-2]-'0')%2 == 1 }
				got := m.DeleteGroupFunc(g, odd)
				want := 0
				for k, e := range ref.data {
					if groupOf(e.v) == g && odd(e.v) {
						delete(ref.data, k)
						want++
					}
				}
				if got != want {
					t.Fatalf("seed %d step %d: DeleteGroupFunc(%s) removed %d, want %d", seed, step, g, got, want)
				}
			case 12:
				g := groupOf(v)
				var want []string
				for k, e := range ref.data {
					if groupOf(e.v) == g {
						delete(ref.data, k)
						want = append(want, e.v)
					}
				}
				got := m.TakeGroup(g)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d step %d: TakeGroup(%s) = %v, want %v", seed, step, g, got, want)
				}
			case 13:
				// One to four groups: few enough to be read from their
				// lists, or so many that the map is scanned.
				by := rng.IntN(len(groupings))
				gs := map[string]bool{}
				for range 1 + rng.IntN(4) {
					gs[strconv.Itoa(rng.IntN(10))] = true
				}
				got := map[string]string{}
				m.EachOfGroups(by, gs, func(k, v string) { got[k] = v })
				want := map[string]string{}
				for k, e := range ref.data {
					if gs[groupings[by](e.v)] {
						want[k] = e.v
					}
				}
				if !maps.Equal(got, want) {
					t.Fatalf("seed %d step %d: EachOfGroups(%d, %v) = %v, want %v", seed, step, by, gs, got, want)
				}
			}
			if m.Len() != len(ref.data) {
				t.Fatalf("seed %d step %d: %d entries, want %d", seed, step, m.Len(), len(ref.data))
			}
		}
		for k, e := range ref.data {
			if got, ok := m.data[k]; !ok || got != e {
				t.Fatalf("seed %d: %s = %v %v at the end, want %v", seed, k, got, ok, e)
			}
		}
		if grouped {
			wantGroups(t, m)
		}
	}
}

// wantGroups fails t unless every entry of m of a group is listed in it,
// in each grouping, and listed counts the keys listed.
func wantGroups(t *testing.T, m *ttlMap[string, string]) {
	t.Helper()
	for i, gr := range m.groupings {
		n := 0
		listed := map[string]bool{}
		for g, keys := range gr.lists {
			for _, k := range keys {
				listed[g+"\x00"+k] = true
			}
			n += len(keys)
		}
		if n != gr.listed {
			t.Errorf("grouping %d: the groups list %d keys, listed counts %d", i, n, gr.listed)
		}
		for k, e := range m.data {
			if g := gr.of(e.v); g != "" && !listed[g+"\x00"+k] {
				t.Errorf("grouping %d: %s, of group %q, is not listed in it", i, k, g)
			}
		}
	}
}

// An auth request is completed in place (Update), by the login that
// signs it in: it must be listed in its new groups, or ending its session
// and disabling its user would miss it.
func TestTTLMap_UpdateInPlaceRelists(t *testing.T) {
	type login struct{ sid, sub string }
	c := &clockAt{time.Unix(1e9, 0)}
	m := newTTLMap[string, *login](10, c.now).groupedBy(
		func(l *login) string { return l.sid }, func(l *login) string { return l.sub })
	m.Put("a", &login{}, c.t.Add(time.Minute))
	m.Put("b", &login{}, c.t.Add(time.Minute))
	m.Update("a", func(l **login) { (*l).sid, (*l).sub = "s1", "u1" })
	m.Update("b", func(l **login) { (*l).sid, (*l).sub = "s2", "u1" })
	var got []string
	m.EachOfGroups(byUser, map[string]bool{"u1": true}, func(k string, _ *login) { got = append(got, k) })
	if slices.Sort(got); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("the entries of user u1: %q, want a and b", got)
	}
	if n := m.DeleteGroup("s1"); n != 1 {
		t.Errorf("DeleteGroup(s1) removed %d entries, want 1 (a)", n)
	}
	if _, ok := m.Get("b"); !ok {
		t.Error("b, of s2, was removed with s1")
	}
}

// However an entry goes, and whatever group its value moves to, DeleteGroup
// removes only the entries of its group now: not a key that left it, nor
// one stored since in another.
func TestTTLMap_DeleteGroupRemovesOnlyItsGroup(t *testing.T) {
	groupOf := func(v string) string { return v }
	removals := map[string]func(m *ttlMap[string, string], c *clockAt){
		"Put into another group": func(m *ttlMap[string, string], _ *clockAt) {},
		"Delete":                 func(m *ttlMap[string, string], _ *clockAt) { m.Delete("a") },
		"Take":                   func(m *ttlMap[string, string], _ *clockAt) { m.Take("a") },
		"DeleteFunc": func(m *ttlMap[string, string], _ *clockAt) {
			m.DeleteFunc(func(k, _ string) bool { return k == "a" })
		},
		"Update": func(m *ttlMap[string, string], _ *clockAt) {
			m.Update("a", func(v *string) { *v = "s3" })
		},
		"Get of the expired": func(m *ttlMap[string, string], c *clockAt) {
			c.t = c.t.Add(90 * time.Second)
			m.Get("a")
		},
		"Sweep": func(m *ttlMap[string, string], c *clockAt) {
			c.t = c.t.Add(90 * time.Second)
			m.Sweep()
		},
		"eviction": func(m *ttlMap[string, string], c *clockAt) {
			m.Put("x", "s3", c.t.Add(time.Hour))
			m.Put("y", "", c.t.Add(time.Hour))
		},
	}
	for name, remove := range removals {
		t.Run(name, func(t *testing.T) {
			m, c := newTestTTLMap(4)
			m.groupedBy(groupOf)
			m.Put("a", "s1", c.t.Add(1*time.Minute))
			m.Put("b", "s1", c.t.Add(10*time.Minute))
			m.Put("c", "s2", c.t.Add(3*time.Minute))
			remove(m, c)
			if v, ok := m.Get("a"); !ok || v == "s1" {
				m.Put("a", "s2", c.t.Add(4*time.Minute))
			}
			wantGroups(t, m)
			if n := m.DeleteGroup("s1"); n != 1 {
				t.Errorf("DeleteGroup(s1) removed %d entries, want 1 (b)", n)
			}
			if _, ok := m.Get("a"); !ok {
				t.Error("a, no longer of s1, was removed with it")
			}
			if _, ok := m.Get("b"); ok {
				t.Error("b, of s1, was kept")
			}
			if n := m.DeleteGroup(""); n != 0 {
				t.Errorf(`DeleteGroup("") removed %d entries: no entry is of group ""`, n)
			}
			wantGroups(t, m)
		})
	}
}

// TestTTLMap_PutIntoAFullMapDropsTheSoonest: a load that filled a store (a
// soak test sat at the cap of 10,000 sessions) made every login scan all
// the entries, under the store's lock, to drop the soonest: 3 ms a Put at
// 100,000. The expiry index finds it instead; BenchmarkTTLMap_PutFull,
// against BenchmarkTTLMap_PutEmpty, measures that (speed lives in
// benchmarks, not in timed tests). Here: each Put into the full map drops
// exactly the entry closest to expiry, and the index stays bounded.
func TestTTLMap_PutIntoAFullMapDropsTheSoonest(t *testing.T) {
	m, c := newTestTTLMap(maxTokens)
	for i := range maxTokens {
		m.Put(strconv.Itoa(i), "", c.t.Add(time.Hour+time.Duration(i)*time.Millisecond))
	}
	const puts = 5000
	for i := maxTokens; i < maxTokens+puts; i++ {
		m.Put(strconv.Itoa(i), "", c.t.Add(time.Hour+time.Duration(i)*time.Millisecond))
	}
	if n := len(m.byExp); n > 2*maxTokens+minShrink {
		t.Errorf("the expiry index holds %d items for %d entries", n, m.Len())
	}
	if m.Len() != maxTokens {
		t.Errorf("%d entries, want %d", m.Len(), maxTokens)
	}
	for k, want := range map[int]bool{puts - 1: false, puts: true, maxTokens + puts - 1: true} {
		if _, ok := m.Get(strconv.Itoa(k)); ok != want {
			t.Errorf("entry %d held: %v, want %v", k, ok, want)
		}
	}
}
