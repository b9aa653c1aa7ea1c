package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestConfigAPI_UsersThatLookLikeOthers: the admin API refuses a user
// whose username holds a zero-width or bidi character, or space around it,
// as check refuses it in the file (400, nothing changed); it creates a
// user whose email is another user's address in another case, or whose
// username is another's in another case, and says so in "warnings" with
// file and line, as check would.
func TestConfigAPI_UsersThatLookLikeOthers(t *testing.T) {
	p := editable(t)
	put := func(username, body string) (*http.Response, string) {
		t.Helper()
		resp, out := p.send(t, http.MethodPut, "/admin/api/users/"+url.PathEscape(username), "alice", body, "If-Match", p.etagOf(t, "/admin/api/status"))
		return resp, string(out)
	}
	for _, name := range []string{"b\u200bob", "bob\u202e", " bob", "carol\n"} {
		resp, out := put(name, `{"password":"pw"}`)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, "username") {
			t.Errorf("%q: HTTP %d %s, want 400 naming the username", name, resp.StatusCode, out)
		}
	}
	if resp, out := put("carol", `{"password":"pw","email":"carol\u200b@acme.example"}`); resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, "U+200B") {
		t.Errorf("zero-width email: HTTP %d %s, want 400 naming U+200B", resp.StatusCode, out)
	}
	if resp, _ := p.send(t, http.MethodGet, "/admin/api/users/carol", "alice", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a refused user was created: GET carol %d", resp.StatusCode)
	}

	if resp, out := put("carol", `{"password":"pw","email":"carol@acme.example"}`); resp.StatusCode != http.StatusCreated || strings.Contains(out, "warnings") {
		t.Fatalf("carol: HTTP %d %s", resp.StatusCode, out)
	}
	resp, out := put("dave", `{"password":"pw","email":"CAROL@acme.example"}`)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(out, `"warnings"`) || !strings.Contains(out, `user dave: email \"CAROL@acme.example\" is the address of user carol too`) {
		t.Errorf("dave with carol's address: HTTP %d %s, want 201 with a warning", resp.StatusCode, out)
	}
	resp, out = put("Carol", `{"password":"pw","email":"carol2@acme.example"}`)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(out, `user Carol: username \"Carol\" looks the same as user carol's`) {
		t.Errorf("Carol: HTTP %d %s, want 201 with a warning", resp.StatusCode, out)
	}
}

// TestConfigAPI_GroupsAndClientsThatLookLikeOthers: a group name or a
// client_id is printed and compared as a username is (the audit, the log,
// the console, the demo's banner, access rules): the admin API refuses
// one with a control character (a line break would forge lines where it is
// printed) or a zero-width or bidi character (it would look like another),
// 400 and nothing changed, as check refuses it in the file.
func TestConfigAPI_GroupsAndClientsThatLookLikeOthers(t *testing.T) {
	p := editable(t)
	for _, tc := range []struct{ path, body, field string }{
		{"/admin/api/groups/", `{}`, "name"},
		{"/admin/api/clients/", `{"redirect_uris":["http://127.0.0.1/callback"]}`, "client_id"},
	} {
		names := []string{"eng\r\nlevel=ERROR", "en\u200bg", "eng\u202e", "e\x00ng"}
		for _, name := range names {
			resp, out := p.send(t, http.MethodPut, tc.path+url.PathEscape(name), "alice", tc.body, "If-Match", p.etagOf(t, "/admin/api/status"))
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), tc.field) {
				t.Errorf("PUT %s%q: HTTP %d %s, want 400 naming the %s", tc.path, name, resp.StatusCode, out, tc.field)
			}
		}
		_, out := p.send(t, http.MethodGet, strings.TrimSuffix(tc.path, "/"), "alice", nil)
		var list []map[string]any
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatal(err)
		}
		for _, item := range list {
			if s, _ := item[tc.field].(string); slices.Contains(names, s) {
				t.Errorf("a refused %s was created: %q", tc.field, s)
			}
		}
	}
}

// TestNames_ControlAndBidiRefused: a display name (a user's, a client's, an
// MCP server's) holding a C0 or C1 control character or a bidi override
// was taken from SCIM and the admin API, and shown in the console, on the
// login page and by the CLI. It is now refused as check refuses it in the
// file: SCIM 400 invalidValue naming the character, admin API 400;
// nothing changes. Group names were refused already.
func TestNames_ControlAndBidiRefused(t *testing.T) {
	p := editable(t)
	file := readFile(t, p.file)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/Users", `{"userName":"eve","displayName":"Eve \u202eevE"}`},
		{"POST", "/Users", `{"userName":"eve","name":{"givenName":"Eve\u001b[2J","familyName":"E"}}`},
		{"PUT", "/Users/u-bob", `{"userName":"bob","name":{"formatted":"Bob\u0085B"}}`},
		{"PATCH", "/Users/u-bob", `{"Operations":[{"op":"Replace","path":"displayName","value":"Bob\u2066B"}]}`},
		{"PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","value":{"name.formatted":"Bob\nB"}}]}`},
		{"POST", "/Groups", `{"displayName":"ops\u202e"}`},
		{"PATCH", "/Groups/mkt", `{"Operations":[{"op":"replace","path":"displayName","value":"mkt\u0007"}]}`},
	} {
		resp, m := p.scim(t, c.method, c.path, c.body)
		wantSCIMError(t, c.method+" "+c.body, resp, m, http.StatusBadRequest, "invalidValue")
		if d, _ := m["detail"].(string); !strings.Contains(d, "U+") {
			t.Errorf("%s %s: detail %q names no character", c.method, c.body, d)
		}
	}
	for _, c := range []struct{ path, body string }{
		{"/admin/api/users/bob", `{"password":"pw","name":"Bob\u202eB"}`},
		{"/admin/api/clients/mcp-client", `{"client_secret":"s1","name":"App\u009b31m","redirect_uris":["http://127.0.0.1/callback"],"token_exchange":true}`},
	} {
		resp, out := p.send(t, http.MethodPut, c.path, "alice", c.body, "If-Match", p.etagOf(t, "/admin/api/status"))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), "U+") {
			t.Errorf("PUT %s %s: HTTP %d %s, want 400 naming the character", c.path, c.body, resp.StatusCode, out)
		}
	}
	if readFile(t, p.file) != file {
		t.Error("a refused name changed the file")
	}
	// Letters of any script, and a tab's neighbours in print, are names.
	if resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"Replace","path":"displayName","value":"Бо́б “Bob” بوب 👩‍💻"}]}`); resp.StatusCode != http.StatusOK {
		t.Errorf("a name in several scripts: %d %v", resp.StatusCode, u)
	}
}

