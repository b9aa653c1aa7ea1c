package admin_test

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// TestConfigAPI_ClaimsKeysBounded: a PUT of a user with more claims than a
// mapping may hold (policy.MaxMappingKeys; here 20,000, 300 KB) is refused
// with 400 invalid_config at once and changes nothing, and the changes
// after it stay fast. It was written, and every later change (each decodes
// the file, in time that grows with the square of a mapping's keys) then
// took seconds.
//
// "At once" and "fast" are measured against reading the same text into
// YAML nodes, which every change does, timed in the same run, so that a
// busy machine slows both alike; fixed bounds (10 s) failed on a loaded
// machine without catching the refusal made after printing the document
// (3 s here, some 170 times the read; at once it is about 10). Each
// refusal is timed beside a read, and the lowest of five such ratios
// counts: the fastest of three refusals, then the fastest of three reads,
// made 66 times on a machine at load 40, the reads in a quieter moment;
// paired, 8 times there, and the refusal after printing 65 times (a
// bound of 40 between them, five times the first).
func TestConfigAPI_ClaimsKeysBounded(t *testing.T) {
	p := editable(t)
	before := readFile(t, p.file)
	claims := map[string]any{}
	for i := range 20_000 {
		claims[fmt.Sprintf("claim_key_%06d", i)] = "value"
	}
	want := fmt.Sprintf("users[1].claims: 20000 keys; a mapping may have at most %d", policy.MaxMappingKeys)
	text, err := yaml.Marshal(map[string]any{"users": []any{map[string]any{"username": "bob", "password": "bob-pw", "claims": claims}}})
	if err != nil {
		t.Fatal(err)
	}
	ratio, refuse, read := lowestRatio(func() {
		resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", map[string]any{"username": "bob", "password": "bob-pw", "claims": claims})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_config"`) || !strings.Contains(string(body), want) {
			t.Fatalf("PUT of 20,000 claims: %d %.300s, want 400 invalid_config naming %q", resp.StatusCode, body, want)
		}
	}, func() { readNodes(t, text) })
	if got := readFile(t, p.file); got != before {
		t.Fatalf("the refused change was written:\n%.500s", got)
	}
	if ratio > 40 {
		t.Errorf("the refusal took %s, %.0fx reading the user's text into YAML nodes (%s) just after: the claims were decoded before they were counted", refuse, ratio, read)
	}
	// At the bound, a change is made, and the next ones are still quick.
	claims = map[string]any{}
	for i := range policy.MaxMappingKeys {
		claims[fmt.Sprintf("claim_key_%06d", i)] = "value"
	}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", map[string]any{"username": "bob", "password": "bob-pw", "claims": claims}); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT of %d claims: %d %.300s", policy.MaxMappingKeys, resp.StatusCode, body)
	}
	n := 0
	change := fastest(func() {
		n++
		resp, body := p.send(t, http.MethodPut, "/admin/api/groups/ops", "alice", map[string]any{"name": "ops", "description": fmt.Sprint("change ", n)})
		if resp.StatusCode != http.StatusCreated && (n == 1 || resp.StatusCode != http.StatusOK) {
			t.Fatalf("PUT group: %d %.300s", resp.StatusCode, body)
		}
	})
	file := []byte(readFile(t, p.file))
	read = fastest(func() { readNodes(t, file) })
	// 1000 times: a change syncs the file, whose wait a busy disk makes
	// long (364 ms against a 1 ms read, 2026-12-06, tests of another
	// package writing meanwhile) and no read of nodes scales; before the
	// bound a change took about 9 s here, some 9000 times.
	if change > 1000*read {
		t.Errorf("a change after a user with %d claims took %s, %.0fx reading the file into YAML nodes (%s)", policy.MaxMappingKeys, change, float64(change)/float64(read), read)
	}
}

// lowestRatio times f and, just after each, base, five times, and returns
// the lowest ratio of f's time to base's, with those two times: a moment
// of a busy machine slows a pair alike, and one quiet pair is enough.
func lowestRatio(f, base func()) (ratio float64, fd, bd time.Duration) {
	ratio = math.Inf(1)
	for range 5 {
		start := time.Now()
		f()
		mid := time.Now()
		base()
		a, b := mid.Sub(start), time.Since(mid)
		if r := float64(a) / float64(max(b, 1)); r < ratio {
			ratio, fd, bd = r, a, b
		}
	}
	return ratio, fd, bd
}

// fastest is the shortest of 3 runs of f.
func fastest(f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

// readNodes reads text into YAML nodes, as every parse does first.
func readNodes(t *testing.T, text []byte) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal(text, &n); err != nil {
		t.Fatal(err)
	}
}

// TestConfigAPI_ConfigAnswerMadeOncePerVersion: GET /admin/api/config
// renders the running configuration once per version, not once per
// request: at 1,000 users a request allocates a few hundred times (the
// HTTP exchange), not the hundreds of thousands of a YAML encoding and
// decoding of the whole configuration (0.6 s per request at a company's
// size, for a console or a script that polls it). A change is shown at
// once.
func TestConfigAPI_ConfigAnswerMadeOncePerVersion(t *testing.T) {
	p, _ := companyFile(t, policytest.Size{Users: 1000, Groups: 50, Servers: 30, Clients: 20})
	get := func() string {
		resp, body := p.send(t, http.MethodGet, "/admin/api/config", "user0", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET config: %d %.300s", resp.StatusCode, body)
		}
		return string(body)
	}
	first := get()
	if allocs := testing.AllocsPerRun(5, func() { get() }); allocs > 5000 {
		t.Errorf("GET /admin/api/config allocated %.0f times per request, want the answer made once per version", allocs)
	}
	if again := get(); again != first {
		t.Fatal("the answer changed without a change")
	}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/groups/ops", "user0", map[string]any{"name": "ops"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT group: %d %.300s", resp.StatusCode, body)
	}
	if after := get(); !strings.Contains(after, `"name": "ops"`) {
		t.Fatal("GET /admin/api/config does not show the change")
	}
}

// TestConfigAPI_ClaimNamesAndStringsBounded: a user's claim named "", one
// whose name is over policy.MaxClaimNameBytes, or one with a string over
// policy.MaxClaimStringBytes is refused through the admin API as in the
// file: 400 invalid_config naming the claim, nothing written.
func TestConfigAPI_ClaimNamesAndStringsBounded(t *testing.T) {
	p := editable(t)
	before := readFile(t, p.file)
	for _, tt := range []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"": 1}, `users[1].claims.\"\": a claim has an empty name`},
		{map[string]any{strings.Repeat("n", policy.MaxClaimNameBytes+1): "x"}, "a claim name of 257 bytes"},
		{map[string]any{"bio": strings.Repeat("x", policy.MaxClaimStringBytes+1)}, "users[1].claims.bio: a string of 65537 bytes"},
	} {
		resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", map[string]any{"username": "bob", "password": "bob-pw", "claims": tt.claims})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_config"`) || !strings.Contains(string(body), tt.want) {
			t.Errorf("PUT: %d %.300s, want 400 invalid_config naming %q", resp.StatusCode, body, tt.want)
		}
	}
	if got := readFile(t, p.file); got != before {
		t.Fatalf("a refused change was written:\n%.500s", got)
	}
}

// TestConfigAPI_StringsBounded: a change that gives a value more bytes
// than its bound (docs/configuration.md, "Bounds") is refused with 400
// invalid_config naming the value and the bound, and writes nothing: a
// password of 2,000 bytes was written, and its user could never sign in
// (the login form takes 1024).
func TestConfigAPI_StringsBounded(t *testing.T) {
	p := editable(t)
	before := readFile(t, p.file)
	resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", map[string]any{"username": "bob", "password": strings.Repeat("p", 2000)})
	want := fmt.Sprintf("users[1].password: 2000 bytes; it may have at most %d bytes", policy.MaxPasswordBytes)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_config"`) || !strings.Contains(string(body), want) {
		t.Fatalf("PUT: %d %.500s, want 400 invalid_config naming %q", resp.StatusCode, body, want)
	}
	if strings.Contains(string(body), "ppppppppppppppppppppppppppppp") {
		t.Errorf("the answer repeats the password: %.500s", body)
	}
	if got := readFile(t, p.file); got != before {
		t.Fatalf("the refused change was written:\n%.500s", got)
	}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", map[string]any{"username": "bob", "password": strings.Repeat("p", policy.MaxPasswordBytes)}); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT at the bound: %d %.300s", resp.StatusCode, body)
	}
}
