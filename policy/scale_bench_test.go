package policy_test

import (
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// BenchmarkCompany measures, over the configuration of a company
// (policytest.Company: 5,000 users, 500 groups, 300 MCP servers, 200
// clients, 1.3 MB) and over the demo configuration in the same run, what
// grows with a configuration: parsing and validating it (what `check`, a
// start and a reload do), a token exchange's policy decision, and explain.
// A decision must cost at a company's size what it costs in the demo
// (lookups are by index), and parsing must grow with the file's size, not
// faster: compare parse/company with parse/demo times the size ratio.
func BenchmarkCompany(b *testing.B) {
	company := policytest.Large(policytest.Company)
	b.Logf("sizes: company %d bytes, demo %d bytes (%.0fx)", len(company), len(fixtures.Demo), float64(len(company))/float64(len(fixtures.Demo)))
	for _, c := range []struct {
		name string
		data []byte
	}{{"demo", fixtures.Demo}, {"company", company}} {
		b.Run("parse/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := policy.Parse(c.data, "idp.yaml"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.data)), "ns/byte")
		})
	}
	demo, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := policy.Parse(company, "company.yaml")
	if err != nil {
		b.Fatal(err)
	}
	// The warnings, which check prints and serve logs at start and after
	// each admin edit: they must grow with the users, not faster.
	b.Run("warnings/company", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ws := policy.Warnings(cfg, company, "company.yaml"); len(ws) != 0 {
				b.Fatal(ws)
			}
		}
	})
	now := policytest.Now
	for _, c := range []struct {
		name string
		cfg  *policy.Config
		req  policy.Request
	}{
		{"demo", demo, policy.Request{Username: "alice", ClientID: "mcp-client", Client: demo.Client("mcp-client"),
			Audience: "http://127.0.0.1:8101", AuthTime: now.Add(-time.Minute), Now: now}},
		{"company", cfg, policy.Request{Username: "user4799", ClientID: "client99", Client: cfg.Client("client99"),
			Audience: "https://srv299.example", AuthTime: now.Add(-time.Minute), Now: now}},
	} {
		if d := c.cfg.Decide(c.req); !d.Allowed {
			b.Fatalf("%s: %+v", c.name, d)
		}
		b.Run("decide/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkDecision = c.cfg.Decide(c.req)
			}
		})
		b.Run("explain/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.cfg.Explain(c.req)
			}
		})
	}
}
