package admin_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// commentedConfig has a comment above each list's key, on the key's line,
// at the head and on the lines of each first item, and at the foot of
// each list.
const commentedConfig = `# The company.

# The groups.
groups: # key line of groups
  # first group: temporary
  - name: temp # line of temp
  - name: eng
  # foot of groups

# The users.
users: # key line of users
  # first user: leaving
  - username: zed # line of zed
    password: zed-pw
    # foot of zed
  - username: alice
    password: alice-pw
    groups: [eng]
    admin: true
  # foot of users

# The clients.
clients: # key line of clients
  # first client: retired
  - client_id: old # line of old
    client_secret: s0
    redirect_uris: [http://127.0.0.1/callback]
  - client_id: mcp-client
    client_secret: s1
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
  # foot of clients

# The MCP servers.
mcp_servers: # key line of mcp_servers
  # first server: retired
  - id: old # line of old server
    issuer: https://as.old.example
    scopes: [old.read]
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read, files.write]
    clients:
      mcp-client: mcp-client-at-files
    # who may connect
    access: # key line of access
      # first entry: eng reads
      - groups: [eng] # line of the first entry
        scopes: [files.read]
      - users: [alice]
        scopes: [files.read, files.write]
      # foot of access
    # who may never connect
    deny:
      - users: [alice] # until the audit ends
  # foot of mcp_servers
`

// TestConfigAPI_DeletingFirstItemsKeepsTheFilesComments deletes the first
// item of each list of a file through the admin API (DELETE of a group,
// user, client and server, and a PUT of an access list without its first
// entry, and of a deny list without its only one): the comments of the
// file's structure stay, above each list's key, on its line and at the
// list's foot; the comments of each item deleted (its head, its lines,
// its foot) go with it. The deny list's comment above its key went with
// the key until 2026-12-06.
func TestConfigAPI_DeletingFirstItemsKeepsTheFilesComments(t *testing.T) {
	p := editableYAML(t, commentedConfig)
	for _, path := range []string{"/admin/api/groups/temp", "/admin/api/users/zed", "/admin/api/clients/old", "/admin/api/servers/old"} {
		resp, body := p.send(t, http.MethodDelete, path, "alice", nil, "If-Match", p.etagOf(t, path))
		if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE %s: %d %s", path, resp.StatusCode, body)
		}
	}
	path := "/admin/api/servers/files/access"
	resp, body := p.send(t, http.MethodPut, path, "alice", `[{"users":["alice"],"scopes":["files.read","files.write"]}]`,
		"If-Match", p.etagOf(t, "/admin/api/servers/files"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, body)
	}
	// Its deny list emptied, its comment above the key stays, with the
	// list, empty; the entry's own comment goes.
	path = "/admin/api/servers/files/deny"
	resp, body = p.send(t, http.MethodPut, path, "alice", `[]`, "If-Match", p.etagOf(t, "/admin/api/servers/files"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, body)
	}
	data, err := os.ReadFile(p.file)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, line := range strings.Split(commentedConfig, "\n") {
		i := strings.Index(line, "# ")
		if i < 0 {
			continue
		}
		comment := line[i:]
		gone := strings.Contains(comment, "first") || strings.Contains(comment, "line of temp") || strings.Contains(comment, "line of zed") ||
			strings.Contains(comment, "foot of zed") || strings.Contains(comment, "line of old") || strings.Contains(comment, "until the audit ends")
		if kept := strings.Contains(got, comment); kept == gone {
			t.Errorf("%q: kept %v, want %v", comment, kept, !gone)
		}
	}
	if t.Failed() {
		t.Logf("the file after the edits:\n%s", got)
	}
}
