package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// BenchmarkConsole_Company opens the console's pages over the
// configuration of a company (policytest.Company: 5,000 users, 500
// groups, 300 MCP servers, 200 clients), signed in as its admin. Each
// page reports x-floor, its time over yaml.v3's parse of the
// configuration's text, interleaved in the same run: a page must cost a
// small fraction of it (it reads the configuration parsed once, not the
// file). The users page shows a page of 100 users against every server
// (see README, "Large configurations").
func BenchmarkConsole_Company(b *testing.B) {
	data := policytest.Large(policytest.Company)
	store, err := policy.NewStore(data, "company.yaml")
	if err != nil {
		b.Fatal(err)
	}
	p := serve(b, store)
	br := p.browser(b)
	if resp, body := br.signIn("user0", "user0"); resp.StatusCode != http.StatusOK {
		b.Fatalf("sign-in: %d %.300s", resp.StatusCode, body)
	}
	for _, page := range []struct{ name, path, want string }{
		{"overview", "/admin/", "user0"},
		{"server", "/admin/servers/srv5", "group5"},
		{"servers", "/admin/servers", "srv299"},
		{"explain", "/admin/explain?user=user250&client=client250&server=srv250", "srv250"},
		{"users", "/admin/users", `rel="next"`},
		{"users-last", "/admin/users?after=user4899", "user4999"},
		{"users-one", "/admin/users?user=user2500", "user2500"},
	} {
		b.Run(page.name, func(b *testing.B) {
			var floor time.Duration
			for b.Loop() {
				resp, body := br.get(page.path)
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, page.want) {
					b.Fatalf("%s: %d, want 200 naming %s: %.300s", page.path, resp.StatusCode, page.want, body)
				}
				b.StopTimer()
				start := time.Now()
				var n yaml.Node
				if err := yaml.Unmarshal(data, &n); err != nil {
					b.Fatal(err)
				}
				floor += time.Since(start)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed())/float64(floor), "x-floor")
		})
	}
}
