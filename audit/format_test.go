package audit

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendTime_MatchesAppendFormat checks the hand-written time format against the layout it
// replaces, over the whole range of years a line can hold.
func TestAppendTime_MatchesAppendFormat(t *testing.T) {
	first, last := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	times := []time.Time{
		{}, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 12, 34, 56, 7e6, time.UTC), time.Date(999, 9, 9, 9, 9, 9, 99e6, time.UTC),
		time.Date(2026, 11, 25, 18, 0, 0, 123456789, time.FixedZone("x", 3600)).UTC(),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		times = append(times, time.Unix(first+rng.Int64N(last-first+1), rng.Int64N(1e9)).UTC())
	}
	for _, tm := range times {
		if got, want := appendTime(nil, tm), tm.AppendFormat(nil, TimeLayout); string(got) != string(want) {
			t.Fatalf("%v: appendTime %s, AppendFormat %s", tm, got, want)
		}
	}
}

// TestFormatID_MatchesSprintf checks the hand-written ID format against the fmt verbs it
// replaces, beyond 12 hex digits of milliseconds included.
func TestFormatID_MatchesSprintf(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := [][3]int64{{0, 0, 0}, {1, 1, 1}, {1<<48 - 1, 0xffff, 1<<32 - 1}, {1 << 48, 0, 0}, {1<<63 - 1, 0xffff, 1<<32 - 1}}
	for range 100000 {
		cases = append(cases, [3]int64{rng.Int64N(1 << 50), rng.Int64N(0x10000), int64(rng.Uint32())})
	}
	for _, c := range cases {
		got := string(formatID(nil, c[0], c[1], uint32(c[2])))
		if want := fmt.Sprintf("%012x%04x%08x", c[0], c[1], uint32(c[2])); got != want {
			t.Fatalf("%v: formatID %s, Sprintf %s", c, got, want)
		}
	}
}
