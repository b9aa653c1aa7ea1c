package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// foldConfig has users and groups whose names have a letter that Unicode's
// case folding (strings.EqualFold) takes for another: k (the Kelvin sign,
// U+212A), s (the long s, U+017F); i, which Turkish writes dotless (U+0131)
// and dotted in capitals (U+0130); and an é written composed (NFC).
const foldConfig = `groups:
  - name: eng
  - name: kids
  - name: sales
  - name: "caf\u00e9"

users:
  - username: alice
    password: alice-pw
    admin: true
  - username: kim
    password: kim-pw
    email: kim@example.com
    groups: [kids]
  - username: sam
    password: sam-pw
    email: sam@example.com
    groups: [sales]
  - username: iris
    password: iris-pw
    email: iris@example.com
  - username: "caf\u00e9"
    password: cafe-pw
    email: "caf\u00e9@example.com"

clients:
  - client_id: mcp-client
    client_secret: s1
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true

mcp_servers:
  - id: files
    issuer: https://as.files.example
    scopes: [files.read]
    clients:
      mcp-client: mcp-client
    access:
      - users: [kim, sam, iris, "caf\u00e9"]
`

// foldCases are the spellings of an identifier that are another's but for
// case or Unicode's forms: only the first, the case of ASCII letters, is
// the same identifier where one is compared without case; none is where
// one is compared byte for byte.
var foldCases = []struct {
	what        string
	as, of      string // a spelling, and the identifier it imitates
	asciiFolded bool   // equal but for the case of ASCII letters
}{
	{"ASCII case", "KIM", "kim", true},
	{"the Kelvin sign", "\u212aim", "kim", false},
	{"the long s", "\u017fam", "sam", false},
	{"a dotless i", "\u0131ris", "iris", false},
	{"a dotted capital I", "\u0130ris", "iris", false},
	{"NFD for NFC", "cafe\u0301", "caf\u00e9", false},
}

