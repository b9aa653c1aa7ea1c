package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoad_CPURatioIsTheMedianOfTheRounds(t *testing.T) {
	us := time.Microsecond
	rounds := []roundCPU{
		{floor: 20 * us, exchange: 90 * us, sign: 40 * us},  // 1.50x
		{floor: 25 * us, exchange: 130 * us, sign: 40 * us}, // 2.00x
		{floor: 20 * us, exchange: 72 * us, sign: 40 * us},  // 1.20x
	}
	var out strings.Builder
	printCPURounds(&out, 42, rounds, 30*us)
	// Against the fastest batch (30 µs): 1.80x, 2.36x, 1.44x.
	var rows []string
	for line := range strings.Lines(out.String()) {
		if f := strings.Fields(line); len(f) == 5 && f[0] != "round" {
			rows = append(rows, strings.Join(f, " "))
		}
	}
	if want := []string{"1 20µs 90µs 40µs 1.50x", "2 25µs 130µs 40µs 2.00x", "3 20µs 72µs 40µs 1.20x"}; !slices.Equal(rows, want) {
		t.Errorf("rounds %q, want %q", rows, want)
	}
	if want := "= 1.50x (median of 3 rounds; 1.80x against the fastest signature batch, 30µs)\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("output does not end in %q:\n%s", want, out.String())
	}
}

func TestLoad_SignSamplerTimesRealSignatures(t *testing.T) {
	s := startSignSampler(time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	s.stop()
	lap, best := s.lap(), s.best()
	// A P-256 signature takes tens of microseconds on any machine this
	// runs on; far less would mean the clock read nothing.
	if best < time.Microsecond || lap < best || lap > time.Second {
		t.Errorf("median %v, fastest %v: not the cost of a signature", lap, best)
	}
}
