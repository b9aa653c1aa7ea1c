package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzAdminQueries throws arbitrary queries at the admin API's reads that
// take parameters (the audit log's filters and pages, explain, the users'
// and the access requests' lists): never a 5xx, JSON whatever the answer,
// a refusal with its error code.
func FuzzAdminQueries(f *testing.F) {
	for _, s := range []string{
		"type=token_exchange&outcome=denied&limit=2",
		"user=alice&client=mcp-client&server=files&since=15m",
		"since=2026-12-06T10:00:00%2B01:00&limit=0",
		"since=2026-12-06T10:00:00+01:00",
		"since=-9000000h&before=01J0000000000000000000000&limit=1",
		"after=01J0000000000000000000000&limit=9999999999999999999",
		"limit=-1&type=x",
		"user=alice&client=mcp-client&audience=https://as.files.example&resource=https://mcp.files.example/mcp&scope=files.read&scope=files.write&auth_age=1h",
		"user=bob&client=mcp-client&audience=files&auth_age=-5m",
		"after=bob&user=a",
		"status=pending",
		"%zz=1",
		"limit=1&limit=2",
	} {
		f.Add(s)
	}
	p := editable(f)
	// Some events to page through.
	for i := 0; i < 3; i++ {
		p.exchange(f, "alice")
		p.put(f, "/admin/api/groups/zg", []byte(`{"description":"Z"}`))
	}
	f.Fuzz(func(t *testing.T, query string) {
		for _, b := range []byte(query) {
			if b <= ' ' || b >= 0x7f || b == '#' {
				t.Skip("not sent as such: net/http refuses such a request line before any handler")
			}
		}
		for _, path := range []string{"/admin/api/audit", "/admin/api/explain", "/admin/api/users", "/admin/api/access-requests"} {
			resp, raw := p.send(t, http.MethodGet, path+"?"+query, "alice", nil)
			var v any
			if resp.StatusCode >= 500 || json.Unmarshal(raw, &v) != nil {
				t.Fatalf("GET %s?%s: %d %s", path, query, resp.StatusCode, raw)
			}
			if m, _ := v.(map[string]any); resp.StatusCode >= 400 && m["error"] == nil {
				t.Fatalf("GET %s?%s: %d without an error code: %s", path, query, resp.StatusCode, raw)
			}
		}
	})
}
