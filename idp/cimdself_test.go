package idp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAuthorize_CIMDURLOfTheIdPItselfIsRefusedUnfetched: with the default
// cimd.allow (loopback allowed), a client_id such as
// http://127.0.0.1:PORT/authorize?client_id=http://127.0.0.1:PORT/authorize?...
// made the IdP fetch its own /authorize, each fetch starting another: one
// request held many of the 64 fetch places, and a caller repeating it kept
// every metadata document client at 503. A URL on the origin of the
// issuer, or on the address and port the IdP was reached at under any
// loopback spelling, is refused invalid_client without a fetch, saying
// why, and audited as other metadata document refusals are.
func TestAuthorize_CIMDURLOfTheIdPItselfIsRefusedUnfetched(t *testing.T) {
	cfg, err := policy.Parse([]byte("users:\n  - {username: alice, password: alice-pw}\n"), "self.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		issuer func(listen string) string
	}{
		{"issuer is the listening address", func(listen string) string { return listen }},
		{"issuer elsewhere", func(string) string { return "https://idp.example.com" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var listen string
			p := startIdP(t, cfg, func(o *idp.Options) { listen = o.Issuer; o.Issuer = tc.issuer(o.Issuer) })
			port := listen[strings.LastIndex(listen, ":")+1:]
			inner := listen + "/authorize?client_id=" + url.QueryEscape(listen+"/authorize?client_id=x")
			for _, id := range []string{
				listen + "/authorize?client_id=" + url.QueryEscape(inner),
				listen + "/.well-known/openid-configuration",
				"http://localhost:" + port + "/c.json",
				"http://[::1]:" + port + "/c.json",
			} {
				q := url.Values{"client_id": {id}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {"http://127.0.0.1/cb"},
					"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
				resp, err := http.Get(listen + "/authorize?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var body map[string]any
				_ = json.Unmarshal(b, &body)
				desc, _ := body["error_description"].(string)
				if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_client" || !strings.Contains(desc, "this server itself") || strings.Contains(desc, "GET ") {
					t.Errorf("client_id %s: %d %s; want 400 invalid_client saying the URL is this server itself, unfetched", id, resp.StatusCode, b)
				}
			}
			evs := p.Audit.Query(audit.Filter{Type: audit.TypeLogin})
			refused := 0
			for _, ev := range evs {
				if ev.Outcome == audit.Denied && strings.Contains(ev.Reason, "this server itself") {
					refused++
				}
			}
			if refused != 4 {
				t.Errorf("%d audited refusals naming this server, want 4: %+v", refused, evs)
			}
		})
	}
}
