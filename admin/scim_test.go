package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

const scimBase = "/admin/api/scim/v2"

// scim sends a SCIM request as user (alice when "") with body as
// application/scim+json, and decodes the answer's JSON object.
func (p *product) scim(t *testing.T, method, path, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	var b any
	if body != "" {
		b = body
	}
	user := "alice"
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "user" {
			user = header[i+1]
		}
	}
	resp, raw := p.send(t, method, scimBase+path, user, b, append([]string{"Content-Type", "application/scim+json"}, header...)...)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp, m
}

// wantSCIMError checks a SCIM error answer (RFC 7644 section 3.12).
func wantSCIMError(t *testing.T, what string, resp *http.Response, m map[string]any, status int, scimType string) {
	t.Helper()
	if resp.StatusCode != status || m["status"] != strconv.Itoa(status) || m["scimType"] != nilIfEmpty(scimType) ||
		resp.Header.Get("Content-Type") != "application/scim+json" || !hasSchema(m, "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Errorf("%s: %d %s %v, want %d scimType %q in a SCIM error", what, resp.StatusCode, resp.Header.Get("Content-Type"), m, status, scimType)
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func hasSchema(m map[string]any, urn string) bool {
	list, _ := m["schemas"].([]any)
	for _, s := range list {
		if s == urn {
			return true
		}
	}
	return false
}

// loginAs logs in with a username and password: nil when it works.
func (p *product) loginAs(user, password string) (idpclient.Tokens, error) {
	return idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: p.base, ClientID: "mcp-client", ClientSecret: "s1", Username: user, Password: password,
	})
}

