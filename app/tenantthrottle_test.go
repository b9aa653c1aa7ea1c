package app_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestTenants_LoginThrottleIsPerTenant: five failed admin API Basic
// authentications of ann at tenant a throttle ann there (429 with
// Retry-After, even with the right password), and not the other tenant's ann, another person (the
// product contract, section 9: "Login throttling (per tenant)").
func TestTenants_LoginThrottleIsPerTenant(t *testing.T) {
	store, _ := openTenantsFile(t, []byte(twoTenantsYAML))
	_, servers, _ := startTenantsOf(t, store)
	basic := func(tenant, password string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, servers[tenant].Issuer()+"/admin/api/config", nil)
		req.SetBasicAuth("ann", password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 5 {
		if resp := basic("a", "wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d at a: %d, want 401", i+1, resp.StatusCode)
		}
	}
	// The back-off runs on the wall clock from 1 s: a slow machine may
	// see it end between two requests, and then a failure counts and
	// doubles it, so fail until one is answered 429.
	throttled := false
	for range 10 {
		if basic("a", "wrong").StatusCode == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Fatal("ann at a was never throttled")
	}
	if resp := basic("a", "ann-pw"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("right password at a during the back-off: %d Retry-After %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := basic("b", "ann-pw"); resp.StatusCode != http.StatusOK {
		t.Errorf("ann at b: %d, want 200 (another tenant's throttle)", resp.StatusCode)
	}
	ctx := context.Background()
	if _, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: servers["b"].Issuer(), ClientID: "app", ClientSecret: "b-secret", Username: "ann", Password: "ann-pw"}); err != nil {
		t.Errorf("login of ann at b: %v, want tokens", err)
	}
}
