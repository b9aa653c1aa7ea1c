package admin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestGetServerAccessAndDeny: GET of a server's access or deny list
// answered 405 though its PUT was there. It answers the list as PUT
// takes it (a JSON array, [] when empty) with the server's own ETag, and
// what it answered, PUT back with that ETag, changes nothing: the file
// keeps its bytes and the ETag stays. HEAD answers as GET without a body;
// an unknown server is 404 naming it.
func TestGetServerAccessAndDeny(t *testing.T) {
	p := editable(t)
	if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/deny", "alice", `[{"users": ["bob"], "clients": ["mcp-client"]}]`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT deny: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice",
		`[{"groups": ["eng"], "scopes": ["files.read"]}, {"users": ["bob"], "scopes": ["files.write"], "max_auth_age": "1h", "expires": "2030-01-02T03:04:05Z"}]`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT access: %d %s", resp.StatusCode, body)
	}
	serverTag := p.etagOf(t, "/admin/api/servers/files")
	for _, list := range []string{"access", "deny"} {
		path := "/admin/api/servers/files/" + list
		resp, body := p.send(t, http.MethodGet, path, "alice", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if tag := resp.Header.Get("ETag"); tag != serverTag {
			t.Errorf("GET %s: ETag %q, the server's is %q", path, tag, serverTag)
		}
		entries := decode[[]map[string]any](t, body)
		if len(entries) == 0 || strings.Contains(string(body), "null") {
			t.Fatalf("GET %s: %s", path, body)
		}
		before, err := os.ReadFile(p.store.File())
		if err != nil {
			t.Fatal(err)
		}
		put, putBody := p.send(t, http.MethodPut, path, "alice", string(body), "If-Match", serverTag)
		if put.StatusCode != http.StatusOK || put.Header.Get("ETag") != serverTag {
			t.Errorf("PUT %s back with its ETag: %d, ETag %q (was %q): %s", path, put.StatusCode, put.Header.Get("ETag"), serverTag, putBody)
		}
		if after, _ := os.ReadFile(p.store.File()); string(after) != string(before) {
			t.Errorf("PUT %s back changed the file:\n%s\nnow\n%s", path, before, after)
		}
		if again, body2 := p.send(t, http.MethodGet, path, "alice", nil); string(body2) != string(body) {
			t.Errorf("GET %s after the round trip: %d %s, before %s", path, again.StatusCode, body2, body)
		}
		if head, hb := p.send(t, http.MethodHead, path, "alice", nil); head.StatusCode != http.StatusOK || len(hb) != 0 || head.Header.Get("ETag") != serverTag {
			t.Errorf("HEAD %s: %d, ETag %q, body %q", path, head.StatusCode, head.Header.Get("ETag"), hb)
		}
		resp, body = p.send(t, http.MethodGet, "/admin/api/servers/nothere/"+list, "alice", nil)
		if e := decode[apiError](t, body); resp.StatusCode != http.StatusNotFound || e.Error != "not_found" || !strings.Contains(e.Description, `"nothere"`) {
			t.Errorf("GET an unknown server's %s: %d %s", list, resp.StatusCode, body)
		}
	}
	// An empty list reads back as [], which PUT takes.
	if resp, body := p.send(t, http.MethodPut, "/admin/api/servers/files/deny", "alice", `[]`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT deny []: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, http.MethodGet, "/admin/api/servers/files/deny", "alice", nil); resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("GET an empty deny list: %d %s", resp.StatusCode, body)
	}
	if resp, _ := p.send(t, http.MethodGet, "/admin/api/servers/files/access", "bob", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET access as a non-admin: %d", resp.StatusCode)
	}
}

