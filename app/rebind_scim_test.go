package app_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The host guard's refusal of a rebound browser's SCIM request is a SCIM
// error (RFC 7644 section 3.12), as every refusal under the SCIM
// endpoints is: a SCIM client parses it.
func TestDNSRebinding_SCIMRefusalIsASCIMError(t *testing.T) {
	ts, _, _ := rebindProduct(t)
	resp, body := send(t, ts, "GET", "/admin/api/scim/v2/Users", "evil.example", nil, "User-Agent", chromeUA, "Authorization", basic("alice", "alice"))
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	schemas, _ := m["schemas"].([]any)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/scim+json" || m["status"] != "403" ||
		len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || m["detail"] == nil {
		t.Errorf("rebound SCIM request: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// The rest of the admin API keeps its own error.
	resp, body = send(t, ts, "GET", "/admin/api/users", "evil.example", nil, "User-Agent", chromeUA, "Authorization", basic("alice", "alice"))
	if resp.StatusCode != http.StatusForbidden || json.Unmarshal([]byte(body), &m) != nil || m["error"] != "forbidden" {
		t.Errorf("rebound admin API request: %d %s", resp.StatusCode, body)
	}
}
