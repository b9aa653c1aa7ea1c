package admin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestGetOneClientAndGroup: GET of one client or group, as of one user or
// server, answered 405 though the list and PUT were there. It answers the
// list's element with the document's ETag, which a PUT or DELETE of that
// object takes in If-Match; a client's secret is not in it; an unknown
// name is 404 naming it.
func TestGetOneClientAndGroup(t *testing.T) {
	p := editable(t)
	resp, body := p.send(t, http.MethodGet, "/admin/api/clients/mcp-client", "alice", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET client: %d %s", resp.StatusCode, body)
	}
	var c map[string]any
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if c["client_id"] != "mcp-client" || c["confidential"] != true || strings.Contains(string(body), "s1") {
		t.Errorf("GET client: %s", body)
	}
	if srv, _ := c["servers"].([]any); len(srv) != 1 || srv[0] != "files" {
		t.Errorf("GET client's servers: %s", body)
	}
	tag := resp.Header.Get("ETag")
	if tag == "" {
		t.Fatal("GET client: no ETag")
	}
	// Sent back as read, with the ETag: the secret is kept.
	c["name"] = "Desktop"
	if resp, body := p.send(t, http.MethodPut, "/admin/api/clients/mcp-client", "alice", c, "If-Match", tag); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT client with GET's ETag: %d %s", resp.StatusCode, body)
	}
	if got := p.store.Config().Client("mcp-client"); got.ClientSecret != "s1" || got.Name != "Desktop" {
		t.Errorf("client after PUT: %+v", got)
	}
	// That ETag is now stale.
	if resp, body := p.send(t, http.MethodPut, "/admin/api/clients/mcp-client", "alice", c, "If-Match", tag); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("PUT client with a stale ETag: %d %s", resp.StatusCode, body)
	}

	resp, body = p.send(t, http.MethodGet, "/admin/api/groups/eng", "alice", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET group: %d %s", resp.StatusCode, body)
	}
	var g map[string]any
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	if m, _ := g["members"].([]any); g["name"] != "eng" || g["description"] != "Engineering" || len(m) != 1 || m[0] != "alice" {
		t.Errorf("GET group: %s", body)
	}
	tag = resp.Header.Get("ETag")
	if tag == "" {
		t.Fatal("GET group: no ETag")
	}
	g["description"] = "Eng"
	if resp, body := p.send(t, http.MethodPut, "/admin/api/groups/eng", "alice", g, "If-Match", tag); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT group with GET's ETag: %d %s", resp.StatusCode, body)
	}
	resp, _ = p.send(t, http.MethodGet, "/admin/api/groups/mkt", "alice", nil)
	if resp, body := p.send(t, http.MethodDelete, "/admin/api/groups/mkt?prune=true", "alice", nil, "If-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE group with GET's ETag: %d %s", resp.StatusCode, body)
	}

	for _, path := range []string{"/admin/api/clients/nobody", "/admin/api/groups/mkt"} {
		resp, body := p.send(t, http.MethodGet, path, "alice", nil)
		var e map[string]any
		_ = json.Unmarshal(body, &e)
		name := path[strings.LastIndexByte(path, '/')+1:]
		if desc, _ := e["error_description"].(string); resp.StatusCode != http.StatusNotFound || e["error"] != "not_found" || !strings.Contains(desc, `"`+name+`"`) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	if resp, _ := p.send(t, http.MethodGet, "/admin/api/groups/eng", "bob", nil); resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET group as a non-admin: %d", resp.StatusCode)
	}
}
