package policy_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/policy"
)

// claimsFile is a configuration whose user bob has n claims, written on
// the lines after line 5 (claims: is line 5).
func claimsFile(n int) string {
	var b strings.Builder
	b.WriteString("users:\n  - username: alice\n    password: a\n  - username: bob\n    claims:\n")
	for i := range n {
		fmt.Fprintf(&b, "      claim_%06d: v\n", i)
	}
	b.WriteString("    password: b\n")
	return b.String()
}

// TestParse_MappingKeysBounded: a mapping of more than MaxMappingKeys keys
// (here a user's claims) is a configuration problem at its line, found
// before the file is decoded, whose time grows with the square of a
// mapping's keys (20,000 claims took seconds each time the file was read).
func TestParse_MappingKeysBounded(t *testing.T) {
	if _, err := policy.Parse([]byte(claimsFile(policy.MaxMappingKeys)), "idp.yaml"); err != nil {
		t.Fatalf("%d claims: %v", policy.MaxMappingKeys, err)
	}
	_, err := policy.Parse([]byte(claimsFile(policy.MaxMappingKeys+1)), "idp.yaml")
	want := fmt.Sprintf("idp.yaml:6: users[1].claims: %d keys; a mapping may have at most %d", policy.MaxMappingKeys+1, policy.MaxMappingKeys)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("%d claims: got %v, want %q", policy.MaxMappingKeys+1, err, want)
	}
	// At once: in about the time reading the text into YAML nodes takes,
	// which every parse does, not the many times that decoding 50,000 keys
	// takes. Both are timed here, the fastest of a few runs each, so that
	// a busy machine or the race detector slows both alike; a fixed bound
	// (it was 2 s) failed under -race on a loaded 2-core machine (5 s).
	data := []byte(claimsFile(50_000))
	fastest := func(f func()) time.Duration {
		best := time.Duration(math.MaxInt64)
		for range 3 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	read := fastest(func() {
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			t.Fatal(err)
		}
	})
	took := fastest(func() { _, err = policy.Parse(data, "idp.yaml") })
	if err == nil || took > 10*read {
		t.Fatalf("50,000 claims: %v after %s (reading the text into YAML nodes took %s), want a problem at once", err, took, read)
	}
}
