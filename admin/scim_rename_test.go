package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// A group renamed by SCIM (PATCH replace of displayName, or PUT with
// another one) is renamed in groups, in its members' groups and in every
// access and deny entry, in one edit: its members keep their access, the
// file names the old name nowhere but as the group's id, one admin_change
// records it. The group keeps its SCIM id (RFC 7643 section 3.1): Okta and
// Entra send the next change to the id they stored, which was a 404 when
// the id was the name. A name another group has, in any case, is 409
// uniqueness and changes nothing.
func TestSCIM_GroupRename(t *testing.T) {
	yaml := strings.Replace(editConfig, "clients:\n  - client_id: mcp-client\n", "clients:\n  - client_id: other-client\n    client_secret: s2\n    redirect_uris: [http://127.0.0.1/callback]\n  - client_id: mcp-client\n", 1)
	p := editableYAML(t, strings.Replace(yaml, `      - groups: [eng]
        scopes: [files.read]
`, `      - groups: [eng]
        scopes: [files.read]
    deny:
      - groups: [mkt, eng]
        clients: [other-client]
`, 1))
	if p.exchange(t, "alice") != "" {
		t.Fatal("alice, in eng, is refused the files server before the rename")
	}
	before := len(p.events(t, audit.TypeAdminChange))
	resp, g := p.scim(t, "PATCH", "/Groups/eng", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"displayName","value":"engineering"}]}`)
	if resp.StatusCode != http.StatusOK || g["id"] != "eng" || g["displayName"] != "engineering" || len(g["members"].([]any)) != 1 ||
		g["meta"].(map[string]any)["location"] != p.base+scimBase+"/Groups/eng" {
		t.Fatalf("PATCH displayName: %d %v", resp.StatusCode, g)
	}
	file := readFile(t, p.file)
	if strings.Contains(file, "eng]") || strings.Contains(file, "name: eng\n") || strings.Count(file, "engineering") != 4 || !strings.Contains(file, "id: eng\n") ||
		!strings.Contains(file, "description: Engineering") || !strings.Contains(file, "# engineers read") {
		t.Errorf("the file after the rename:\n%s", file)
	}
	cfg := p.store.Config()
	if cfg.Group("eng") != nil || cfg.Group("engineering") == nil || !cfg.User("alice").InGroup("engineering") {
		t.Error("the running configuration is not renamed")
	}
	if p.exchange(t, "alice") != "" {
		t.Error("alice, in the renamed group, lost the files server")
	}
	changes := p.events(t, audit.TypeAdminChange)
	if len(changes) != before+1 || changes[len(changes)-1].Details["name"] != "engineering" || changes[len(changes)-1].Details["via"] != "scim" {
		t.Errorf("%d admin_change events for the rename, want 1: %+v", len(changes)-before, changes[len(changes)-1])
	}
	if resp, g := p.scim(t, "GET", "/Groups/eng", ""); resp.StatusCode != http.StatusOK || g["displayName"] != "engineering" {
		t.Errorf("GET by the id after the rename: %d %v", resp.StatusCode, g)
	}
	if resp, _ := p.scim(t, "GET", "/Groups/engineering", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET by the new name, which is no id: %d", resp.StatusCode)
	}
	// The next change goes to the id the client stored.
	resp, g = p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"Add","path":"members","value":[{"value":"u-bob"}]}]}`)
	if resp.StatusCode != http.StatusOK || g["id"] != "eng" || len(g["members"].([]any)) != 2 {
		t.Fatalf("PATCH members after the rename: %d %v", resp.StatusCode, g)
	}
	_, u := p.scim(t, "GET", "/Users/u-bob", "")
	if gs, _ := u["groups"].([]any); len(gs) != 2 || gs[1].(map[string]any)["value"] != "eng" || gs[1].(map[string]any)["display"] != "engineering" {
		t.Errorf("bob's groups name the group by its id: %v", u["groups"])
	}
	_, list := p.scim(t, "GET", "/Groups?filter="+url.QueryEscape(`id eq "eng"`), "")
	if list["totalResults"] != 1.0 {
		t.Errorf("filter on the id after the rename: %v", list)
	}
	// A new group of the old name gets another id.
	resp, ng := p.scim(t, "POST", "/Groups", `{"displayName":"eng"}`)
	if resp.StatusCode != http.StatusCreated || ng["id"] == "eng" || ng["id"] == "" {
		t.Fatalf("POST of the old name: %d %v", resp.StatusCode, ng)
	}
	if resp, _ := p.scim(t, "DELETE", "/Groups/"+ng["id"].(string), ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE of the new group: %d", resp.StatusCode)
	}
	resp, g = p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"Remove","path":"members[value eq \"u-bob\"]"}]}`)
	if resp.StatusCode != http.StatusOK || g["id"] != "eng" || len(g["members"].([]any)) != 1 {
		t.Fatalf("PATCH remove after the rename: %d %v", resp.StatusCode, g)
	}
	// The admin API's PUT of the group, which sends no id, keeps it.
	if resp, body := p.send(t, "PUT", "/admin/api/groups/engineering", "alice", `{"name":"engineering","description":"Eng"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /admin/api/groups/engineering: %d %s", resp.StatusCode, body)
	}

	// PUT with another displayName renames too, with its members.
	resp, g = p.scim(t, "PUT", "/Groups/eng", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"eng2",
		"members":[{"value":"u-alice"},{"value":"u-bob"}]}`)
	if resp.StatusCode != http.StatusOK || g["id"] != "eng" || g["displayName"] != "eng2" || len(g["members"].([]any)) != 2 {
		t.Fatalf("PUT with another displayName: %d %v", resp.StatusCode, g)
	}
	if cfg := p.store.Config(); !cfg.User("bob").InGroup("eng2") || !cfg.User("alice").InGroup("eng2") || cfg.Server("files").Access[0].Groups[0] != "eng2" ||
		cfg.Server("files").Deny[0].Groups[1] != "eng2" {
		t.Error("the PUT did not rename everywhere")
	}

	// Taken names, in any case; an empty one; nothing changes.
	file = readFile(t, p.file)
	for _, c := range []struct{ method, body string }{
		{"PATCH", `{"Operations":[{"op":"replace","path":"displayName","value":"mkt"}]}`},
		{"PATCH", `{"Operations":[{"op":"replace","value":{"displayName":"MKT"}}]}`},
		{"PUT", `{"displayName":"Mkt"}`},
	} {
		resp, m := p.scim(t, c.method, "/Groups/eng", c.body)
		wantSCIMError(t, c.body, resp, m, http.StatusConflict, "uniqueness")
	}
	resp, m := p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"replace","path":"displayName","value":" "}]}`)
	wantSCIMError(t, "an empty displayName", resp, m, http.StatusBadRequest, "invalidValue")
	resp, m = p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"replace","path":"displayName","value":"`+strings.Repeat("g", 300)+`"}]}`)
	wantSCIMError(t, "a displayName beyond the bound of a name", resp, m, http.StatusBadRequest, "invalidValue")
	resp, m = p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"replace","path":"id","value":"x"}]}`)
	wantSCIMError(t, "another id", resp, m, http.StatusBadRequest, "mutability")
	if readFile(t, p.file) != file {
		t.Error("a refused rename changed the file")
	}
	// A rename to the same name in another case is the group's own.
	if resp, g := p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"replace","path":"displayName","value":"ENG2"}]}`); resp.StatusCode != http.StatusOK || g["id"] != "eng" || g["displayName"] != "ENG2" {
		t.Errorf("rename to another case: %d %v", resp.StatusCode, g)
	}
	_, list = p.scim(t, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "eng2"`), "")
	if list["totalResults"] != 1.0 {
		t.Errorf("filter after the case rename: %v", list)
	}
}

