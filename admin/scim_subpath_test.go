package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// A PATCH path that names a sub-attribute the schema does not have
// (active.value, name.foo, emails[type eq "work"].foo), a filter on an
// attribute that is not multi-valued (userName[...]), or a member's
// sub-attribute (members.value) is 400 invalidPath and changes nothing:
// never a 200 that did nothing, which a client takes for done (a user
// "deprovisioned" with active.value stays active). groups.value is
// read-only as groups is. The sub-attributes a client sends (Entra's
// name.givenName, addresses[type eq "work"].locality) stay accepted.
func TestSCIM_PatchSubAttributePaths(t *testing.T) {
	p := editable(t)
	file := readFile(t, p.file)
	for _, c := range []struct {
		res, path, value, scimType string
	}{
		{"/Users/u-bob", "active.value", `false`, "invalidPath"},
		{"/Users/u-bob", "userName.value", `"robert"`, "invalidPath"},
		{"/Users/u-bob", "userName[value eq \"bob\"]", `"robert"`, "invalidPath"},
		{"/Users/u-bob", "name.foo", `"x"`, "invalidPath"},
		{"/Users/u-bob", "emails[type eq \"work\"].foo", `"x"`, "invalidPath"},
		{"/Users/u-bob", "displayName.value", `"x"`, "invalidPath"},
		{"/Users/u-bob", "groups.value", `"eng"`, "mutability"},
		{"/Groups/mkt", "members.value", `"u-alice"`, "invalidPath"},
		{"/Groups/mkt", "members.foo", `"u-alice"`, "invalidPath"},
		{"/Groups/mkt", "displayName.value", `"sales"`, "invalidPath"},
	} {
		for _, op := range []string{"add", "replace"} {
			body := `{"Operations":[{"op":"` + op + `","path":` + quote(c.path) + `,"value":` + c.value + `}]}`
			resp, m := p.scim(t, "PATCH", c.res, body)
			wantSCIMError(t, op+" "+c.path, resp, m, http.StatusBadRequest, c.scimType)
		}
	}
	// remove members.value is not "remove all members".
	resp, m := p.scim(t, "PATCH", "/Groups/mkt", `{"Operations":[{"op":"remove","path":"members.value"}]}`)
	wantSCIMError(t, "remove members.value", resp, m, http.StatusBadRequest, "invalidPath")
	// In a path-less value, a key so is no attribute: invalidSyntax.
	resp, m = p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","value":{"active.value":false}}]}`)
	wantSCIMError(t, "value {active.value}", resp, m, http.StatusBadRequest, "invalidSyntax")
	if readFile(t, p.file) != file {
		t.Fatal("a refused PATCH changed the file")
	}

	// What Entra sends still works.
	resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[`+
		`{"op":"Add","path":"name.givenName","value":"Bob"},`+
		`{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Paris"},`+
		`{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"1"},`+
		`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"bob@example.com"},`+
		`{"op":"Replace","value":{"name.familyName":"B","emails[type eq \"work\"].primary":"True","active":"False"}}]}`)
	if resp.StatusCode != http.StatusOK || u["active"] != false {
		t.Fatalf("Entra's PATCH: %d %v", resp.StatusCode, u)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// A PATCH remove of emails with a value removes the addresses listed:
// the user's email only when it is among them. Removing a home address
// the user never had left the user without their work email.
func TestSCIM_PatchRemoveEmailsByValue(t *testing.T) {
	p := editable(t)
	set := `{"Operations":[{"op":"replace","path":"emails","value":[{"value":"bob@example.com","type":"work"}]}]}`
	if resp, u := p.scim(t, "PATCH", "/Users/u-bob", set); resp.StatusCode != http.StatusOK || u["emails"] == nil {
		t.Fatalf("set the email: %d %v", resp.StatusCode, u)
	}
	for _, v := range []string{
		`[{"type":"home","value":"bob@home.example"}]`,
		`{"value":"other@example.com"}`,
	} {
		resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"remove","path":"emails","value":`+v+`}]}`)
		if resp.StatusCode != http.StatusOK || u["emails"] == nil || p.store.Config().User("bob").Email != "bob@example.com" {
			t.Errorf("remove emails %s: %d %v, want the email kept", v, resp.StatusCode, u)
		}
	}
	resp, m := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"remove","path":"emails","value":[{"value":"x@example.com","foo":1}]}]}`)
	wantSCIMError(t, "remove emails with an unknown sub-attribute", resp, m, http.StatusBadRequest, "invalidSyntax")
	resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"remove","path":"emails","value":[{"value":"BOB@example.com","type":"work"}]}]}`)
	if resp.StatusCode != http.StatusOK || u["emails"] != nil || p.store.Config().User("bob").Email != "" {
		t.Errorf("remove the user's own email: %d %v, want it removed", resp.StatusCode, u)
	}
	// Without a value, remove emails removes it, as before.
	p.scim(t, "PATCH", "/Users/u-bob", set)
	if resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"remove","path":"emails"}]}`); resp.StatusCode != http.StatusOK || u["emails"] != nil {
		t.Errorf("remove emails: %d %v", resp.StatusCode, u)
	}
}