// TestIdentifiers_OneCaseRule: every place that finds a user or a group by
// what a client sends compares as the README says ("Who a user is"):
// usernames, subs and group names byte for byte (the login form, HTTP
// Basic, the admin API, SCIM's ids in paths), and where they are compared
// without case (SCIM's userName, emails and displayName, RFC 7643's
// caseExact false; the login form's email) equal but for the case of ASCII
// letters alone. SCIM folded Unicode's case (strings.EqualFold), so that
// a provisioning client's userName eq "\u212aim" found kim, and Okta or
// Entra linked its user to kim's account; and it refused to create that
// user, which sign-in takes for another, as taken.
func TestIdentifiers_OneCaseRule(t *testing.T) {
	p := editableYAML(t, foldConfig)
	count := func(path, filter string) int {
		t.Helper()
		resp, list := p.scim(t, "GET", path+"?filter="+url.QueryEscape(filter), "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %v", path, filter, resp.StatusCode, list)
		}
		n, _ := list["totalResults"].(float64)
		return int(n)
	}
	searched := func(user string) int {
		t.Helper()
		resp, body := p.send(t, "GET", "/admin/api/users?user="+url.QueryEscape(user), "alice", nil)
		var users []any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &users) != nil {
			t.Fatalf("GET /admin/api/users?user=%s: %d %s", user, resp.StatusCode, body)
		}
		return len(users)
	}
	var decision struct {
		Allowed bool `json:"allowed"`
	}
	found := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	for _, c := range foldCases {
		email := c.as + "@example.com"
		if n, want := count("/Users", `userName eq "`+c.as+`"`), found(c.asciiFolded); n != want {
			t.Errorf("%s: SCIM userName eq %q found %d users, want %d", c.what, c.as, n, want)
		}
		if n, want := count("/Users", `emails eq "`+email+`"`), found(c.asciiFolded); n != want {
			t.Errorf("%s: SCIM emails eq %q found %d users, want %d", c.what, email, n, want)
		}
		if n, want := count("/Users", `emails[value eq "`+email+`"]`), found(c.asciiFolded); n != want {
			t.Errorf("%s: SCIM emails[value eq %q] found %d users, want %d", c.what, email, n, want)
		}
		// Byte for byte: the admin API's users, SCIM's ids, the login form's
		// and HTTP Basic's usernames.
		if resp, _ := p.send(t, "GET", "/admin/api/users/"+url.PathEscape(c.as), "alice", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: GET /admin/api/users/%s: %d, want 404", c.what, c.as, resp.StatusCode)
		}
		// The console's search box (GET /admin/users?user=) asks this.
		if n := searched(c.as); n != 0 {
			t.Errorf("%s: GET /admin/api/users?user=%s found %d users, want none", c.what, c.as, n)
		}
		if resp, _ := p.scim(t, "GET", "/Users/"+url.PathEscape("u-"+c.as), ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: SCIM GET /Users/u-%s: %d, want 404", c.what, c.as, resp.StatusCode)
		}
		pw := c.of + "-pw"
		if c.of == "caf\u00e9" {
			pw = "cafe-pw"
		}
		if _, err := p.loginAs(c.as, pw); err == nil {
			t.Errorf("%s: the login form signed in %q as %s", c.what, c.as, c.of)
		}
		if resp, _ := p.send(t, "GET", "/admin/api/users", "", nil, "Authorization", basic(c.as, pw)); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: HTTP Basic as %q: %d, want 401", c.what, c.as, resp.StatusCode)
		}
		// Policy assignments: the decision finds the user by its name
		// exactly, and an access entry names one so.
		explain := "/admin/api/explain?client=mcp-client&audience=files&user=" + url.QueryEscape(c.as)
		if resp, body := p.send(t, "GET", explain, "alice", nil); resp.StatusCode != http.StatusOK || json.Unmarshal(body, &decision) != nil || decision.Allowed {
			t.Errorf("%s: explain for user %q: %d %s, want 200 not allowed (no such user)", c.what, c.as, resp.StatusCode, body)
		}
		entry := []map[string]any{{"users": []string{c.as}}}
		if resp, body := p.send(t, "PUT", "/admin/api/servers/files/access", "alice", entry); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: an access entry naming user %q: %d %s, want 400 (no such user)", c.what, c.as, resp.StatusCode, body)
		}
		// The login form's email: equal but for ASCII case.
		if _, err := p.loginAs(email, pw); (err == nil) != c.asciiFolded {
			t.Errorf("%s: the login form with %q: %v, want signed in %v", c.what, email, err, c.asciiFolded)
		}
	}

	for _, c := range []struct {
		what, as string
		want     int
	}{
		{"ASCII case", "KIDS", 1},
		{"the Kelvin sign", "\u212aids", 0},
		{"the long s", "\u017fales", 0},
		{"a dotless i", "k\u0131ds", 0},
		{"a dotted capital I", "K\u0130DS", 0},
		{"NFD for NFC", "cafe\u0301", 0},
	} {
		if n := count("/Groups", `displayName eq "`+c.as+`"`); n != c.want {
			t.Errorf("%s: SCIM displayName eq %q found %d groups, want %d", c.what, c.as, n, c.want)
		}
		if resp, _ := p.send(t, "GET", "/admin/api/groups/"+url.PathEscape(c.as), "alice", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: GET /admin/api/groups/%s: %d, want 404", c.what, c.as, resp.StatusCode)
		}
		entry := []map[string]any{{"groups": []string{c.as}}}
		if resp, body := p.send(t, "PUT", "/admin/api/servers/files/access", "alice", entry); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: an access entry naming group %q: %d %s, want 400 (no such group)", c.what, c.as, resp.StatusCode, body)
		}
	}

	// The spellings' users, by their own names, are assigned.
	for _, user := range []string{"kim", "sam", "iris", "caf\u00e9"} {
		explain := "/admin/api/explain?client=mcp-client&audience=files&user=" + url.QueryEscape(user)
		if resp, body := p.send(t, "GET", explain, "alice", nil); resp.StatusCode != http.StatusOK || json.Unmarshal(body, &decision) != nil || !decision.Allowed {
			t.Errorf("explain for user %q: %d %s, want allowed", user, resp.StatusCode, body)
		}
		if n := searched(user); n != 1 {
			t.Errorf("GET /admin/api/users?user=%s found %d users, want that one", user, n)
		}
	}

	// A PATCH path or a remove's value naming the email does so as a
	// filter does: another spelling names nothing kept, and the email
	// stays (until 2026-12-06 "\u212aim@example.com" removed kim's).
	for _, c := range foldCases {
		if c.asciiFolded {
			continue
		}
		email := c.as + "@example.com"
		for _, op := range []string{
			`{"op": "remove", "path": "emails[value eq \"` + email + `\"]"}`,
			`{"op": "remove", "path": "emails", "value": [{"value": "` + email + `"}]}`,
		} {
			body := `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [` + op + `]}`
			resp, u := p.scim(t, "PATCH", "/Users/"+url.PathEscape("u-"+c.of), body)
			emails, _ := u["emails"].([]any)
			if resp.StatusCode != http.StatusOK || len(emails) != 1 {
				t.Errorf("%s: PATCH %s of %s: %d, emails %v; want 200 and the email kept", c.what, op, c.of, resp.StatusCode, u["emails"])
			}
		}
	}

	// A member's id in a PATCH path is a sub, compared byte for byte.
	for _, id := range []string{"U-KIM", "u-\u212aim", "U-kim"} {
		body := `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "members[value eq \"` + id + `\"]"}]}`
		resp, g := p.scim(t, "PATCH", "/Groups/kids", body)
		if members, _ := g["members"].([]any); resp.StatusCode != http.StatusOK || len(members) != 1 {
			t.Errorf("PATCH remove members[value eq %q] of kids: %d, members %v; want 200 and kim kept", id, resp.StatusCode, g["members"])
		}
	}

	// Client ids are compared byte for byte.
	for _, id := range []string{"MCP-CLIENT", "mcp-cl\u0131ent", "MCP-CL\u0130ENT"} {
		if _, err := idpclient.Login(t.Context(), idpclient.LoginOptions{Issuer: p.base, ClientID: id, ClientSecret: "s1", Username: "kim", Password: "kim-pw"}); err == nil {
			t.Errorf("client_id %q signed in as mcp-client", id)
		}
	}

	// SCIM refuses a userName or a group name that is another's but for
	// ASCII case as taken, and creates one that is another's only to
	// Unicode's folding: sign-in tells them apart.
	for _, c := range []struct {
		path, body string
		status     int
	}{
		{"/Users", `{"userName": "KIM"}`, http.StatusConflict},
		{"/Users", `{"userName": "\u212aim"}`, http.StatusCreated},
		{"/Users", `{"userName": "\u017fam"}`, http.StatusCreated},
		{"/Groups", `{"displayName": "KIDS"}`, http.StatusConflict},
		{"/Groups", `{"displayName": "\u212aids"}`, http.StatusCreated},
		{"/Groups", `{"displayName": "\u017fales"}`, http.StatusCreated},
	} {
		if resp, m := p.scim(t, "POST", c.path, c.body); resp.StatusCode != c.status {
			t.Errorf("SCIM POST %s %s: %d %v, want %d", c.path, c.body, resp.StatusCode, m, c.status)
		}
	}
	if n := count("/Users", `userName eq "kim"`); n != 1 {
		t.Errorf("SCIM userName eq kim after creating \u212aim found %d users, want kim alone", n)
	}
}
