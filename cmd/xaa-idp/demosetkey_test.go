package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TestDemo_RS256TenantKeepsItsSETKeyAcrossRestarts: `demo --state-dir`
// gives a tenant whose ID tokens and ID-JAGs are RS256 (the okta persona)
// an ES256 key for the Security Event Tokens it pushes. A restart on the
// same state directory must take that key back. Each start retired it as
// a key of an algorithm no longer used and made another one, so every
// restart added a key to the tenant's JWKS (and to keys/previous.json)
// for an hour, and the SETs were signed with a new key each time.
func TestDemo_RS256TenantKeepsItsSETKeyAcrossRestarts(t *testing.T) {
	file := tenantsConfig(t)
	state := filepath.Join(t.TempDir(), "state")
	idpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	jwks := "http://" + idpAddr + "/t/okta/keys"
	kids := func() []string {
		t.Helper()
		resp, err := http.Get(jwks)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.Kid)
		}
		slices.Sort(out)
		return out
	}
	cmd, _ := startDemoState(t, file, state, idpAddr)
	first := kids()
	for i := range 2 {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		cmd, _ = startDemoState(t, file, state, idpAddr)
		if got := kids(); !slices.Equal(got, first) {
			t.Fatalf("the okta tenant's JWKS after restart %d: %v; before: %v", i+1, got, first)
		}
	}
}
