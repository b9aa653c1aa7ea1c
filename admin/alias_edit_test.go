package admin_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestConfigAPI_EditOfAValueSharedByAnAliasIsAConflict: a change to a
// value the file shares through an anchor and an alias (&acc, *acc) is
// refused with 409 conflict naming the file and the alias's line, and
// nothing changes. It was a 500 server_error, "yamlpatch: the changed
// document cannot be written as YAML", that named neither.
func TestConfigAPI_EditOfAValueSharedByAnAliasIsAConflict(t *testing.T) {
	cfg := strings.Replace(editConfig, "      - groups: [eng]\n        scopes: [files.read]\n", "      - &acc\n        groups: [eng]\n        scopes: [files.read]\n", 1) +
		"  - id: wiki\n" +
		"    issuer: https://as.wiki.example\n" +
		"    resources: [https://mcp.wiki.example/mcp]\n" +
		"    scopes: [files.read]\n" +
		"    access:\n" +
		"      - *acc\n"
	p := editableYAML(t, cfg)
	file, store := p.file, p.store
	version := store.Version()
	resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files", "alice",
		map[string]any{"issuer": "https://as.files.example", "resources": []string{"https://mcp.files.example/mcp"},
			"scopes": []string{"files.read", "files.write"}, "clients": map[string]string{"mcp-client": "mcp-client-at-files"},
			"access": []map[string]any{{"groups": []string{"eng"}, "scopes": []string{"files.read", "files.write"}}}},
		"If-Match", "*")
	if want := file + ":39: "; resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), `"error": "conflict"`) ||
		!strings.Contains(string(body), want) || !strings.Contains(string(body), "alias") {
		t.Errorf("PUT: %d %s, want 409 conflict naming %q and the alias", resp.StatusCode, body, want)
	}
	if data, _ := os.ReadFile(file); string(data) != cfg || store.Version() != version {
		t.Errorf("the file or the running configuration changed:\n%s", data)
	}
}
