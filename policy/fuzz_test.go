package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
)

// FuzzParse checks that Parse never panics, that its problems are well
// formed and deterministic, and that any configuration it accepts holds
// together: every reference resolves and every lookup finds what it should.
func FuzzParse(f *testing.F) {
	f.Add(fixtures.Demo)
	seeds, _ := filepath.Glob("testdata/*.yaml")
	invalid, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, file := range append(seeds, invalid...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := policy.Parse(data, "fuzz.yaml")
		if err != nil {
			checkProblems(t, data, err)
			return
		}
		// With tenants: each tenant is an IdP, the top level none.
		for _, c := range cfg.IdPs() {
			recheck(t, c)
		}
	})
}

func checkProblems(t *testing.T, data []byte, err error) {
	var ps policy.Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		t.Fatalf("error %T is not a non-empty policy.Problems: %v", err, err)
	}
	// YAML breaks lines at \r\n, \n and a lone \r (YAML 1.2 section 5.4).
	lines := strings.Count(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") +
		strings.Count(strings.ReplaceAll(string(data), "\r\n", ""), "\r") + 1
	for i, p := range ps {
		if p.File != "fuzz.yaml" || p.Msg == "" || p.Line < 0 || p.Line > lines {
			t.Fatalf("malformed problem %+v (file has %d lines)", p, lines)
		}
		if i > 0 && p.Line < ps[i-1].Line {
			t.Fatalf("problems not sorted by line:\n%v", err)
		}
	}
	if _, again := policy.Parse(data, "fuzz.yaml"); again == nil || again.Error() != err.Error() {
		t.Fatalf("problems differ between two parses:\n%v\n---\n%v", err, again)
	}
}

// recheck verifies a Config that Parse accepted.
func recheck(t *testing.T, cfg *policy.Config) {
	for _, alg := range []string{cfg.Signing.IDTokenAlg, cfg.Signing.IDJAGAlg} {
		if alg != "RS256" && alg != "ES256" && alg != "EdDSA" {
			t.Fatalf("accepted algorithm %q", alg)
		}
	}
	l := cfg.Lifetimes
	if l.IDToken <= 0 || l.AccessToken <= 0 || l.RefreshToken <= 0 || l.IDJAG <= 0 {
		t.Fatalf("lifetimes not filled in: %+v", l)
	}
	if cfg.Exchange.DeniedError == "" || cfg.Exchange.SubjectTokenError == "" {
		t.Fatalf("exchange error codes not filled in: %+v", cfg.Exchange)
	}
	for i := range cfg.Groups {
		if g := &cfg.Groups[i]; cfg.Group(g.Name) != g {
			t.Fatalf("Group(%q) does not find it", g.Name)
		}
	}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		if u.Sub == "" || cfg.User(u.Username) != u || cfg.UserBySub(u.Sub) != u {
			t.Fatalf("user %q (sub %q) is not found by its lookups", u.Username, u.Sub)
		}
		if (u.Password == "") == (u.PasswordBcrypt == "") {
			t.Fatalf("user %q has not exactly one password", u.Username)
		}
		mustResolve(t, "group", u.Groups, func(n string) bool { return cfg.Group(n) != nil })
	}
	for i := range cfg.Clients {
		if c := &cfg.Clients[i]; cfg.Client(c.ClientID) != c {
			t.Fatalf("Client(%q) does not find it", c.ClientID)
		}
	}
	for i := range cfg.MCPServers {
		s := &cfg.MCPServers[i]
		if cfg.Server(s.ID) != s {
			t.Fatalf("Server(%q) does not find it", s.ID)
		}
		for _, aud := range append([]string{s.Issuer}, s.Aliases...) {
			if cfg.ServerByAudience(aud) != s || cfg.ServerByAudience(aud+"/") != s {
				t.Fatalf("audience %q does not lead to server %q", aud, s.ID)
			}
		}
		// A client is a configured one or a metadata document URL the
		// cimd section admits.
		known := func(n string) bool { return cfg.Client(n) != nil || cfg.CIMD.Allows(n) }
		for id := range s.Clients {
			mustResolve(t, "client", []string{id}, known)
		}
		for _, a := range s.Access {
			if len(a.Users)+len(a.Groups) == 0 {
				t.Fatalf("server %q has an access entry for nobody", s.ID)
			}
			mustResolve(t, "group", a.Groups, func(n string) bool { return cfg.Group(n) != nil })
			mustResolve(t, "user", a.Users, func(n string) bool { return cfg.User(n) != nil })
			mustResolve(t, "connected client", a.Clients, func(n string) bool { _, ok := s.Clients[n]; return known(n) && ok })
			mustResolve(t, "scope", a.Scopes, func(n string) bool { return contains(s.Scopes, n) })
		}
		for _, d := range s.Deny {
			mustResolve(t, "group", d.Groups, func(n string) bool { return cfg.Group(n) != nil })
			mustResolve(t, "user", d.Users, func(n string) bool { return cfg.User(n) != nil })
			mustResolve(t, "client", d.Clients, known)
		}
	}
	decideEverything(t, cfg)
}

func mustResolve(t *testing.T, what string, names []string, ok func(string) bool) {
	t.Helper()
	for _, n := range names {
		if !ok(n) {
			t.Fatalf("accepted a reference to an unknown %s %q", what, n)
		}
	}
}

// decideEverything runs Decide for a bounded number of user, client and
// server combinations and checks each decision's shape.
func decideEverything(t *testing.T, cfg *policy.Config) {
	n := 0
	for _, u := range cfg.Users {
		for _, c := range cfg.Clients {
			for i := range cfg.MCPServers {
				if n++; n > 200 {
					return
				}
				s := &cfg.MCPServers[i]
				d := cfg.Decide(policy.Request{Username: u.Username, ClientID: c.ClientID, Audience: s.Issuer, Now: now})
				if d.Reason == "" || d.Allowed == (d.Error != "") || d.Server != s {
					t.Fatalf("malformed decision %+v", d)
				}
				for _, sc := range d.Scopes {
					if !contains(s.Scopes, sc) {
						t.Fatalf("granted scope %q that server %q does not list", sc, s.ID)
					}
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