// A remove without a path is noTarget (RFC 7644 section 3.5.2.2), on a
// Group as on a User, with a value or not; nothing is removed.
func TestSCIM_PatchRemoveWithoutPath(t *testing.T) {
	p := editable(t)
	for _, res := range []string{"/Groups/mkt", "/Users/u-bob"} {
		for _, op := range []string{`{"op":"remove","value":{"members":[{"value":"u-bob"}]}}`, `{"op":"Remove","value":{"displayName":"x"}}`} {
			resp, m := p.scim(t, "PATCH", res, `{"Operations":[`+op+`]}`)
			wantSCIMError(t, res+" "+op, resp, m, http.StatusBadRequest, "noTarget")
		}
	}
	if !p.store.Config().User("bob").InGroup("mkt") {
		t.Error("a refused remove took bob out of mkt")
	}
}

// A path-less PATCH value that sets the name twice (displayName and
// name.formatted, which are both the user's name) ends as a POST would,
// displayName winning, every time: not as Go's map order falls.
func TestSCIM_PatchValueOrderIsFixed(t *testing.T) {
	p := editable(t)
	for i := range 20 {
		resp, u := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","value":{"name.formatted":"F","displayName":"D","name":{"formatted":"G"}}}]}`)
		if resp.StatusCode != http.StatusOK || u["displayName"] != "D" {
			t.Fatalf("try %d: %d %v, want displayName D", i, resp.StatusCode, u["displayName"])
		}
	}
}

// meta is read-only (RFC 7643 section 3.1): a PATCH path to it is 400
// mutability, not a 200 that kept nothing.
func TestSCIM_PatchMetaIsReadOnly(t *testing.T) {
	p := editable(t)
	file := readFile(t, p.file)
	for _, res := range []string{"/Users/u-bob", "/Groups/mkt"} {
		for _, path := range []string{"meta", "meta.version", "urn:ietf:params:scim:schemas:core:2.0:User:meta.lastModified"} {
			if res == "/Groups/mkt" && path[0] == 'u' {
				continue
			}
			resp, m := p.scim(t, "PATCH", res, `{"Operations":[{"op":"replace","path":"`+path+`","value":"x"}]}`)
			wantSCIMError(t, res+" "+path, resp, m, http.StatusBadRequest, "mutability")
		}
	}
	if readFile(t, p.file) != file {
		t.Fatal("a refused PATCH changed the file")
	}
}

// excludedAttributes of a sub-attribute (RFC 7644 section 3.4.2.5,
// name.givenName, emails.type) leaves out that sub-attribute, not its
// whole attribute: the user's email and name stay.
func TestSCIM_ExcludedSubAttributes(t *testing.T) {
	p := editable(t)
	set := `{"Operations":[{"op":"replace","value":{"displayName":"Bob B","emails":[{"value":"bob@example.com","type":"work"}]}}]}`
	if resp, _ := p.scim(t, "PATCH", "/Users/u-bob", set); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %d", resp.StatusCode)
	}
	resp, u := p.scim(t, "GET", "/Users/u-bob?excludedAttributes=name.givenName,Emails.Type,groups.display", "")
	name, _ := u["name"].(map[string]any)
	emails, _ := u["emails"].([]any)
	groups, _ := u["groups"].([]any)
	if resp.StatusCode != http.StatusOK || name["formatted"] != "Bob B" || len(emails) != 1 || len(groups) != 1 {
		t.Fatalf("excludedAttributes of sub-attributes: %d %v", resp.StatusCode, u)
	}
	if e := emails[0].(map[string]any); e["value"] != "bob@example.com" || e["type"] != nil {
		t.Errorf("emails.type excluded: %v", e)
	}
	if g := groups[0].(map[string]any); g["value"] != "mkt" || g["display"] != nil {
		t.Errorf("groups.display excluded: %v", g)
	}
	// name.formatted, the only sub-attribute kept, leaves no name.
	resp, list := p.scim(t, "GET", "/Users?filter=userName+eq+%22bob%22&excludedAttributes=name.formatted", "")
	r, _ := list["Resources"].([]any)
	if resp.StatusCode != http.StatusOK || len(r) != 1 || r[0].(map[string]any)["name"] != nil || r[0].(map[string]any)["displayName"] != "Bob B" {
		t.Errorf("excludedAttributes=name.formatted: %d %v", resp.StatusCode, list)
	}
}
