package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// SCIM through the console's session: a read needs no token, a change
// needs the session's CSRF token (X-CSRF-Token), as every admin API
// change does; without it the refusal is a SCIM error and nothing
// changes.
func TestSCIM_ThroughTheConsoleSession(t *testing.T) {
	p, b := signedIn(t)
	_, token, _ := openServer(t, b, "tracker")
	const base = "/admin/api/scim/v2"
	send := func(method, path, body, csrf string) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, p.URL+base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, raw := b.do(req)
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
		}
		return resp, m
	}
	resp, list := send("GET", "/Users?filter=userName%20eq%20%22bob%22", "", "")
	if resp.StatusCode != http.StatusOK || list["totalResults"] != 1.0 {
		t.Fatalf("GET /Users by session: %d %v", resp.StatusCode, list)
	}
	id := list["Resources"].([]any)[0].(map[string]any)["id"].(string)
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`
	for name, tok := range map[string]string{"without the token": "", "with a wrong token": token + "x"} {
		resp, m := send("PATCH", "/Users/"+id, patch, tok)
		if resp.StatusCode != http.StatusForbidden || m["status"] != "403" || resp.Header.Get("Content-Type") != "application/scim+json" {
			t.Errorf("PATCH %s: %d %v, want a SCIM 403", name, resp.StatusCode, m)
		}
	}
	if !p.Store.Config().User("bob").Active() {
		t.Fatal("a PATCH without the CSRF token disabled bob")
	}
	resp, u := send("PATCH", "/Users/"+id, patch, token)
	if resp.StatusCode != http.StatusOK || u["active"] != false || p.Store.Config().User("bob").Active() {
		t.Errorf("PATCH with the token: %d %v", resp.StatusCode, u)
	}
}
