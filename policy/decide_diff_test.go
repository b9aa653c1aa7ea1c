package policy

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
)

// TestDecide_MatchesReference is the differential test of Decide: random
// requests over the sample configurations and over random configurations
// (parsed or built in Go, with what validation would refuse), decided by
// Decide and by decideReference, the implementation before Decide was made
// cheap, must give equal decisions, explanations included.
func TestDecide_MatchesReference(t *testing.T) {
	perConfig, randomConfigs := 20000, 400
	if testing.Short() {
		perConfig, randomConfigs = 2000, 50
	}
	rng := rand.New(rand.NewPCG(1, 2))

	files := []string{"testdata/decide.yaml", "testdata/minimal.yaml", "../fixtures/demo.yaml"}
	samples, err := filepath.Glob("../fixtures/samples/*.yaml")
	if err != nil || len(samples) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, file := range append(files, samples...) {
		cfg, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, idp := range cfg.IdPs() {
			compareDecisions(t, file, idp, rng, perConfig)
		}
	}
	demo, err := Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	compareDecisions(t, "embedded demo", demo, rng, perConfig)

	for i := range randomConfigs {
		cfg := randomConfig(rng)
		compareDecisions(t, fmt.Sprintf("random config %d, built in Go", i), cfg, rng, 200)
		cfg.buildIndexes()
		compareDecisions(t, fmt.Sprintf("random config %d, indexed", i), cfg, rng, 200)
	}
}

// compareDecisions decides n random requests under cfg (with random
// exchange options) with both implementations.
func compareDecisions(t *testing.T, name string, cfg *Config, rng *rand.Rand, n int) {
	t.Helper()
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	var users, clients, audiences, resources, scopes []string
	instants := []time.Time{now}
	for _, u := range cfg.Users {
		users = append(users, u.Username)
	}
	for _, c := range cfg.Clients {
		clients = append(clients, c.ClientID)
	}
	variants := func(v string) []string {
		return []string{v, v + "/", strings.TrimSuffix(v, "/")}
	}
	for i := range cfg.MCPServers {
		s := &cfg.MCPServers[i]
		audiences = append(audiences, variants(s.Issuer)...)
		for _, a := range s.Aliases {
			audiences = append(audiences, variants(a)...)
		}
		for _, r := range s.Resources {
			resources = append(resources, variants(r)...)
		}
		scopes = append(scopes, s.Scopes...)
		for id := range s.Clients {
			clients = append(clients, id)
		}
		for _, e := range s.Access {
			if !e.Expires.IsZero() {
				at := e.Expires.T()
				instants = append(instants, at, at.Add(-time.Second), at.Add(time.Second))
			}
		}
	}
	users = append(users, "nobody", "")
	clients = append(clients, "unknown-client", "")
	audiences = append(audiences, "https://unknown.example", "")
	resources = append(resources, "https://unknown.example/mcp")
	resources = append(resources, audiences...)
	scopes = append(scopes, "unknown.scope", "")
	ages := []time.Duration{-time.Minute, 0, time.Minute, 5 * time.Minute, 9*time.Minute + 59*time.Second, 10 * time.Minute,
		10*time.Minute + 400*time.Millisecond, 15 * time.Minute, 16 * time.Minute, time.Hour, 25 * time.Hour}
	pick := func(list []string) string { return list[rng.IntN(len(list))] }

	for range n {
		c := *cfg
		c.Exchange.RequireResource = rng.IntN(4) == 0
		c.Exchange.DeniedError = []string{"", ErrAccessDenied, ErrInvalidRequest}[rng.IntN(3)]
		c.Exchange.SingleUseSubject = rng.IntN(2) == 0
		r := Request{Username: pick(users), ClientID: pick(clients), Audience: pick(audiences), Now: instants[rng.IntN(len(instants))]}
		if rng.IntN(3) > 0 {
			r.Resource = pick(resources)
		}
		if len(cfg.MCPServers) > 0 && rng.IntN(5) > 0 {
			// Mostly a request that gets past the client and the audience,
			// so that the entries decide.
			s := &cfg.MCPServers[rng.IntN(len(cfg.MCPServers))]
			r.Audience = pick(variants(s.Issuer))
			if len(s.Aliases) > 0 && rng.IntN(3) == 0 {
				r.Audience = pick(variants(s.Aliases[0]))
			}
			for id := range s.Clients {
				if rng.IntN(2) == 0 {
					r.ClientID = id
				}
			}
			r.Resource = ""
			if len(s.Resources) > 0 && rng.IntN(3) > 0 {
				r.Resource = pick(variants(s.Resources[0]))
			}
		}
		if rng.IntN(5) == 0 {
			// A client from a metadata document, not in the configuration.
			r.Client = &Client{ClientID: r.ClientID, TokenExchange: rng.IntN(4) > 0}
		}
		for range rng.IntN(5) {
			r.Scopes = append(r.Scopes, pick(scopes))
		}
		if i := rng.IntN(len(ages) + 1); i < len(ages) {
			r.AuthTime = r.Now.Add(-ages[i])
		}
		want, got := c.decideReference(r), c.Decide(r)
		if !reflect.DeepEqual(got, want) || got.Server != want.Server || got.User != want.User {
			t.Fatalf("%s: options %+v, request %+v:\n got: %s\nwant: %s", name, c.Exchange, r, showDecision(got), showDecision(want))
		}
	}
}

