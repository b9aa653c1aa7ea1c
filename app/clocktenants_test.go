package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
)

// TestTenants_ClockChangeIsInEveryTenantsAudit: the clock is the
// process's, so a tenant admin's PUT /admin/api/clock moves it for every
// tenant; each tenant's audit records it, naming the tenant and admin who
// made it. Before, only the acting tenant's did: the other tenants'
// admins saw tokens and time-bound access expire with no event.
func TestTenants_ClockChangeIsInEveryTenantsAudit(t *testing.T) {
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, _ := openTenantsFile(t, data)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := idp.NewClock(nil) // one for every tenant, as serve's
	var tenants []app.Tenant
	for _, c := range store.Config().Tenants {
		srv, err := idp.New(idp.Options{Config: c, Tenant: c.ID, SharedAudit: true, Issuer: base + c.Path, Audit: log, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		tenants = append(tenants, app.Tenant{IdP: srv, Store: store.Tenant(c.ID)})
	}
	ts.Config.Handler = app.Tenants(tenants)
	ts.Start()
	t.Cleanup(ts.Close)

	call := func(method, path, user, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.SetBasicAuth(user, user)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := call(http.MethodPut, "/t/c1/admin/api/clock", "dana", `{"advance": "2h"}`); status != http.StatusOK {
		t.Fatalf("c1's PUT /admin/api/clock: %d %s", status, body)
	}
	clockEvents := func(path, user string) []audit.Event {
		t.Helper()
		status, body := call(http.MethodGet, path+"/admin/api/audit?type=admin_change", user, "")
		if status != http.StatusOK {
			t.Fatalf("%s's audit: %d %s", path, status, body)
		}
		var events []audit.Event
		if err := json.Unmarshal([]byte(body), &events); err != nil {
			t.Fatalf("%s's audit: %v\n%s", path, err, body)
		}
		var out []audit.Event
		for _, e := range events {
			if e.Details["object"] == "clock" {
				out = append(out, e)
			}
		}
		return out
	}
	// The acting tenant's event is as it was.
	if evs := clockEvents("/t/c1", "dana"); len(evs) != 1 || evs[0].Admin != "dana" || evs[0].Details["by_tenant"] != nil || !strings.HasPrefix(evs[0].Reason, "IdP clock advanced by 2h0m0s; it now reads ") {
		t.Errorf("c1's clock events: %+v, want its own one", evs)
	}
	for _, other := range []struct{ path, admin string }{{"/t/acme", "alice"}, {"/t/okta", "alice"}, {"/issuers/acme", "bob"}} {
		evs := clockEvents(other.path, other.admin)
		if len(evs) != 1 {
			t.Errorf("%s's clock events: %+v, want one", other.path, evs)
			continue
		}
		e := evs[0]
		if e.Admin != "dana" || e.Details["by_tenant"] != "c1" || e.Details["after"] == nil || !strings.Contains(e.Reason, "tenant c1's admin dana") {
			t.Errorf("%s's clock event: %+v, want one naming tenant c1 and its admin dana", other.path, e)
		}
	}
}