// Group names are compared without case in SCIM, as RFC 7643 section 4.2
// defines displayName (caseExact false): a filter finds "eng" by "ENG", so
// a POST of "ENG" beside "eng" is 409 uniqueness rather than a second group
// that no filter could tell from the first. Groups of the file that
// differ only by case are both found.
func TestSCIM_GroupNamesCaseInsensitive(t *testing.T) {
	p := editable(t)
	resp, list := p.scim(t, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "ENG"`), "")
	if resp.StatusCode != http.StatusOK || list["totalResults"] != 1.0 || list["Resources"].([]any)[0].(map[string]any)["id"] != "eng" {
		t.Fatalf("filter displayName in another case: %d %v", resp.StatusCode, list)
	}
	file := readFile(t, p.file)
	resp, m := p.scim(t, "POST", "/Groups", `{"displayName":"ENG"}`)
	wantSCIMError(t, "POST of a name in another case", resp, m, http.StatusConflict, "uniqueness")
	if readFile(t, p.file) != file {
		t.Error("the refused POST changed the file")
	}
	// id is the name as written, compared byte for byte.
	if resp, _ := p.scim(t, "GET", "/Groups/ENG", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /Groups/ENG: %d", resp.StatusCode)
	}
	// The file may hold both (the admin API's names are exact): a filter
	// then finds both.
	if resp, body := p.send(t, "PUT", "/admin/api/groups/Eng", "alice", `{"name":"Eng"}`); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT /admin/api/groups/Eng: %d %s", resp.StatusCode, body)
	}
	if _, list = p.scim(t, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "eng"`), ""); list["totalResults"] != 2.0 {
		t.Errorf("filter with two groups in two cases: %v", list)
	}
}