// A provisioning job's life of a user: create, find, deprovision with
// active=false (logins refused, the refresh token of the login before
// refused, audited), re-enable, delete; the file holds each change.
func TestSCIM_UserLifecycle(t *testing.T) {
	p := editable(t)
	resp, u := p.scim(t, "POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "carol", "externalId": "00u1", "password": "carol-secret-1",
		"name": {"givenName": "Carol", "familyName": "Danvers"},
		"emails": [{"value": "carol@example.com", "type": "work", "primary": true}],
		"active": true, "title": null
	}`)
	if resp.StatusCode != http.StatusCreated || u["id"] != "u-carol" || u["userName"] != "carol" || u["active"] != true ||
		u["displayName"] != "Carol Danvers" || resp.Header.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("POST /Users: %d %v", resp.StatusCode, u)
	}
	if loc := resp.Header.Get("Location"); loc != p.base+scimBase+"/Users/u-carol" || u["meta"].(map[string]any)["location"] != loc || resp.Header.Get("ETag") == "" {
		t.Errorf("Location %q, ETag %q, meta %v", loc, resp.Header.Get("ETag"), u["meta"])
	}
	if _, ok := u["password"]; ok {
		t.Error("the password is answered")
	}
	file := readFile(t, p.file)
	if !strings.Contains(file, "username: carol") || !strings.Contains(file, "password_bcrypt:") || strings.Contains(file, "carol-secret-1") {
		t.Errorf("the file does not hold carol with a hashed password:\n%s", file)
	}

	// Found by userName, case-insensitively (RFC 7643: caseExact false).
	resp, list := p.scim(t, "GET", "/Users?filter="+url.QueryEscape(`userName eq "Carol"`), "")
	if resp.StatusCode != http.StatusOK || list["totalResults"] != 1.0 || !hasSchema(list, "urn:ietf:params:scim:api:messages:2.0:ListResponse") {
		t.Fatalf("filter userName: %d %v", resp.StatusCode, list)
	}
	if got := list["Resources"].([]any)[0].(map[string]any)["id"]; got != "u-carol" {
		t.Errorf("filter found %v", got)
	}

	tokens, err := p.loginAs("carol", "carol-secret-1")
	if err != nil {
		t.Fatalf("carol cannot log in with the password SCIM set: %v", err)
	}

	// Okta's deprovisioning: a path-less replace whose value holds the id.
	resp, u = p.scim(t, "PATCH", "/Users/u-carol", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"id":"u-carol","active":false}}]}`)
	if resp.StatusCode != http.StatusOK || u["active"] != false {
		t.Fatalf("PATCH active=false: %d %v", resp.StatusCode, u)
	}
	if _, err := p.loginAs("carol", "carol-secret-1"); err == nil {
		t.Error("a deprovisioned user logs in")
	}
	if rt := tokens.RefreshToken(); rt != "" {
		if _, err := idpclient.Refresh(context.Background(), idpclient.RefreshOptions{Issuer: p.base, ClientID: "mcp-client", ClientSecret: "s1", RefreshToken: rt}); err == nil {
			t.Error("the refresh token of a login before the deprovisioning still works")
		}
	}
	if !strings.Contains(readFile(t, p.file), "disabled: true") {
		t.Error("the file does not hold the deprovisioning")
	}
	changes := p.events(t, audit.TypeAdminChange)
	last := changes[len(changes)-1]
	if last.User != "carol" || last.Admin != "alice" || last.Details["via"] != "scim" || last.Details["after"].(map[string]any)["disabled"] != true {
		t.Errorf("the deprovisioning's admin_change: %+v", last)
	}
	denied := false
	for _, ev := range p.events(t, audit.TypeLogin) {
		denied = denied || ev.User == "carol" && ev.Outcome == audit.Denied
	}
	if !denied {
		t.Error("no denied login of carol in the audit log")
	}

	// Entra's re-enabling: path active, op "Replace", the value a string.
	resp, u = p.scim(t, "PATCH", "/Users/u-carol", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"True"}]}`)
	if resp.StatusCode != http.StatusOK || u["active"] != true {
		t.Fatalf("PATCH active=True: %d %v", resp.StatusCode, u)
	}
	if _, err := p.loginAs("carol", "carol-secret-1"); err != nil {
		t.Errorf("re-enabled carol cannot log in: %v", err)
	}

	resp, _ = p.scim(t, "DELETE", "/Users/u-carol", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	resp, m := p.scim(t, "GET", "/Users/u-carol", "")
	wantSCIMError(t, "GET after DELETE", resp, m, http.StatusNotFound, "")
	if strings.Contains(readFile(t, p.file), "carol") {
		t.Error("the file still holds carol")
	}
	if n := len(p.events(t, audit.TypeAdminChange)); n != 4 {
		t.Errorf("%d admin_change events, want 4 (create, disable, enable, delete)", n)
	}
}

// Entra's PATCH of several attributes by path, a rename among them: the
// id (sub) stays, the file spells it out, and attributes the
// configuration has no place for are accepted and not kept.
func TestSCIM_EntraStylePatch(t *testing.T) {
	p := editable(t)
	resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"userName","value":"bobby"},
		{"op":"Add","path":"emails[type eq \"work\"].value","value":"bobby@example.com"},
		{"op":"Replace","path":"displayName","value":"Bob B"},
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"},
		{"op":"Replace","path":"externalId","value":"e-1"}]}`)
	if resp.StatusCode != http.StatusOK || u["id"] != "u-bob" || u["userName"] != "bobby" || u["displayName"] != "Bob B" ||
		u["emails"].([]any)[0].(map[string]any)["value"] != "bobby@example.com" {
		t.Fatalf("PATCH: %d %v", resp.StatusCode, u)
	}
	file := readFile(t, p.file)
	if !strings.Contains(file, "username: bobby") || !strings.Contains(file, "sub: u-bob") || strings.Contains(file, "Sales") {
		t.Errorf("the file after the rename:\n%s", file)
	}
	if _, err := p.loginAs("bobby", "bob-pw"); err != nil {
		t.Errorf("the renamed user cannot log in: %v", err)
	}
	// Okta's form: replace with a value object of several attributes.
	resp, u = p.scim(t, "PATCH", "/Users/u-bob", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","value":{"name":{"formatted":"Robert"},"emails":[{"value":"r@example.com","primary":true}]}}]}`)
	if resp.StatusCode != http.StatusOK || u["displayName"] != "Robert" || u["emails"].([]any)[0].(map[string]any)["value"] != "r@example.com" {
		t.Fatalf("PATCH value object: %d %v", resp.StatusCode, u)
	}
	// PUT replaces: no emails means none; active and the password are kept.
	resp, u = p.scim(t, "PUT", "/Users/u-bob", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bobby","displayName":"Bob"}`)
	if resp.StatusCode != http.StatusOK || u["emails"] != nil || u["active"] != true {
		t.Fatalf("PUT: %d %v", resp.StatusCode, u)
	}
	if _, err := p.loginAs("bobby", "bob-pw"); err != nil {
		t.Errorf("PUT without a password lost it: %v", err)
	}
}

// A group's members change in one edit, however many users it touches;
// a PATCH with one bad operation changes nothing.
func TestSCIM_GroupMembersOneEdit(t *testing.T) {
	p := editable(t)
	before := len(p.events(t, audit.TypeAdminChange))
	resp, g := p.scim(t, "PATCH", "/Groups/eng", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"add","path":"members","value":[{"value":"u-bob"}]},
		{"op":"remove","path":"members[value eq \"u-alice\"]"}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH /Groups/eng: %d %v", resp.StatusCode, g)
	}
	members := g["members"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["value"] != "u-bob" || members[0].(map[string]any)["display"] != "bob" {
		t.Errorf("members: %v", members)
	}
	changes := p.events(t, audit.TypeAdminChange)
	if len(changes) != before+1 {
		t.Fatalf("%d admin_change events for one PATCH of two users, want 1", len(changes)-before)
	}
	if ev := changes[len(changes)-1]; ev.Details["object"] != "group members" || ev.Details["name"] != "eng" {
		t.Errorf("the admin_change: %+v", ev)
	}
	cfg := p.store.Config()
	if !cfg.User("bob").InGroup("eng") || cfg.User("alice").InGroup("eng") {
		t.Error("the running configuration does not have the new members")
	}
	if p.exchange(t, "bob") != "" {
		t.Error("bob, now in eng, is refused the files server")
	}

	// Entra's remove by value list; an unknown user in the same PATCH
	// refuses all of it.
	file := readFile(t, p.file)
	resp, m := p.scim(t, "PATCH", "/Groups/eng", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Remove","path":"members","value":[{"value":"u-bob"}]},
		{"op":"Add","path":"members","value":[{"value":"u-nobody"}]}]}`)
	wantSCIMError(t, "PATCH with an unknown member", resp, m, http.StatusBadRequest, "invalidValue")
	if readFile(t, p.file) != file || len(p.events(t, audit.TypeAdminChange)) != before+1 {
		t.Error("a refused PATCH changed something")
	}
	// A rename to another group's name (but for case) is refused.
	resp, m = p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"replace","value":{"displayName":"MKT"}}]}`)
	wantSCIMError(t, "rename of a group to another's name", resp, m, http.StatusConflict, "uniqueness")

	// A group created with members, and deleted: the users lose it.
	resp, g = p.scim(t, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"ops","members":[{"value":"u-alice"},{"value":"u-bob"}]}`)
	if resp.StatusCode != http.StatusCreated || len(g["members"].([]any)) != 2 || resp.Header.Get("Location") != p.base+scimBase+"/Groups/ops" {
		t.Fatalf("POST /Groups: %d %v", resp.StatusCode, g)
	}
	resp, list := p.scim(t, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "ops"`), "")
	if resp.StatusCode != http.StatusOK || list["totalResults"] != 1.0 {
		t.Errorf("filter displayName: %d %v", resp.StatusCode, list)
	}
	resp, m = p.scim(t, "POST", "/Groups", `{"displayName":"ops"}`)
	wantSCIMError(t, "POST of a group that exists", resp, m, http.StatusConflict, "uniqueness")
	if resp, _ = p.scim(t, "DELETE", "/Groups/ops", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /Groups/ops: %d", resp.StatusCode)
	}
	if cfg := p.store.Config(); cfg.Group("ops") != nil || cfg.User("alice").InGroup("ops") || strings.Contains(readFile(t, p.file), "ops") {
		t.Error("the deleted group is still there")
	}
	// A group an access list names goes with its entry
	// (TestSCIM_DeleteUserNamedByAccess); the server is left with none.
	if resp, m = p.scim(t, "DELETE", "/Groups/eng", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE of a group in use: %d %v", resp.StatusCode, m)
	}
	if _, err := policy.OpenStore(p.file); err != nil || len(p.store.Config().Server("files").Access) != 0 {
		t.Errorf("the file after the group's deletion: %v\n%s", err, readFile(t, p.file))
	}
}

