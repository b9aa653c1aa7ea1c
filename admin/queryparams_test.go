package admin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestQueryParametersAreNeverIgnored: a parameter an endpoint does not take
// was ignored everywhere but audit, explain, access-requests and a
// DELETE's prune: GET /admin/api/users?users=alice answered every user,
// ?user=alice&user=bob alice alone, /admin/api/servers?id=files every
// server, each as if filtered, and a change with one went ahead. Now each
// is 400 invalid_request naming the parameter, and nothing changes; the
// parameters an endpoint takes still work.
func TestQueryParametersAreNeverIgnored(t *testing.T) {
	p := editable(t)
	for _, c := range []struct{ method, path, names string }{
		{http.MethodGet, "/admin/api/users?users=alice", `"users"`},
		{http.MethodGet, "/admin/api/users?user=alice&user=bob", `"user"`},
		{http.MethodGet, "/admin/api/users?limit=1&limit=2", `"limit"`},
		{http.MethodGet, "/admin/api/users?after=alice&after=bob", `"after"`},
		{http.MethodGet, "/admin/api/servers?id=files", `"id"`},
		{http.MethodGet, "/admin/api/servers/files?fields=access", `"fields"`},
		{http.MethodGet, "/admin/api/groups?name=eng", `"name"`},
		{http.MethodGet, "/admin/api/clients?client_id=mcp-client", `"client_id"`},
		{http.MethodGet, "/admin/api/faults?id=f1", `"id"`},
		{http.MethodGet, "/admin/api/status?verbose=1", `"verbose"`},
		{http.MethodPut, "/admin/api/groups/eng?dry_run=true", `"dry_run"`},
		{http.MethodDelete, "/admin/api/servers/files?prune=true", `"prune"`},
		{http.MethodDelete, "/admin/api/clients/mcp-client?force=1", `"force"`},
	} {
		before := p.store.Version()
		var body any
		if c.method == http.MethodPut {
			body = `{"description": "changed"}`
		}
		resp, b := p.send(t, c.method, c.path, "alice", body)
		var e apiError
		_ = json.Unmarshal(b, &e)
		if resp.StatusCode != http.StatusBadRequest || e.Error != "invalid_request" || !strings.Contains(e.Description, c.names) {
			t.Errorf("%s %s: %d %s, want 400 naming %s", c.method, c.path, resp.StatusCode, b, c.names)
		}
		if p.store.Version() != before {
			t.Errorf("%s %s changed the configuration", c.method, c.path)
		}
	}
	for _, path := range []string{"/admin/api/users?user=bob&limit=5", "/admin/api/users?after=alice", "/admin/api/servers", "/admin/api/servers?"} {
		if resp, b := p.send(t, http.MethodGet, path, "alice", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
	}
	if resp, b := p.send(t, http.MethodGet, "/admin/api/scim/v2/Users?filter="+strings.ReplaceAll(`userName eq "bob"`, " ", "%20"), "alice", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("SCIM's filter: %d %s", resp.StatusCode, b)
	}
}

// TestUnreadableQueryIsRefused: a parameter whose value does not decode
// (al%zzice) was dropped from the query as if never sent, so audit's
// ?user=al%zzice answered every event as if filtered. Any route now
// answers 400 for a query that cannot be read.
func TestUnreadableQueryIsRefused(t *testing.T) {
	p := editable(t)
	for _, path := range []string{
		"/admin/api/audit?user=al%zzice",
		"/admin/api/users?user=b%zzob",
		"/admin/api/access-requests?status=pend%zzing",
		"/admin/api/explain?user=alice&client=mcp-client&audience=files&scope=files.read;files.write",
	} {
		resp, b := p.send(t, http.MethodGet, path, "alice", nil)
		var e apiError
		_ = json.Unmarshal(b, &e)
		if resp.StatusCode != http.StatusBadRequest || e.Error != "invalid_request" {
			t.Errorf("GET %s: %d %s, want 400", path, resp.StatusCode, b)
		}
	}
}
