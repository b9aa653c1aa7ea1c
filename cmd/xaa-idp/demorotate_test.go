package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestDemo_ConnectsAfterARotationUnderAFrozenClock: `keys rotate` while a
// client is connected to the demo's MCP server, the IdP's clock stopped
// (PUT /admin/api/clock, README "Operations", "Clock"), and the client
// connects again at once: the demo authorization server refetches the
// IdP's key set for the new kid (docs/http.md, "The IdP's keys"). Until
// 2026-12-07 it paced that refetch on the IdP's clock, which then never
// moved on, and every ID-JAG of the new key was refused, "kid ... is not
// in the IdP JWKS", until the clock ran again; and even with a running
// clock a rotation within 5 seconds of its last fetch was refused so.
func TestDemo_ConnectsAfterARotationUnderAFrozenClock(t *testing.T) {
	cfg := minimalConfig(t, "http", 19770, 19771) // ports of this test alone
	first, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--config", cfg)
	if !strings.HasPrefix(first, "xaa-idp demo") {
		t.Fatalf("banner starts %q", first)
	}
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer := strings.Fields(banner[strings.Index(banner, "  IdP"):])[1]

	connect := func(when string) {
		t.Helper()
		code, out, stderr := runBinary(t, "connect", "--issuer", issuer, "--client-id", "my-mcp-client", "--client-secret", "change-me",
			"--username", "dev", "--password", "dev", "--json")
		var results []connectResult
		if err := json.Unmarshal([]byte(out), &results); err != nil || code != 0 || len(results) != 1 || !results[0].Connected {
			t.Fatalf("connect %s: exit %d %v\n%s%s", when, code, err, out, stderr)
		}
	}
	connect("before the rotation")

	req, _ := http.NewRequest(http.MethodPut, issuer+"/admin/api/clock", strings.NewReader(`{"frozen": true}`))
	req.SetBasicAuth("dev", "dev")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("freezing the clock: HTTP %d", resp.StatusCode)
	}
	if code, out, stderr := runBinary(t, "keys", "rotate", "--issuer", issuer, "--admin-user", "dev", "--admin-password", "dev"); code != 0 {
		t.Fatalf("keys rotate: exit %d\n%s%s", code, out, stderr)
	}
	connect("right after the rotation, the clock frozen")
}