// TestSCIM_RemoveOfANonMemberIsDone: Okta pushes a group's change as one
// PATCH, "remove members[value eq A]" and "add B"; when A had already
// left the group (in the IdP, or an earlier push), the remove answered
// 400 noTarget and refused the add with it, so B never got the group
// and the sync failed at every retry. Removing what is not there leaves
// what was asked for (RFC 7644 section 3.5.2.2 removes "the matching
// records": none), as a remove by value list already did: 200, B added.
func TestSCIM_RemoveOfANonMemberIsDone(t *testing.T) {
	p := editable(t)
	resp, g := p.scim(t, "PATCH", "/Groups/mkt", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"remove","path":"members[value eq \"u-alice\"]"},
		{"op":"add","path":"members","value":[{"value":"u-alice"}]}]}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH /Groups/mkt (remove of a non-member, add): %d %v", resp.StatusCode, g)
	}
	if !p.store.Config().User("alice").InGroup("mkt") {
		t.Error("the add beside the remove of a non-member was not made")
	}
	// Alone, it changes nothing and says so with the group as it is.
	file := readFile(t, p.file)
	resp, g = p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"remove","path":"members[value eq \"u-bob\"]"}]}`)
	if resp.StatusCode != http.StatusOK || readFile(t, p.file) != file {
		t.Errorf("PATCH /Groups/eng removing a non-member: %d %v, file changed: %v", resp.StatusCode, g, readFile(t, p.file) != file)
	}
}

func TestSCIM_Errors(t *testing.T) {
	p := editable(t)
	cases := []struct {
		what, method, path, body string
		status                   int
		scimType                 string
	}{
		{"duplicate userName", "POST", "/Users", `{"userName":"bob"}`, 409, "uniqueness"},
		{"duplicate userName in another case", "POST", "/Users", `{"userName":"BOB"}`, 409, "uniqueness"},
		{"no userName", "POST", "/Users", `{"displayName":"x"}`, 400, "invalidValue"},
		{"userName not a string", "POST", "/Users", `{"userName":7}`, 400, "invalidValue"},
		{"active not a boolean", "POST", "/Users", `{"userName":"x","active":"maybe"}`, 400, "invalidValue"},
		{"password over bcrypt's limit", "POST", "/Users", `{"userName":"x","password":"` + strings.Repeat("p", 73) + `"}`, 400, "invalidValue"},
		{"not JSON", "POST", "/Users", `{"userName":`, 400, "invalidSyntax"},
		{"key twice", "POST", "/Users", `{"userName":"x","USERNAME":"y"}`, 400, "invalidSyntax"},
		{"userName longer than a login takes", "POST", "/Users", `{"userName":"` + strings.Repeat("u", 257) + `"}`, 400, "invalidValue"},
		{"rename onto another user", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"userName","value":"Alice"}]}`, 409, "uniqueness"},
		{"unknown op", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"move","path":"active","value":false}]}`, 400, "invalidSyntax"},
		{"no Operations", "PATCH", "/Users/u-bob", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, 400, "invalidSyntax"},
		{"groups is read-only", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"add","path":"groups","value":[{"value":"eng"}]}]}`, 400, "mutability"},
		{"id is read-only", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","value":{"id":"u-other"}}]}`, 400, "mutability"},
		{"remove without a path", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"remove"}]}`, 400, "noTarget"},
		{"unknown user", "PATCH", "/Users/u-nobody", `{"Operations":[{"op":"replace","path":"active","value":false}]}`, 404, ""},
		{"unknown user (PUT)", "PUT", "/Users/u-nobody", `{"userName":"nobody"}`, 404, ""},
		{"unknown user (DELETE)", "DELETE", "/Users/u-nobody", ``, 404, ""},
		{"unknown group", "GET", "/Groups/nope", ``, 404, ""},
		{"filter operator", "GET", "/Users?filter=" + url.QueryEscape(`userName co "b"`), ``, 400, "invalidFilter"},
		{"filter expression", "GET", "/Users?filter=" + url.QueryEscape(`userName eq "b" or active eq true`), ``, 400, "invalidFilter"},
		{"filter with a bracket after the value", "GET", "/Users?filter=" + url.QueryEscape(`userName eq "bob"]`), ``, 400, "invalidFilter"},
		{"filter value not quoted", "GET", "/Users?filter=" + url.QueryEscape(`userName eq bob`), ``, 400, "invalidFilter"},
		{"filter attribute", "GET", "/Users?filter=" + url.QueryEscape(`title eq "b"`), ``, 400, "invalidFilter"},
		{"count", "GET", "/Users?count=many", ``, 400, "invalidValue"},
		{"no such endpoint", "GET", "/Bulk", ``, 404, ""},
		{"method", "DELETE", "/ServiceProviderConfig", ``, 405, ""},
		{"stale If-Match", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"active","value":false}]}`, 412, ""},
	}
	file := readFile(t, p.file)
	for _, c := range cases {
		var h []string
		if c.status == 412 {
			h = []string{"If-Match", `"0000"`}
		}
		resp, m := p.scim(t, c.method, c.path, c.body, h...)
		wantSCIMError(t, c.what, resp, m, c.status, c.scimType)
	}
	if readFile(t, p.file) != file || len(p.events(t, audit.TypeAdminChange)) != 0 {
		t.Error("a refused request changed something")
	}
	resp, m := p.scim(t, "POST", "/Users", `{"userName":"x"}`, "Content-Type", "application/x-www-form-urlencoded")
	wantSCIMError(t, "a form body", resp, m, http.StatusUnsupportedMediaType, "")
	if d, _ := m["detail"].(string); !strings.Contains(d, "application/scim+json") {
		t.Errorf("415 detail: %q", d)
	}
	// Paging: count is bounded, startIndex 1-based.
	resp, list := p.scim(t, "GET", "/Users?startIndex=2&count=100000", "")
	if resp.StatusCode != http.StatusOK || list["totalResults"] != 2.0 || list["itemsPerPage"] != 1.0 || list["startIndex"] != 2.0 ||
		list["Resources"].([]any)[0].(map[string]any)["userName"] != "bob" {
		t.Errorf("paging: %d %v", resp.StatusCode, list)
	}
	// No user here has an externalId.
	if _, list = p.scim(t, "GET", "/Users?filter="+url.QueryEscape(`externalId eq "00u1"`), ""); list["totalResults"] != 0.0 {
		t.Errorf("externalId filter: %v", list)
	}
	// The current ETag is taken in If-Match.
	resp, _ = p.scim(t, "GET", "/Users/u-bob", "")
	resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"displayName","value":"B"}]}`, "If-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != http.StatusOK || u["displayName"] != "B" {
		t.Errorf("PATCH with the current ETag: %d %v", resp.StatusCode, u)
	}
}

// SCIM is the admin API's: no credentials 401, a non-admin 403, as there.
func TestSCIM_AdminsOnly(t *testing.T) {
	p := editable(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/ServiceProviderConfig", ""},
		{"GET", "/Users", ""},
		{"GET", "/Users/u-bob", ""},
		{"POST", "/Users", `{"userName":"mallory"}`},
		{"PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"active","value":false}]}`},
		{"DELETE", "/Users/u-bob", ""},
		{"PATCH", "/Groups/eng", `{"Operations":[{"op":"add","path":"members","value":[{"value":"u-bob"}]}]}`},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		if resp, b := p.send(t, c.method, scimBase+c.path, "", body); resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s %s without credentials: %d %s", c.method, c.path, resp.StatusCode, b)
		}
		if resp, b := p.send(t, c.method, scimBase+c.path, "bob", body); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s as bob: %d %s", c.method, c.path, resp.StatusCode, b)
		}
	}
	if readFile(t, p.file) != editConfig || len(p.events(t, audit.TypeAdminChange)) != 0 {
		t.Error("a refused caller changed something")
	}
}

