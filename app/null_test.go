package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestTenants_AdminAPINullIsRefusedAndNeverAnswered: under every tenant
// of fixtures/samples/tenants.yaml (one per persona), no admin API answer
// holds null, what a GET answered is taken back by a PUT, and a body with
// a null member is 400 invalid_request naming it, with the file and the
// ETag unchanged (docs/http.md, "Changing the configuration").
func TestTenants_AdminAPINullIsRefusedAndNeverAnswered(t *testing.T) {
	src, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, file := openTenantsFile(t, src)
	_, servers, _ := startTenantsOf(t, store)

	admins := map[string]string{"acme": "alice", "okta": "alice", "anthropic-acme": "bob", "c1": "dana"}
	for id, admin := range admins {
		srv := servers[id]
		if srv == nil {
			t.Fatalf("no tenant %s", id)
		}
		issuer := srv.Issuer()
		send := func(method, path, body string, header ...string) (*http.Response, []byte) {
			t.Helper()
			var r io.Reader
			if body != "" {
				r = strings.NewReader(body)
			}
			req, _ := http.NewRequest(method, issuer+path, r)
			req.SetBasicAuth(admin, admin)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, b
		}

		for _, path := range []string{
			"/admin/api/config", "/admin/api/servers", "/admin/api/servers/notes",
			"/admin/api/users", "/admin/api/groups", "/admin/api/clients",
			"/admin/api/faults", "/admin/api/clock", "/admin/api/keys", "/admin/api/status",
			"/admin/api/access-requests", "/admin/api/audit",
		} {
			resp, body := send(http.MethodGet, path, "")
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s GET %s: %d %s", id, path, resp.StatusCode, body)
				continue
			}
			if nulls := nullPaths(t, body); len(nulls) > 0 {
				t.Errorf("%s GET %s answers null at %v", id, path, nulls)
			}
		}

		before, _ := os.ReadFile(file)
		resp, _ := send(http.MethodGet, "/admin/api/servers/notes", "")
		tag := resp.Header.Get("ETag")
		for _, c := range []struct{ method, path, body, names string }{
			{"PUT", "/admin/api/servers/notes/access", `[{"users":["` + admin + `"],"scopes":null}]`, "[0].scopes"},
			{"PUT", "/admin/api/users/" + admin, `{"name":null}`, "name"},
			{"PUT", "/admin/api/clock", `{"frozen":null}`, "frozen"},
			{"POST", "/admin/api/faults", `{"times":null,"http_status":503}`, "times"},
		} {
			resp, body := send(c.method, c.path, c.body)
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			_ = json.Unmarshal(body, &e)
			if resp.StatusCode != http.StatusBadRequest || e.Error != "invalid_request" || !strings.Contains(e.Description, c.names+" is null") {
				t.Errorf("%s %s %s %s: %d %s; want 400 invalid_request naming %s", id, c.method, c.path, c.body, resp.StatusCode, body, c.names)
			}
		}
		if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
			t.Errorf("%s: a refused body changed the file", id)
		}
		resp, server := send(http.MethodGet, "/admin/api/servers/notes", "")
		if now := resp.Header.Get("ETag"); now != tag {
			t.Errorf("%s: a refused body changed the ETag: %s, then %s", id, tag, now)
		}
		if resp, body := send(http.MethodPut, "/admin/api/servers/notes", string(server), "If-Match", tag); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: PUT back what GET answered: %d %s", id, resp.StatusCode, body)
		}
	}
}

// nullPaths returns the JSON paths of every null in body.
func nullPaths(t *testing.T, body []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	var out []string
	var walk func(any, string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case nil:
			out = append(out, path)
		case map[string]any:
			for k, e := range x {
				walk(e, path+"."+k)
			}
		case []any:
			for i, e := range x {
				walk(e, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(v, "")
	return out
}