func showDecision(d Decision) string {
	e := d.Explain()
	return fmt.Sprintf("%+v (singleUse %v, resource %q, user %v)", e, d.SingleUseFor, d.Resource, d.User != nil)
}

// randomConfig builds a small configuration in Go, without validation: it
// may hold what Parse refuses (unknown groups and scopes, repeated scopes,
// empty entries), which Decide must handle as decideReference does.
func randomConfig(rng *rand.Rand) *Config {
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	some := func(pool []string, max int) []string {
		var out []string
		for range rng.IntN(max + 1) {
			out = append(out, pool[rng.IntN(len(pool))])
		}
		return out
	}
	groups := []string{"g0", "g1", "g2", "g3", "undefined"}
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5"}
	clients := []string{"c0", "c1", "c2"}
	scopes := []string{"s.a", "s.b", "s.c", "s.d", "s.e"}
	cfg := &Config{}
	for _, g := range groups[:4] {
		cfg.Groups = append(cfg.Groups, Group{Name: g})
	}
	for _, u := range users {
		cfg.Users = append(cfg.Users, User{Username: u, Groups: some(groups, 3), Disabled: rng.IntN(8) == 0})
	}
	for _, c := range clients {
		cfg.Clients = append(cfg.Clients, Client{ClientID: c, TokenExchange: rng.IntN(6) > 0})
	}
	for i := range 3 {
		s := MCPServer{
			ID: fmt.Sprintf("srv%d", i), Issuer: fmt.Sprintf("https://as%d.example", i),
			Aliases: []string{fmt.Sprintf("urn:srv%d", i)}, Scopes: some(scopes, 5),
			Clients: map[string]string{},
		}
		if rng.IntN(2) == 0 {
			s.Name = fmt.Sprintf("Server %d", i)
		}
		if rng.IntN(4) > 0 {
			s.Resources = []string{fmt.Sprintf("https://mcp%d.example/mcp", i)}
		}
		for _, c := range some(clients, 3) {
			s.Clients[c] = c + "-at-" + s.ID
		}
		for range rng.IntN(6) {
			e := Access{Users: some(users, 2), Groups: some(groups, 2), Scopes: some(append(scopes, "unlisted"), 3), Clients: some(clients, 1)}
			e.MaxAuthAge = Duration([]time.Duration{0, 0, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute}[rng.IntN(5)])
			if rng.IntN(3) == 0 {
				e.Expires = At(now.Add([]time.Duration{-time.Hour, 0, time.Hour}[rng.IntN(3)]))
			}
			s.Access = append(s.Access, e)
		}
		for range rng.IntN(3) {
			s.Deny = append(s.Deny, Deny{Users: some(users, 1), Groups: some(groups, 1), Clients: some(clients, 1)})
		}
		cfg.MCPServers = append(cfg.MCPServers, s)
	}
	return cfg
}