// TestGetOneFault: GET of one fault answered 405 though its DELETE was
// there. It answers the fault as GET /admin/api/faults lists it (HEAD
// alike, without the body), and that answer is what POST takes: after the
// fault is removed, posting it back activates it again as it was, its
// counters (source, fired, remaining: read-only) ignored. An unknown id is
// 404 naming it.
func TestGetOneFault(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(testConfig))
	base := srv.Issuer() + "/admin/api/faults"
	if status, body := faultAPI(t, http.MethodPost, base, "alice", "alice-pw",
		`{"id": "slow", "match": {"user": "bob"}, "error": {"code": "temporarily_unavailable"}, "times": 2}`); status != http.StatusCreated {
		t.Fatalf("POST fault: %d %s", status, body)
	}
	_, list := faultAPI(t, http.MethodGet, base, "alice", "alice-pw", "")
	listed := decode[[]json.RawMessage](t, list)
	status, one := faultAPI(t, http.MethodGet, base+"/slow", "alice", "alice-pw", "")
	if status != http.StatusOK || len(listed) != 1 || compact(t, one) != compact(t, listed[0]) {
		t.Fatalf("GET one fault: %d %s; listed %s", status, one, list)
	}
	if status, body := faultAPI(t, http.MethodHead, base+"/slow", "alice", "alice-pw", ""); status != http.StatusOK || len(body) != 0 {
		t.Errorf("HEAD one fault: %d %q", status, body)
	}
	if status, body := faultAPI(t, http.MethodDelete, base+"/slow", "alice", "alice-pw", ""); status != http.StatusNoContent {
		t.Fatalf("DELETE fault: %d %s", status, body)
	}
	if status, body := faultAPI(t, http.MethodPost, base, "alice", "alice-pw", string(one)); status != http.StatusCreated {
		t.Fatalf("POST back what GET answered: %d %s", status, body)
	}
	if status, again := faultAPI(t, http.MethodGet, base+"/slow", "alice", "alice-pw", ""); status != http.StatusOK || string(again) != string(one) {
		t.Errorf("GET after the round trip: %d %s, before %s", status, again, one)
	}
	status, body := faultAPI(t, http.MethodGet, base+"/nothere", "alice", "alice-pw", "")
	if e := decode[apiError](t, body); status != http.StatusNotFound || e.Error != "not_found" || !strings.Contains(e.Description, `"nothere"`) {
		t.Errorf("GET an unknown fault: %d %s", status, body)
	}
	if status, _ := faultAPI(t, http.MethodGet, base+"/slow", "bob", "bob-pw", ""); status != http.StatusForbidden {
		t.Errorf("GET one fault as a non-admin: %d", status)
	}
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return out.String()
}

// TestGetOneAccessRequest: every collection of the API answers a GET of
// one item but the access requests, whose /{id} was 404 "no admin API
// endpoint": a script that approved one could not read it back without
// listing them all. It answers the list's element (HEAD alike); an
// unknown id is 404 naming it.
func TestGetOneAccessRequest(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	_, req := p.request(t, at, `{"server": "files", "scopes": ["files.write"], "reason": "Q3"}`)
	id, _ := req["id"].(string)
	path := "/admin/api/access-requests/" + id
	if resp, body := p.send(t, http.MethodPost, path+"/deny", "alice", `{"reason": "no"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("deny: %d %s", resp.StatusCode, body)
	}
	_, list := p.send(t, http.MethodGet, "/admin/api/access-requests", "alice", nil)
	listed := decode[[]json.RawMessage](t, list)
	resp, one := p.send(t, http.MethodGet, path, "alice", nil)
	if resp.StatusCode != http.StatusOK || len(listed) != 1 || compact(t, one) != compact(t, listed[0]) {
		t.Fatalf("GET %s: %d %s; listed %s", path, resp.StatusCode, one, list)
	}
	if head, body := p.send(t, http.MethodHead, path, "alice", nil); head.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("HEAD %s: %d %q", path, head.StatusCode, body)
	}
	resp, body := p.send(t, http.MethodGet, "/admin/api/access-requests/ar_nope", "alice", nil)
	if e := decode[apiError](t, body); resp.StatusCode != http.StatusNotFound || e.Error != "not_found" || !strings.Contains(e.Description, `"ar_nope"`) {
		t.Errorf("GET an unknown request: %d %s", resp.StatusCode, body)
	}
	if resp, _ := p.send(t, http.MethodGet, path, "bob", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET %s as a non-admin: %d", path, resp.StatusCode)
	}
}