// The discovery endpoints say what is supported.
func TestSCIM_Discovery(t *testing.T) {
	p := editable(t)
	resp, sp := p.scim(t, "GET", "/ServiceProviderConfig", "")
	if resp.StatusCode != http.StatusOK || sp["patch"].(map[string]any)["supported"] != true || sp["bulk"].(map[string]any)["supported"] != false ||
		sp["filter"].(map[string]any)["maxResults"] != 200.0 || sp["authenticationSchemes"].([]any)[0].(map[string]any)["type"] != "httpbasic" {
		t.Errorf("ServiceProviderConfig: %d %v", resp.StatusCode, sp)
	}
	resp, rt := p.scim(t, "GET", "/ResourceTypes", "")
	if resp.StatusCode != http.StatusOK || rt["totalResults"] != 2.0 {
		t.Errorf("ResourceTypes: %d %v", resp.StatusCode, rt)
	}
	resp, s := p.scim(t, "GET", "/Schemas/"+url.PathEscape("urn:ietf:params:scim:schemas:core:2.0:User"), "")
	if resp.StatusCode != http.StatusOK || s["name"] != "User" {
		t.Errorf("Schemas/User: %d %v", resp.StatusCode, s)
	}
}

// The forms that clients send beyond the plain ones: one email without
// its list, and a replace with value null, which unassigns (RFC 7643
// section 2.5).
func TestSCIM_NullAndLoneEmail(t *testing.T) {
	p := editable(t)
	resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[
		{"op":"replace","path":"emails","value":{"value":"bob@example.com","primary":true}},
		{"op":"replace","path":"displayName","value":"Bob"}]}`)
	if resp.StatusCode != http.StatusOK || u["emails"].([]any)[0].(map[string]any)["value"] != "bob@example.com" || u["displayName"] != "Bob" {
		t.Fatalf("PATCH: %d %v", resp.StatusCode, u)
	}
	resp, u = p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"displayName","Value":null}]}`)
	if resp.StatusCode != http.StatusOK || u["displayName"] != nil || u["name"] != nil {
		t.Fatalf("PATCH with value null: %d %v", resp.StatusCode, u)
	}
	if strings.Contains(readFile(t, p.file), "name: Bob") {
		t.Error("the file still holds the name")
	}
}