// TestConfigAPI_GroupNameOfAnotherInAnotherCase: SCIM compares group names
// without case (a POST of "ENG" beside "eng" is 409 uniqueness), so a
// provisioning client's filter displayName eq "ENG" finds both groups, and
// pushes its members into whichever it takes. The admin API (and the
// file) take such a group, since names are compared with case elsewhere,
// and now say so in "warnings" with file and line, as for usernames; until
// 2026-12-06 nothing was said.
func TestConfigAPI_GroupNameOfAnotherInAnotherCase(t *testing.T) {
	p := editable(t)
	resp, out := p.send(t, http.MethodPut, "/admin/api/groups/ENG", "alice", `{}`)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(out), `"warnings"`) || !strings.Contains(string(out), `group ENG: name \"ENG\" looks the same as group eng's \"eng\"`) {
		t.Errorf("PUT group ENG beside eng: HTTP %d %s, want 201 with a warning", resp.StatusCode, out)
	}
	resp, out = p.send(t, http.MethodPut, "/admin/api/groups/sales", "alice", `{}`)
	if resp.StatusCode != http.StatusCreated || strings.Contains(string(out), "group sales") {
		t.Errorf("PUT group sales: HTTP %d %s, want 201 and no warning of it", resp.StatusCode, out)
	}
}

// TestConfigAPI_SubThatLooksLikeAnother: a sub is the identifier every
// relying party and resource server keys its user by, printed in their
// logs and consoles as in ours: the admin API refuses one with a control
// character, an invisible formatting character (zero-width, bidi) or
// space at either end, as check refuses it in the file (400, nothing
// changed), as for a username. Until 2026-12-06 "u-al\u200bice" beside
// "u-alice", or "u-alice " (which a server that trims takes for
// "u-alice"), were taken.
func TestConfigAPI_SubThatLooksLikeAnother(t *testing.T) {
	p := editable(t)
	for _, sub := range []string{"u-al\u200bice", "u-\u202ecarol", "u-car\nol", "u-alice ", "\u00a0u-alice"} {
		body, _ := json.Marshal(map[string]any{"password": "pw", "sub": sub})
		resp, out := p.send(t, http.MethodPut, "/admin/api/users/carol", "alice", string(body))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), "users[") || !strings.Contains(string(out), ".sub") {
			t.Errorf("sub %q: HTTP %d %s, want 400 naming the sub", sub, resp.StatusCode, out)
		}
	}
	if resp, _ := p.send(t, http.MethodGet, "/admin/api/users/carol", "alice", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a refused user was created: GET carol %d", resp.StatusCode)
	}
	if resp, out := p.send(t, http.MethodPut, "/admin/api/users/carol", "alice", `{"password": "pw", "sub": "00u-carol"}`); resp.StatusCode != http.StatusCreated {
		t.Errorf("sub 00u-carol: HTTP %d %s, want 201", resp.StatusCode, out)
	}
}

// TestConfigAPI_SubOfAnotherInAnotherCase: a sub is compared with case
// (OpenID Connect Core section 2), but a resource server that keeps users
// in a column compared without case (MySQL's default collation) takes
// "U-Bob" for bob's "u-bob". The admin API creates such a user and says
// so in "warnings" with file and line, as check does; until 2026-12-06
// nothing was said.
func TestConfigAPI_SubOfAnotherInAnotherCase(t *testing.T) {
	p := editable(t)
	resp, out := p.send(t, http.MethodPut, "/admin/api/users/carol", "alice", `{"password": "pw", "sub": "U-Bob"}`)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(out), `user carol: sub \"U-Bob\" looks the same as user bob's \"u-bob\"`) {
		t.Errorf("carol with sub U-Bob: HTTP %d %s, want 201 with a warning", resp.StatusCode, out)
	}
	resp, out = p.send(t, http.MethodPut, "/admin/api/users/dave", "alice", `{"password": "pw", "sub": "00u-dave"}`)
	if resp.StatusCode != http.StatusCreated || strings.Contains(string(out), `sub \"00u-dave\" looks`) {
		t.Errorf("dave: HTTP %d %s, want 201 and no warning of dave", resp.StatusCode, out)
	}
}
