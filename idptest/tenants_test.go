package idptest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	mcpconnect "github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/idptest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func tenantsSample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestTenants_EachTenantIsItsOwnIdP: with tenants, each tenant's view
// logs its own users in at its own issuer, and sees only its own audit
// events; the Server New returns sees them all.
func TestTenants_EachTenantIsItsOwnIdP(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(tenantsSample(t)))
	if got := srv.TenantIDs(); len(got) != 4 || got[0] != "acme" || got[3] != "c1" {
		t.Fatalf("TenantIDs() = %v", got)
	}
	tests := []struct {
		tenant, user, path, wantSub string
	}{
		{"acme", "alice", "/t/acme", "u-alice"},
		{"okta", "alice", "/t/okta", "00u-okta-alice"},
		{"anthropic-acme", "bob", "/issuers/acme", "u-bob"},
		{"c1", "dana", "/t/c1", "2kQ7XbV9mRzT1eLc0wHnY4sPdJa"},
	}
	for _, tt := range tests {
		t.Run(tt.tenant, func(t *testing.T) {
			ten := srv.Tenant(tt.tenant)
			if got, want := srv.TenantIssuer(tt.tenant), srv.URL()+tt.path; got != want || ten.Issuer() != got {
				t.Errorf("TenantIssuer = %s, Tenant().Issuer() = %s, want %s", got, ten.Issuer(), want)
			}
			c := claims(ten.IDJAG(tt.user, "notes"))
			if c["iss"] != ten.Issuer() || c["sub"] != tt.wantSub {
				t.Errorf("ID-JAG iss %v sub %v, want %s %s", c["iss"], c["sub"], ten.Issuer(), tt.wantSub)
			}
			for _, ev := range ten.Audit(audit.Filter{}) {
				if ev.Tenant != tt.tenant {
					t.Errorf("tenant %s's audit holds an event of %q: %+v", tt.tenant, ev.Tenant, ev)
				}
			}
		})
	}
	seen := map[string]bool{}
	for _, ev := range srv.Audit(audit.Filter{Type: audit.TypeTokenExchange}) {
		seen[ev.Tenant] = true
	}
	if len(seen) != 4 {
		t.Errorf("the whole log has exchanges of %v, want the 4 tenants", seen)
	}
	if _, err := srv.Tenant("okta").TryLogin("0oa-desktop", "bob"); err == nil {
		t.Error("bob of anthropic-acme logged in at okta")
	}
}

// TestTenants_StartDemoServersServesTheSharedServer: the MCP server that
// the tenants list is served once, and each tenant's user reaches
// it through their own issuer.
func TestTenants_StartDemoServersServesTheSharedServer(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(tenantsSample(t)))
	notes := srv.StartDemoServers()["notes"]
	if notes.URL == "" || notes.AuthServer == "" {
		t.Fatalf("StartDemoServers()[notes] = %+v", notes)
	}
	tests := []struct{ tenant, client, secret, user string }{
		{"acme", "desktop", "acme-desktop-secret", "alice"},
		{"okta", "0oa-desktop", "okta-desktop-secret", "alice"},
		{"anthropic-acme", "claude", "claude-secret", "bob"},
		{"c1", "agent", "c1-agent-secret", "dana"},
	}
	for _, tt := range tests {
		res, err := mcpconnect.Run(context.Background(), mcpconnect.Options{
			Issuer: srv.TenantIssuer(tt.tenant), ClientID: tt.client, ClientSecret: tt.secret,
			Username: tt.user, Password: tt.user,
		})
		if err != nil || len(res) != 1 || !res[0].Connected {
			t.Fatalf("%s: connect = %+v, %v", tt.tenant, res, err)
		}
		if who := res[0].WhoAmI; who["idp_issuer"] != srv.TenantIssuer(tt.tenant) || who["username"] != tt.user {
			t.Errorf("%s: whoami %v", tt.tenant, who)
		}
	}
}

// TestTenants_PersonaIDJAGGolden pins the header and claims of the ID-JAG
// each persona issues for the tenants sample (docs/personas.md), in
// testdata/idjag-<persona>.json; times, ids and kids are masked and the
// test server's URL is written <base>. go test -update rewrites them.
func TestTenants_PersonaIDJAGGolden(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(tenantsSample(t)))
	users := map[string]string{"acme": "alice", "okta": "alice", "anthropic-acme": "bob", "c1": "dana"}
	for _, id := range srv.TenantIDs() {
		ten := srv.Tenant(id)
		persona := ten.Config().Knobs().Persona
		t.Run(persona, func(t *testing.T) {
			raw := ten.IDJAG(users[id], "notes")
			parts := strings.Split(raw, ".")
			doc := map[string]map[string]any{}
			for i, name := range []string{"header", "claims"} {
				b, err := base64.RawURLEncoding.DecodeString(parts[i])
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]any{}
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"kid", "iat", "exp", "nbf", "jti", "auth_time"} {
					if _, ok := m[k]; ok {
						m[k] = "MASKED"
					}
				}
				doc[name] = m
			}
			got, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(bytes.ReplaceAll(got, []byte(srv.URL()), []byte("<base>")), '\n')
			golden := filepath.Join("testdata", "idjag-"+persona+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the %s ID-JAG differs from %s:\n%s", persona, golden, got)
			}
		})
	}
}

// TestTenants_RevokeAnswersAnEmptyBody: each tenant's revocation endpoint
// answers as the IdP's (docs/http.md, "Revocation"): 200 with an empty
// body and no Content-Type, which application/json claimed until
// 2026-12-07 (okta's at Okta's path too).
func TestTenants_RevokeAnswersAnEmptyBody(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(tenantsSample(t)))
	for _, tt := range []struct{ tenant, path, client, secret string }{
		{"acme", "/revoke", "desktop", "acme-desktop-secret"},
		{"okta", "/oauth2/v1/revoke", "0oa-desktop", "okta-desktop-secret"},
		{"anthropic-acme", "/revoke", "claude", "claude-secret"},
		{"c1", "/revoke", "agent", "c1-agent-secret"},
	} {
		t.Run(tt.tenant, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.TenantIssuer(tt.tenant)+tt.path, strings.NewReader("token=no-such-token"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(tt.client, tt.secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") != "" {
				t.Errorf("HTTP %d, Content-Type %q, body %q; want 200 with an empty body and no Content-Type", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
}