// What Okta and Entra send on creation, attributes the configuration has
// no place for included, is taken; a name that is no attribute of the
// schema (a misspelling) is refused and changes nothing, so that
// "actve": false is never taken for nothing.
func TestSCIM_ClientBodiesAndUnknownAttributes(t *testing.T) {
	p := editable(t)
	okta := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",
		"name":{"givenName":"Test","familyName":"User"},"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],
		"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}`
	entra := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee","active":true,
		"addresses":[{"primary":true,"type":"work","country":"US"}],"displayName":"Test_User",
		"emails":[{"primary":true,"type":"work","value":"Test_User@testuser.com"}],"meta":{"resourceType":"User"},
		"name":{"familyName":"familyName","givenName":"givenName"},"phoneNumbers":[{"primary":true,"type":"work","value":"123-456-7890"}],
		"title":"title","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1","department":"Dep"},"preferredLanguage":"en-US"}`
	for name, body := range map[string]string{"Okta": okta, "Entra": entra} {
		if resp, u := p.scim(t, "POST", "/Users", body); resp.StatusCode != http.StatusCreated {
			t.Errorf("%s's POST: %d %v", name, resp.StatusCode, u)
		}
	}
	if _, err := p.loginAs("test.user@okta.local", "1mz050nq"); err != nil {
		t.Errorf("Okta's user cannot log in with its password: %v", err)
	}
	file := readFile(t, p.file)
	for _, c := range []struct {
		what, method, path, body, scimType string
	}{
		{"a misspelt attribute", "POST", "/Users", `{"userName":"x","actve":false}`, "invalidSyntax"},
		{"a misspelt name part", "POST", "/Users", `{"userName":"x","name":{"givenNmae":"X"}}`, "invalidSyntax"},
		{"a misspelt email member", "POST", "/Users", `{"userName":"x","emails":[{"vaule":"x@example.com"}]}`, "invalidSyntax"},
		{"a misspelt path", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"actve","value":false}]}`, "invalidPath"},
		{"a misspelt attribute in a value", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","value":{"actve":false}}]}`, "invalidSyntax"},
		{"a misspelt operation member", "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","pth":"active","value":false}]}`, "invalidSyntax"},
		{"a misspelt Operations", "PATCH", "/Users/u-bob", `{"Operatons":[{"op":"replace","path":"active","value":false}]}`, "invalidSyntax"},
		{"a misspelt group attribute", "POST", "/Groups", `{"dispalyName":"ops"}`, "invalidSyntax"},
		{"a misspelt member", "PATCH", "/Groups/eng", `{"Operations":[{"op":"add","path":"members","value":[{"vlaue":"u-bob"}]}]}`, "invalidSyntax"},
		{"a misspelt group path", "PATCH", "/Groups/eng", `{"Operations":[{"op":"add","path":"membres","value":[{"value":"u-bob"}]}]}`, "invalidPath"},
	} {
		resp, m := p.scim(t, c.method, c.path, c.body)
		wantSCIMError(t, c.what, resp, m, http.StatusBadRequest, c.scimType)
	}
	if readFile(t, p.file) != file {
		t.Error("a refused request changed something")
	}
}