// TestSCIM_GroupRenameOfASpacedName: a group's name may begin or end with
// a space (Entra sends an AD group's name as it is), and a rename keeps
// the old name as the group's id, which was checked as a login name is
// (no space at either end: "the user could never sign in"), so the
// rename was refused 400.
func TestSCIM_GroupRenameOfASpacedName(t *testing.T) {
	p := editableYAML(t, editConfig)
	resp, g := p.scim(t, "POST", "/Groups", `{"displayName":"Sales "}`)
	if resp.StatusCode != http.StatusCreated || g["id"] != "Sales " {
		t.Fatalf("POST: %d %v", resp.StatusCode, g)
	}
	resp, g = p.scim(t, "PATCH", "/Groups/"+url.PathEscape("Sales "), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","path":"displayName","value":"Sales Team"}]}`)
	if resp.StatusCode != http.StatusOK || g["id"] != "Sales " || g["displayName"] != "Sales Team" {
		t.Fatalf("PATCH displayName: %d %v", resp.StatusCode, g)
	}
}

// TestAdminAPI_GroupOfARenamedGroupsID: a group the admin API creates
// under a name a SCIM-renamed group keeps as its id gets another id, as
// SCIM's POST gives it: the PUT was 400 invalid_config ("the SCIM id ...
// is already that of groups[0]"), though no group had the name.
func TestAdminAPI_GroupOfARenamedGroupsID(t *testing.T) {
	p := editable(t)
	if resp, g := p.scim(t, "PATCH", "/Groups/eng", `{"Operations":[{"op":"Replace","path":"displayName","value":"engineering"}]}`); resp.StatusCode != http.StatusOK || g["id"] != "eng" {
		t.Fatalf("PATCH displayName: %d %v", resp.StatusCode, g)
	}
	resp, body := p.send(t, "PUT", "/admin/api/groups/eng", "alice", `{"name":"eng","description":"the new eng"}`)
	var g struct {
		Name, ID string
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &g) != nil || g.Name != "eng" || g.ID == "" || g.ID == "eng" {
		t.Fatalf("PUT /admin/api/groups/eng: %d %s", resp.StatusCode, body)
	}
	if resp, sg := p.scim(t, "GET", "/Groups/eng", ""); resp.StatusCode != http.StatusOK || sg["displayName"] != "engineering" {
		t.Errorf("GET /Groups/eng, the renamed group's id: %d %v", resp.StatusCode, sg)
	}
	if resp, sg := p.scim(t, "GET", "/Groups/"+g.ID, ""); resp.StatusCode != http.StatusOK || sg["displayName"] != "eng" {
		t.Errorf("GET /Groups/%s, the new group's id: %d %v", g.ID, resp.StatusCode, sg)
	}
	// Its next PUT, without an id, keeps it; one that gives the taken id
	// is refused.
	if resp, body := p.send(t, "PUT", "/admin/api/groups/eng", "alice", `{"name":"eng"}`); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id": "`+g.ID+`"`) {
		t.Errorf("PUT of the new group again: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, "PUT", "/admin/api/groups/eng", "alice", `{"name":"eng","id":"eng"}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("PUT with the renamed group's id: %d %s", resp.StatusCode, body)
	}
}

// TestAdminAPI_UserOfARenamedUsersSub: a user the admin API creates under
// a name whose default sub a SCIM-renamed user keeps gets another sub, as
// SCIM's POST gives it: the PUT was 400 invalid_config ("the default sub
// ... is already the sub of users[1]"), though no user had the name.
func TestAdminAPI_UserOfARenamedUsersSub(t *testing.T) {
	p := editable(t)
	if resp, m := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"Replace","path":"userName","value":"robert"}]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH userName of bob: %d %v", resp.StatusCode, m)
	}
	resp, body := p.send(t, "PUT", "/admin/api/users/bob", "alice", `{"username":"bob","password":"bob-pw"}`)
	var u struct{ Username, Sub string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &u) != nil || u.Username != "bob" || u.Sub == "" || u.Sub == "u-bob" {
		t.Fatalf("PUT /admin/api/users/bob: %d %s", resp.StatusCode, body)
	}
	if resp, su := p.scim(t, "GET", "/Users/u-bob", ""); resp.StatusCode != http.StatusOK || su["userName"] != "robert" {
		t.Errorf("GET /Users/u-bob, the renamed user's id: %d %v", resp.StatusCode, su)
	}
	if got := p.exchangeToken(t, p.idToken(t, "bob")); got != "access_denied" {
		t.Errorf("the new bob, in no group, exchanges: %q", got)
	}
	// Its next PUT, without a sub, keeps it; so does one of the renamed
	// user, whose sub is no longer its name's default (it became
	// u-robert: the user's tokens ended, and SCIM's GET of the id the
	// provisioning client stored was 404).
	if resp, body := p.send(t, "PUT", "/admin/api/users/bob", "alice", `{"username":"bob","name":"Bob Two"}`); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"sub": "`+u.Sub+`"`) {
		t.Errorf("PUT of the new user again: %d %s", resp.StatusCode, body)
	}
	if resp, body := p.send(t, "PUT", "/admin/api/users/robert", "alice", `{"username":"robert","name":"Robert"}`); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"sub": "u-bob"`) {
		t.Errorf("PUT of the renamed user: %d %s", resp.StatusCode, body)
	}
	if resp, su := p.scim(t, "GET", "/Users/u-bob", ""); resp.StatusCode != http.StatusOK || su["userName"] != "robert" {
		t.Errorf("GET /Users/u-bob after the PUT: %d %v", resp.StatusCode, su)
	}
}
