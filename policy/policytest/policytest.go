// Package policytest is the conformance suite of the token exchange
// decision: every row of policy/testdata/decision_cases.md, decided against
// policy/testdata/decide.yaml, run on any evaluator, the way
// testing/fstest.TestFS checks any fs.FS. The policy package runs it on
// policy.Decide; the idp package runs it on its token endpoint over HTTP,
// so that the decider and the IdP that enforces it cannot drift apart.
package policytest

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// Outcome is what an evaluator observed of one token exchange.
type Outcome struct {
	// Error is the OAuth error code the client got; "" when allowed.
	Error string
	// Granted are the scopes of the ID-JAG, in the order given.
	Granted []string
	// Rule is the rule named in the audit log.
	Rule string
	// MaxAge is the max_age sent with insufficient_user_authentication.
	MaxAge time.Duration
}

// An Evaluator decides the token exchange req under cfg and reports the
// outcome. cfg is decide.yaml with the case's exchange options applied; the
// evaluator must not change it. req.Now is the instant of the decision and
// req.AuthTime the user's login, zero when unknown.
type Evaluator func(t *testing.T, cfg *policy.Config, req policy.Request) Outcome

// Now is the instant every case is decided at.
var Now = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

// Run runs every case of the table as a subtest of t, and fails those whose
// outcome differs from the table's.
func Run(t *testing.T, eval Evaluator) {
	t.Helper()
	cfg := Config(t)
	for _, c := range readCases(t) {
		t.Run(c.name, func(t *testing.T) {
			req := policy.Request{
				Username: c.user, ClientID: c.client, Audience: c.audience,
				Resource: c.resource, Scopes: c.scopes, Now: Now,
			}
			if c.login > 0 {
				req.AuthTime = Now.Add(-c.login)
			}
			o := eval(t, withOptions(t, cfg, c), req)
			outcome := o.Error
			if outcome == "" {
				outcome = "allowed"
			}
			got := []string{outcome, cell(strings.Join(o.Granted, " ")), cell(o.Rule), fmtAge(o.MaxAge)}
			want := []string{c.outcome, cell(c.granted), cell(c.rule), fmtAge(c.maxAge)}
			if !slices.Equal(got, want) {
				t.Errorf("%s:%d\n got: %s\nwant: %s", casesFile, c.line, strings.Join(got, " | "), strings.Join(want, " | "))
			}
		})
	}
}

// Config loads decide.yaml, the configuration every case is decided
// against.
func Config(t testing.TB) *policy.Config {
	t.Helper()
	name := filepath.Join(testdata(t), "decide.yaml")
	cfg, err := policy.Load(name)
	if err != nil {
		t.Fatalf("%s does not load:\n%v", name, err)
	}
	return cfg
}

// casesFile is the table, as messages name it.
const casesFile = "policy/testdata/decision_cases.md"

// testdata is policy/testdata in the source tree, found beside this file:
// the table stays where docs/configuration.md links it, and a test in any
// package of the module finds it whatever its working directory.
func testdata(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("policytest: cannot locate its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// decisionCase is one row of decision_cases.md.
type decisionCase struct {
	line                                   int
	name, user, client, audience, resource string
	scopes                                 []string
	login                                  time.Duration // 0: unknown
	options                                []string
	outcome, granted, rule                 string
	maxAge                                 time.Duration
}

// readCases parses the Markdown table of decision cases. A "-" cell is
// empty.
func readCases(t *testing.T) []decisionCase {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata(t), filepath.Base(casesFile)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []decisionCase
	header := true
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(text, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
			if cells[i] == "-" {
				cells[i] = ""
			}
		}
		if len(cells) != 12 {
			t.Fatalf("%s:%d: %d cells, want 12", casesFile, line, len(cells))
		}
		if header || strings.HasPrefix(cells[0], "---") {
			header = false
			continue
		}
		cases = append(cases, decisionCase{
			line: line, name: cells[0], user: cells[1], client: cells[2],
			audience: cells[3], resource: cells[4], scopes: strings.Fields(cells[5]),
			login:   duration(t, line, cells[6]),
			options: strings.Fields(cells[7]), outcome: cells[8], granted: cells[9],
			rule: cells[10], maxAge: duration(t, line, cells[11]),
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", casesFile)
	}
	return cases
}

func duration(t *testing.T, line int, s string) time.Duration {
	t.Helper()
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s:%d: %v", casesFile, line, err)
	}
	return d
}

// withOptions returns a copy of cfg with a case's exchange options set.
func withOptions(t *testing.T, cfg *policy.Config, c decisionCase) *policy.Config {
	t.Helper()
	out := *cfg
	for _, o := range c.options {
		switch {
		case o == "require_resource":
			out.Exchange.RequireResource = true
		case strings.HasPrefix(o, "denied_error="):
			out.Exchange.DeniedError = strings.TrimPrefix(o, "denied_error=")
		default:
			t.Fatalf("%s:%d: unknown option %q", casesFile, c.line, o)
		}
	}
	return &out
}

// cell writes an empty value as the table does.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtAge(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return policy.Duration(d).String()
}
