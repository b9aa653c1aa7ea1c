package idp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestMetrics_TenantsStrictAndBounded: with tenants, the root /metrics
// (every tenant's series and the process's) and a tenant's
// <issuer>/metrics parse by the text format's strict rules after
// exchanges allowed and refused in two tenants; requests naming other
// tenants' paths, clients and audiences add no series.
func TestMetrics_TenantsStrictAndBounded(t *testing.T) {
	store, err := policy.OpenStore("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	var tenants []app.Tenant
	for _, c := range store.Config().Tenants {
		srv, err := idp.New(idp.Options{Config: c, Tenant: c.ID, SharedAudit: true, Issuer: base + c.Path, Audit: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		tenants = append(tenants, app.Tenant{IdP: srv, Store: store.Tenant(c.ID)})
	}
	ts.Config.Handler = app.Tenants(tenants)
	ts.Start()
	t.Cleanup(ts.Close)

	ctx := context.Background()
	round := func(i int) {
		v := strconv.Itoa(i)
		for _, tn := range []struct{ path, client, secret string }{{"/t/okta", "0oa-desktop", "okta-desktop-secret"}, {"/t/acme", "desktop", "acme-desktop-secret"}} {
			iss := base + tn.path
			tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: iss, ClientID: tn.client, ClientSecret: tn.secret, Username: "alice", Password: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			for _, aud := range []string{"http://127.0.0.1:9101", "https://zzas" + v + ".example"} {
				_, _ = idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: iss, ClientID: tn.client, ClientSecret: tn.secret,
					SubjectToken: tok.IDToken(), Audience: aud})
			}
			_, _ = idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: iss, ClientID: "zzclient" + v, ClientSecret: "x",
				SubjectToken: tok.IDToken(), Audience: "http://127.0.0.1:9101"})
			resp, err := http.PostForm(iss+"/oauth/token", url.Values{"grant_type": {"zzgrant" + v}})
			if err == nil {
				resp.Body.Close()
			}
		}
		for _, p := range []string{"/t/zz" + v + "/metrics", "/t/okta/zz" + v, "/zz" + v + "/oauth/token"} {
			if resp, err := http.Get(base + p); err == nil {
				resp.Body.Close()
			}
		}
	}
	round(0)
	pages := []string{base + "/metrics", base + "/t/okta/metrics", base + "/t/acme/metrics"}
	var before []map[string]float64
	for _, p := range pages {
		before = append(before, parseExposition(t, scrapeRaw(t, p)))
	}
	for i := 1; i < 6; i++ {
		round(i)
	}
	for k, p := range pages {
		after := parseExposition(t, scrapeRaw(t, p))
		for series := range after {
			if _, ok := before[k][series]; !ok {
				t.Errorf("%s: new series after other client input: %s", p, series)
			}
			if strings.Contains(series, "zz") || strings.Contains(series, "alice") {
				t.Errorf("%s: series %s holds what a client sent", p, series)
			}
		}
	}
	if n := before[0][`xaa_idp_token_exchanges_total{error="",outcome="allowed",server="notes",tenant="okta"}`]; n != 1 {
		t.Errorf("okta's allowed exchanges after one round: %v, want 1", n)
	}
}
