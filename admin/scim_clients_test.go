package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// The queries Microsoft Entra's provisioning service sends: a user found
// by its work email (a value path), a conjunction with and, a group's
// membership checked with a filter (members eq, members[value eq]), and
// groups read without their members (excludedAttributes=members) or with
// only the attributes asked for (attributes=).
func TestSCIM_EntraQueries(t *testing.T) {
	p := editable(t)
	if resp, _ := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"bob@example.com"}]}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH the work email: %d", resp.StatusCode)
	}
	total := func(path, filter string, extra ...string) (*http.Response, map[string]any) {
		t.Helper()
		q := url.Values{"filter": {filter}}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		return p.scim(t, "GET", path+"?"+q.Encode(), "")
	}
	for _, c := range []struct {
		path, filter string
		want         float64
	}{
		{"/Users", `emails[type eq "work"].value eq "BOB@example.com"`, 1},
		{"/Users", `emails[type eq "home"].value eq "bob@example.com"`, 0},
		{"/Users", `emails[value eq "bob@example.com"]`, 1},
		{"/Users", `userName eq "bob" and active eq true`, 1},
		{"/Users", `userName eq "bob" AND active eq false`, 0},
		{"/Users", `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob"`, 1},
		{"/Groups", `id eq "mkt" and members eq "u-bob"`, 1},
		{"/Groups", `id eq "eng" and members eq "u-bob"`, 0},
		{"/Groups", `id eq "mkt" and members[value eq "u-bob"]`, 1},
		{"/Groups", `members.value eq "u-alice"`, 1},
		{"/Users", "userName\teq\t\"bob\"\tand\tactive eq true", 1},
	} {
		resp, list := total(c.path, c.filter)
		if resp.StatusCode != http.StatusOK || list["totalResults"] != c.want {
			t.Errorf("%s filter %s: %d %v, want %v results", c.path, c.filter, resp.StatusCode, list, c.want)
		}
	}
	for _, f := range []string{`userName eq "bob" or active eq true`, `not (userName eq "bob")`, `userName eq "bob" and`, `emails[type eq "work"`, `emails[type eq "work"].value`, `members[value co "u"]`} {
		resp, m := total("/Users", f)
		wantSCIMError(t, "filter "+f, resp, m, http.StatusBadRequest, "invalidFilter")
	}

	// Groups without their members, as Entra reads them.
	resp, list := total("/Groups", `displayName eq "mkt"`, "excludedAttributes", "members")
	g, _ := list["Resources"].([]any)
	if resp.StatusCode != http.StatusOK || len(g) != 1 {
		t.Fatalf("excludedAttributes=members: %d %v", resp.StatusCode, list)
	}
	if _, ok := g[0].(map[string]any)["members"]; ok || g[0].(map[string]any)["displayName"] != "mkt" || g[0].(map[string]any)["id"] != "mkt" {
		t.Errorf("excludedAttributes=members answered %v", g[0])
	}
	resp, one := p.scim(t, "GET", "/Groups/mkt?excludedAttributes=members", "")
	if _, ok := one["members"]; resp.StatusCode != http.StatusOK || ok || one["id"] != "mkt" {
		t.Errorf("GET /Groups/mkt?excludedAttributes=members: %d %v", resp.StatusCode, one)
	}
	// attributes=id: the id (and schemas), nothing else.
	resp, list = total("/Groups", `id eq "mkt" and members eq "u-bob"`, "attributes", "id")
	g, _ = list["Resources"].([]any)
	if resp.StatusCode != http.StatusOK || len(g) != 1 {
		t.Fatalf("attributes=id: %d %v", resp.StatusCode, list)
	}
	if m := g[0].(map[string]any); m["id"] != "mkt" || m["members"] != nil || m["displayName"] != nil {
		t.Errorf("attributes=id answered %v", m)
	}
	resp, u := p.scim(t, "GET", "/Users/u-bob?attributes=userName,emails", "")
	if resp.StatusCode != http.StatusOK || u["id"] != "u-bob" || u["userName"] != "bob" || u["emails"] == nil || u["groups"] != nil || u["active"] != nil {
		t.Errorf("attributes=userName,emails: %d %v", resp.StatusCode, u)
	}
}

