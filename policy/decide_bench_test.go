package policy_test

import (
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// BenchmarkDecide decides token exchanges the way the token endpoint asks
// for them (a client resolved by the caller, a resource, the login time),
// over decide.yaml (deny, step-up and time-bound entries) and the demo
// configuration the product ships. Each case is a sub-benchmark, so that
// allocs/op are per case; "mix" cycles through all of them.
func BenchmarkDecide(b *testing.B) {
	cases := benchCases(b)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkDecision = c.cfg.Decide(c.req)
			}
		})
	}
	b.Run("mix", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c := &cases[i%len(cases)]
			sinkDecision = c.cfg.Decide(c.req)
			i++
		}
	})
}

var sinkDecision policy.Decision

type benchCase struct {
	name    string
	cfg     *policy.Config
	req     policy.Request
	allowed bool
}

func benchCases(b *testing.B) []benchCase {
	b.Helper()
	decide := policytest.Config(b)
	demo, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		b.Fatal(err)
	}
	now := policytest.Now
	recent := now.Add(-5 * time.Minute)
	chat := func(user, client string, scopes ...string) policy.Request {
		return policy.Request{
			Username: user, ClientID: client, Client: decide.Client(client),
			Audience: "https://as.chat.example", Resource: "https://mcp.chat.example/mcp",
			Scopes: scopes, AuthTime: recent, Now: now,
		}
	}
	files := chat
	files = func(user, client string, scopes ...string) policy.Request {
		r := chat(user, client, scopes...)
		r.Audience, r.Resource = "https://as.files.example", "https://mcp.files.example/mcp"
		return r
	}
	demoReq := func(user, server string, scopes ...string) policy.Request {
		s := demo.Server(server)
		return policy.Request{
			Username: user, ClientID: "mcp-client", Client: demo.Client("mcp-client"),
			Audience: s.Issuer, Resource: s.Resources[0], Scopes: scopes, AuthTime: recent, Now: now,
		}
	}
	cases := []benchCase{
		{"allowed/group", decide, chat("alice", "mcp-client", "chat.read", "chat.write"), true},
		{"allowed/group-all-scopes", decide, chat("alice", "mcp-client"), true},
		{"allowed/user-and-client", decide, chat("bob", "mcp-client", "chat.read"), true},
		{"allowed/two-entries-step-up", decide, chat("carol", "mcp-client"), true},
		{"allowed/time-bound", decide, chat("ivy", "mcp-client", "chat.read"), true},
		{"allowed/demo-tracker", demo, demoReq("alice", "tracker", "issues.read", "issues.write"), true},
		{"allowed/demo-wiki", demo, demoReq("carol", "wiki"), true},
		{"allowed/demo-crm-step-up", demo, demoReq("alice", "crm", "crm.read"), true},
		{"denied/deny-user", decide, chat("mallory", "mcp-client", "chat.read"), false},
		{"denied/deny-group-client", decide, files("frank", "mcp-client", "files.read"), false},
		{"denied/demo-deny", demo, demoReq("mallory", "crm"), false},
		{"not-assigned/user", decide, files("bob", "mcp-client", "files.read"), false},
		{"not-assigned/other-client", decide, chat("bob", "pub-client"), false},
		{"not-assigned/expired", decide, chat("hank", "mcp-client", "chat.read"), false},
		{"not-assigned/demo", demo, demoReq("bob", "tracker", "issues.read"), false},
	}
	for _, c := range cases {
		if d := c.cfg.Decide(c.req); d.Allowed != c.allowed {
			b.Fatalf("%s: allowed=%v, want %v: %s", c.name, d.Allowed, c.allowed, d.Reason)
		}
	}
	return cases
}
