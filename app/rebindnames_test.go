package app_test

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// guardedProduct serves the demo configuration at issuer (its port that
// of the listener, which is on loopback) with --addr's host addrHost.
func guardedProduct(t *testing.T, issuerHost, addrHost string) (ts *httptest.Server, port string) {
	t.Helper()
	store, err := policy.NewStore(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	ts = httptest.NewUnstartedServer(nil)
	_, port, _ = net.SplitHostPort(ts.Listener.Addr().String())
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: "http://" + issuerHost + ":" + port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = app.New(app.Options{IdP: srv, Store: store, Hosts: []string{addrHost}})
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, port
}

// TestDNSRebinding_NamesUnderLocalhost: names under localhost
// (console.localhost) are loopback by definition (RFC 6761 section 6.3)
// and browsers resolve them to loopback themselves, so no attacker can
// rebind them: a browser's request under one is served, as under
// localhost. A name that only contains localhost is refused.
func TestDNSRebinding_NamesUnderLocalhost(t *testing.T) {
	ts, port := guardedProduct(t, "idp.test", "idp-addr.test")
	for _, c := range []struct {
		host string
		want int
	}{
		{"console.localhost", http.StatusOK},
		{"a.b.localhost", http.StatusOK},
		{"Tenant.LocalHost.", http.StatusOK},
		{"localhost.evil.example", http.StatusForbidden},
		{"evil-localhost", http.StatusForbidden},
		{"evillocalhost", http.StatusForbidden},
		{".localhost", http.StatusForbidden},
	} {
		host := c.host + ":" + port
		resp, body := send(t, ts, "GET", "/admin/api/config", host, nil,
			"Authorization", basic("alice", "alice"), "Origin", "http://"+host, "Sec-Fetch-Site", "same-origin")
		if resp.StatusCode != c.want {
			t.Errorf("browser GET at Host %s: %d %.200s, want %d", host, resp.StatusCode, body, c.want)
		}
	}
}

// TestDNSRebinding_CaseFoldsASCIIOnly: host names are compared ignoring
// ASCII case, as DNS does (RFC 4343); no other folding: an Origin whose
// host is kiosk.test with a KELVIN SIGN for its k, which Unicode lower
// case makes kiosk.test, names another host (browsers send such a name in
// its xn-- form) and lets no rebound request through.
func TestDNSRebinding_CaseFoldsASCIIOnly(t *testing.T) {
	ts, port := guardedProduct(t, "idp.test", "kiosk.test")
	evil := "evil.example:" + port
	for _, c := range []struct {
		host, origin string
		want         int
	}{
		{"KIOSK.Test:" + port, "http://KIOSK.Test:" + port, http.StatusOK},
		{"IDP.TEST:" + port, "http://IDP.TEST:" + port, http.StatusOK},
		{evil, "http://\u212Aiosk.test:" + port, http.StatusForbidden},
	} {
		resp, body := send(t, ts, "GET", "/admin/api/config", c.host, nil,
			"Authorization", basic("alice", "alice"), "Origin", c.origin, "Sec-Fetch-Site", "same-origin")
		if resp.StatusCode != c.want {
			t.Errorf("browser GET at Host %s, Origin %s: %d %.200s, want %d", c.host, c.origin, resp.StatusCode, body, c.want)
		}
	}
}

// TestDNSRebinding_InternationalIssuerIsNamedAtStart: the guard cannot
// derive the xn-- form a browser sends of an issuer host that is not
// ASCII (the standard library has no IDNA), so the start says so and how
// to write the issuer; its browsers' console requests are refused.
func TestDNSRebinding_InternationalIssuerIsNamedAtStart(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	guardedProduct(t, "bücher.test", "idp-addr.test")
	if out := logs.String(); !strings.Contains(out, "bücher.test") || !strings.Contains(out, "xn--") {
		t.Errorf("start logs %q, want a warning naming the issuer's host and its xn-- form", out)
	}
	if n := strings.Count(logs.String(), "is not ASCII"); n != 1 {
		t.Errorf("start logs the warning %d times, want once: %s", n, logs.String())
	}
	// Every tenant's issuer shares the host: one warning, not one per
	// tenant.
	logs.Reset()
	store, err := policy.OpenStore("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tenants []app.Tenant
	for _, c := range store.Config().Tenants {
		srv, err := idp.New(idp.Options{Config: c, Tenant: c.ID, Issuer: "http://bücher.test:1" + c.Path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		tenants = append(tenants, app.Tenant{IdP: srv, Store: store.Tenant(c.ID)})
	}
	app.Tenants(tenants)
	if n := strings.Count(logs.String(), "is not ASCII"); n != 1 {
		t.Errorf("a start with %d tenants logs the warning %d times, want once: %s", len(tenants), n, logs.String())
	}
	logs.Reset()
	guardedProduct(t, "idp.test", "idp-addr.test")
	if out := logs.String(); strings.Contains(out, "xn--") {
		t.Errorf("start with an ASCII issuer logs %q", out)
	}
}
