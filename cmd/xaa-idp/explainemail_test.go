package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestExplain_ShowsTheServersIncludeEmail: the demo's crm server has
// include_email: true, so its ID-JAGs carry the user's email, but explain
// printed "email=false" (the tenant's knob alone) and the admin API's
// explain "email": false: a newcomer comparing the explained shape with a
// decoded ID-JAG found an email that explain said was not there. Both now
// say include_email, as they say the server's signing_alg and aud_tenant.
func TestExplain_ShowsTheServersIncludeEmail(t *testing.T) {
	const want = "id_jag:   resource_claim=true aud=string email=false tenant_claim=false signing_alg=ES256 include_email=true\n"
	if code, out, _ := runCLI(t, "explain", "--user", "alice", "--client", "mcp-client", "--audience", "crm"); code != exitOK || !strings.Contains(out, want) {
		t.Errorf("explain crm: exit %d\n%s\nwant the line %q", code, out, want)
	}
	if _, out, _ := runCLI(t, "explain", "--user", "alice", "--client", "mcp-client", "--audience", "wiki"); strings.Contains(out, "include_email") {
		t.Errorf("explain wiki (no include_email): %s", out)
	}

	issuer := startServe(t)
	for server, want := range map[string]bool{"http://127.0.0.1:8104": true, "http://127.0.0.1:8102": false} {
		q := url.Values{"user": {"alice"}, "client": {"mcp-client"}, "audience": {server}}
		req, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/explain?"+q.Encode(), nil)
		req.SetBasicAuth("alice", "alice")
		var api struct {
			IDJAG map[string]any `json:"id_jag"`
		}
		if s := doJSON(t, req, &api); s != http.StatusOK {
			t.Fatalf("admin API explain %s: %d", server, s)
		}
		if got, _ := api.IDJAG["include_email"].(bool); got != want {
			t.Errorf("admin API explain %s: id_jag %v, want include_email %t", server, api.IDJAG, want)
		}
	}
}