// An email path filtered on another type than work (Entra's
// emails[type eq "home"]) is not the one email, which is the work one:
// accepted and not kept, never overwriting or clearing it; a primary
// sub-attribute is not a value to set.
func TestSCIM_EmailPathsOfAnotherType(t *testing.T) {
	p := editable(t)
	set := `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"bob@example.com"}]}`
	if resp, u := p.scim(t, "PATCH", "/Users/u-bob", set); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH the work email: %d %v", resp.StatusCode, u)
	}
	for _, body := range []string{
		`{"Operations":[{"op":"replace","path":"emails[type eq \"home\"].value","value":"home@example.com"}]}`,
		`{"Operations":[{"op":"remove","path":"emails[type eq \"home\"]"}]}`,
		`{"Operations":[{"op":"remove","path":"emails[type eq \"other\"].value"}]}`,
		`{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].primary","value":true}]}`,
		`{"Operations":[{"op":"remove","path":"emails[value eq \"someone@example.com\"]"}]}`,
	} {
		resp, u := p.scim(t, "PATCH", "/Users/u-bob", body)
		if resp.StatusCode != http.StatusOK || p.store.Config().User("bob").Email != "bob@example.com" {
			t.Errorf("%s: %d %v; the email is now %q", body, resp.StatusCode, u, p.store.Config().User("bob").Email)
		}
	}
	// The work one (any case of the type), by a value filter too, is the email.
	resp, _ := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"remove","path":"emails[value eq \"BOB@example.com\"]"}]}`)
	if resp.StatusCode != http.StatusOK || p.store.Config().User("bob").Email != "" {
		t.Errorf("remove emails[value eq bob's]: %d, email %q", resp.StatusCode, p.store.Config().User("bob").Email)
	}
	resp, _ = p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"add","path":"emails[type eq \"Work\"].value","value":"b2@example.com"}]}`)
	if resp.StatusCode != http.StatusOK || p.store.Config().User("bob").Email != "b2@example.com" {
		t.Errorf("add emails[type eq Work].value: %d, email %q", resp.StatusCode, p.store.Config().User("bob").Email)
	}
	resp, m := p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"emails[type eq ]","value":"x"}]}`)
	wantSCIMError(t, "a broken email filter", resp, m, http.StatusBadRequest, "invalidPath")
}

// startIndex and count beyond an int are numbers still: past the end and
// capped (RFC 7644 section 3.4.2.4), not 400; a non-number is 400.
func TestSCIM_PagingExtremes(t *testing.T) {
	p := editable(t)
	for _, c := range []struct {
		query      string
		start, n   float64
		totalAfter float64
	}{
		{"startIndex=99999999999999999999", 9223372036854775807, 0, 2},
		{"count=99999999999999999999", 1, 2, 2},
		{"startIndex=-99999999999999999999&count=1", 1, 1, 2},
		{"count=-99999999999999999999", 1, 0, 2},
	} {
		resp, list := p.scim(t, "GET", "/Users?"+c.query, "")
		if resp.StatusCode != http.StatusOK || list["startIndex"] != c.start || list["itemsPerPage"] != c.n || list["totalResults"] != c.totalAfter {
			t.Errorf("%s: %d %v", c.query, resp.StatusCode, list)
		}
	}
	for _, q := range []string{"startIndex=1.0", "count=ten", "startIndex=0x10", "count=%201"} {
		resp, m := p.scim(t, "GET", "/Users?"+q, "")
		wantSCIMError(t, q, resp, m, http.StatusBadRequest, "invalidValue")
	}
}

// A PATCH of name with givenName and familyName (Okta's and Entra's
// path-less replace, or path "name") sets the name as a POST does: the two
// joined. One of them alone is not kept (the other is not known).
func TestSCIM_PatchNameParts(t *testing.T) {
	p := editable(t)
	for _, c := range []struct{ body, want string }{
		{`{"Operations":[{"op":"replace","value":{"name":{"givenName":"Bobby","familyName":"Tables"}}}]}`, "Bobby Tables"},
		{`{"Operations":[{"op":"add","path":"name","value":{"givenName":"Rob","familyName":"Tables"}}]}`, "Rob Tables"},
		{`{"Operations":[{"op":"replace","path":"name","value":{"givenName":"Robert"}}]}`, "Rob Tables"},
		{`{"Operations":[{"op":"replace","path":"name","value":{"formatted":"Bob T.","givenName":"x","familyName":"y"}}]}`, "Bob T."},
	} {
		resp, u := p.scim(t, "PATCH", "/Users/u-bob", c.body)
		if resp.StatusCode != http.StatusOK || u["displayName"] != c.want || p.store.Config().User("bob").Name != c.want {
			t.Errorf("%s: %d %v, want the name %q", c.body, resp.StatusCode, u["displayName"], c.want)
		}
	}
}

// Concurrent PATCHes of one group and of one user lose nothing: each is
// made on what the one before made (no If-Match), and with the same
// If-Match exactly one is made, the others 412.
func TestSCIM_ConcurrentPatches(t *testing.T) {
	p := editable(t)
	const n = 12
	for i := range n {
		if resp, u := p.scim(t, "POST", "/Users", fmt.Sprintf(`{"userName":"c%d"}`, i)); resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST c%d: %d %v", i, resp.StatusCode, u)
		}
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			resp, _ := p.scim(t, "PATCH", "/Groups/mkt", fmt.Sprintf(`{"Operations":[{"op":"add","path":"members","value":[{"value":"u-c%d"}]}]}`, i))
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	_, g := p.scim(t, "GET", "/Groups/mkt", "")
	if members, _ := g["members"].([]any); len(members) != n+1 {
		t.Errorf("%d members after %d concurrent adds (%v), want %d", len(members), n, codes, n+1)
	}
	tag := p.etagOf(t, scimBase+"/Users/u-bob")
	for i := range n {
		wg.Go(func() {
			resp, _ := p.scim(t, "PATCH", "/Users/u-bob", fmt.Sprintf(`{"Operations":[{"op":"replace","path":"displayName","value":"B%d"}]}`, i), "If-Match", tag)
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	made := 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			made++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("a concurrent PATCH with If-Match: %d", c)
		}
	}
	if made != 1 {
		t.Errorf("%d of %d PATCHes with one If-Match were made (%v), want 1", made, n, codes)
	}
}

// A list of emails gives the primary one, else the work one (or one with
// no type), else the first; a PATCH add of a home email alone adds
// nothing kept and leaves the work one.
func TestSCIM_EmailListPicksTheWorkOne(t *testing.T) {
	p := editable(t)
	resp, u := p.scim(t, "POST", "/Users", `{"userName":"dan","emails":[{"value":"dan@home.example","type":"home"},{"value":"dan@example.com","type":"work"}]}`)
	if resp.StatusCode != http.StatusCreated || p.store.Config().User("dan").Email != "dan@example.com" {
		t.Fatalf("POST with a home and a work email: %d %v", resp.StatusCode, u)
	}
	resp, u = p.scim(t, "PATCH", "/Users/u-dan", `{"Operations":[{"op":"add","path":"emails","value":[{"value":"d2@home.example","type":"home"}]}]}`)
	if resp.StatusCode != http.StatusOK || p.store.Config().User("dan").Email != "dan@example.com" {
		t.Errorf("PATCH add a home email: %d %v; email %q", resp.StatusCode, u, p.store.Config().User("dan").Email)
	}
	resp, u = p.scim(t, "PATCH", "/Users/u-dan", `{"Operations":[{"op":"add","path":"emails","value":[{"value":"d3@example.com","type":"work"}]}]}`)
	if resp.StatusCode != http.StatusOK || p.store.Config().User("dan").Email != "d3@example.com" {
		t.Errorf("PATCH add a work email: %d %v; email %q", resp.StatusCode, u, p.store.Config().User("dan").Email)
	}
	// A home email alone in a POST is still the email (nothing better).
	if resp, u = p.scim(t, "POST", "/Users", `{"userName":"eve","emails":[{"value":"eve@home.example","type":"home"}]}`); resp.StatusCode != http.StatusCreated || p.store.Config().User("eve").Email != "eve@home.example" {
		t.Errorf("POST with a home email alone: %d %v", resp.StatusCode, u)
	}
}

// An attribute given twice, once by its name and once by its URN (the
// core schema's prefix), is refused: which one was taken was chance.
func TestSCIM_AttributeByNameAndByURN(t *testing.T) {
	p := editable(t)
	const user = "urn:ietf:params:scim:schemas:core:2.0:User:"
	const group = "urn:ietf:params:scim:schemas:core:2.0:Group:"
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/Users", `{"userName":"a1","` + user + `userName":"b1"}`},
		{"PUT", "/Users/u-bob", `{"userName":"bob","displayName":"x","` + user + `displayName":"y"}`},
		{"PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","value":{"active":false,"` + user + `active":true}}]}`},
		{"POST", "/Groups", `{"displayName":"g1","` + group + `displayName":"g2"}`},
		{"PUT", "/Groups/mkt", `{"displayName":"mkt","members":[],"` + group + `members":[{"value":"u-bob"}]}`},
		{"PATCH", "/Groups/mkt", `{"Operations":[{"op":"replace","value":{"members":[],"` + group + `members":[{"value":"u-alice"}]}}]}`},
	} {
		resp, m := p.scim(t, c.method, c.path, c.body)
		wantSCIMError(t, c.method+" "+c.path+" "+c.body, resp, m, http.StatusBadRequest, "invalidSyntax")
	}
	if readFile(t, p.file) != editConfig {
		t.Error("a refused body changed the file")
	}
}
