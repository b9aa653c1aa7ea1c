package app_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// tenantYAML is one generated tenant: a user, a client and an MCP server
// whose ID-JAGs use their own algorithm (a third key per tenant).
func tenantYAML(i int) string {
	return fmt.Sprintf(`
  - id: t%d
    persona: %s
    users: [{username: alice, password: alice}]
    clients: [{client_id: app, client_secret: s, redirect_uris: [http://127.0.0.1/cb], token_exchange: true}]
    mcp_servers:
      - id: notes
        issuer: http://127.0.0.1:9101
        resources: [http://127.0.0.1:9201/mcp]
        scopes: [notes.read]
        signing_alg: EdDSA
        clients: {app: app-%d}
        access: [{users: [alice], scopes: [notes.read]}]`, i, []string{"generic", "okta", "claude"}[i%3], i)
}

func generatedTenants(tb testing.TB, n int) *policy.Config {
	tb.Helper()
	var b strings.Builder
	b.WriteString("tenants:")
	for i := 1; i <= n; i++ {
		b.WriteString(tenantYAML(i))
	}
	cfg, err := policy.Parse([]byte(b.String()), "tenants.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// startAll starts every tenant of cfg as `xaa-idp serve` does, keys under
// stateDir/tenants/<id>, and returns the IdPs and how to stop them.
func startAll(tb testing.TB, cfg *policy.Config, base, stateDir string) ([]*idp.Server, func()) {
	tb.Helper()
	log, err := audit.Open(audit.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	var servers []*idp.Server
	for _, t := range cfg.IdPs() {
		o := idp.Options{Config: t, Issuer: base + t.Path, Audit: log}
		if t.ID != "" {
			o.Tenant, o.SharedAudit = t.ID, len(cfg.Tenants) > 1
		}
		if stateDir != "" {
			o.StateDir = filepath.Join(stateDir, "tenants", t.ID)
		}
		srv, err := idp.New(o)
		if err != nil {
			tb.Fatal(err)
		}
		servers = append(servers, srv)
	}
	stop := func() {
		for _, s := range servers {
			s.Close()
		}
		log.Close()
	}
	return servers, stop
}

// BenchmarkStartTenants starts 50 generated tenants, each with three
// keys (RS256 ID tokens, ES256 ID-JAGs, an EdDSA server), and builds
// their handler: first with a new state directory, where every key is
// generated and written, then from the state directory a start made, as
// every restart of `xaa-idp serve --state-dir` does. The second must stay
// under 100 ms (README, "Performance").
func BenchmarkStartTenants(b *testing.B) {
	cfg := generatedTenants(b, 50)
	start := func(dir string) {
		servers, stop := startAll(b, cfg, "http://127.0.0.1:8080", dir)
		tenants := make([]app.Tenant, len(servers))
		for i, s := range servers {
			tenants[i] = app.Tenant{IdP: s}
		}
		_ = app.Tenants(tenants)
		for _, s := range servers {
			s.Keys() // waits until every key is there
		}
		stop()
	}
	b.Run("new-state-dir", func(b *testing.B) {
		for b.Loop() {
			start(b.TempDir())
		}
	})
	b.Run("from-state-dir", func(b *testing.B) {
		dir := b.TempDir()
		start(dir)
		for b.Loop() {
			start(dir)
		}
	})
}

// BenchmarkExchange_Tenants: a token exchange in the 50th tenant of a
// file with 50 costs what it costs in a file without tenants; each
// sub-benchmark exchanges one ID token over HTTP, again and again.
func BenchmarkExchange_Tenants(b *testing.B) {
	// The 50th tenant's entry as a file of its own.
	lines := strings.Split(tenantYAML(50), "\n")[2:]
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "    ")
	}
	single, err := policy.Parse([]byte(strings.Join(lines, "\n")), "single.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		cfg    *policy.Config
		tenant int // index in IdPs
	}{
		{"single", single, 0},
		{"tenant-50-of-50", generatedTenants(b, 50), 49},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ts := httptest.NewUnstartedServer(nil)
			base := "http://" + ts.Listener.Addr().String()
			servers, stop := startAll(b, bc.cfg, base, "")
			defer stop()
			if bc.cfg.Tenants == nil {
				ts.Config.Handler = app.Handler(servers[0])
			} else {
				tenants := make([]app.Tenant, len(servers))
				for i, s := range servers {
					tenants[i] = app.Tenant{IdP: s}
				}
				ts.Config.Handler = app.Tenants(tenants)
			}
			ts.Start()
			defer ts.Close()
			issuer := servers[bc.tenant].Issuer()
			ctx := context.Background()
			tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "app", ClientSecret: "s", RedirectURI: "http://127.0.0.1/cb", Username: "alice", Password: "alice"})
			if err != nil {
				b.Fatal(err)
			}
			opts := idpclient.ExchangeOptions{Issuer: issuer, ClientID: "app", ClientSecret: "s", SubjectToken: tok.IDToken(), Audience: "http://127.0.0.1:9101"}
			for b.Loop() {
				if _, err := idpclient.Exchange(ctx, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
