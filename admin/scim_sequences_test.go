package admin_test

import (
	"net/http"
	"net/url"
	"testing"
)

// step is one request of a provisioning client's sequence and the status
// it must get.
type step struct {
	method, path, body string
	status             int
}

func (p *product) run(t *testing.T, who string, steps []step) {
	t.Helper()
	for i, s := range steps {
		resp, m := p.scim(t, s.method, s.path, s.body)
		if resp.StatusCode != s.status {
			t.Errorf("%s step %d, %s %s: %d %v, want %d", who, i+1, s.method, s.path, resp.StatusCode, m, s.status)
		}
	}
}

func q(filter string, more ...string) string {
	v := url.Values{"filter": {filter}}
	for i := 0; i+1 < len(more); i += 2 {
		v.Set(more[i], more[i+1])
	}
	return v.Encode()
}

// Okta's SCIM 2.0 provisioning, request by request as its documentation
// shows them: find, create, read, replace, deactivate; push a group, its
// members in and out.
func TestSCIM_OktaSequence(t *testing.T) {
	p := editable(t)
	p.run(t, "Okta", []step{
		{"GET", "/Users?" + q(`userName eq "dana@example.com"`, "startIndex", "1", "count", "100"), "", 200},
		{"POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"dana@example.com",
			"name":{"givenName":"Dana","familyName":"Scully"},"emails":[{"primary":true,"value":"dana@example.com","type":"work"}],
			"displayName":"Dana Scully","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq-pw","active":true}`, 201},
		{"GET", "/Users/u-dana@example.com", "", 200},
		{"PUT", "/Users/u-dana@example.com", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-dana@example.com",
			"userName":"dana@example.com","name":{"givenName":"Dana","familyName":"Scully-Mulder"},
			"emails":[{"primary":true,"value":"dana@example.com","type":"work"}],"displayName":"Dana Scully-Mulder","locale":"en-US",
			"externalId":"00ujl29u0le5T6Aj10h7","groups":[],"active":true,"meta":{"resourceType":"User"}}`, 200},
		{"PATCH", "/Users/u-dana@example.com", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`, 200},
		{"GET", "/Groups?" + q(`displayName eq "x-files"`, "startIndex", "1", "count", "100"), "", 200},
		{"POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"x-files","members":[]}`, 201},
		{"PATCH", "/Groups/x-files", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"x-files","displayName":"x-files"}}]}`, 200},
		{"PATCH", "/Groups/x-files", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"u-dana@example.com","display":"dana@example.com"}]}]}`, 200},
		{"PATCH", "/Groups/x-files", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"u-dana@example.com\"]"}]}`, 200},
		{"DELETE", "/Groups/x-files", "", 204},
	})
	u := p.store.Config().User("dana@example.com")
	if u == nil || u.Name != "Dana Scully-Mulder" || u.Email != "dana@example.com" || u.Active() {
		t.Errorf("after Okta's sequence: %+v", u)
	}
}

// Microsoft Entra's provisioning, as its documentation shows it: the
// connection test, create with the enterprise extension, update with
// value paths and the string "False", groups found without members, a
// member checked by filter, added and removed, the user deleted.
func TestSCIM_EntraSequence(t *testing.T) {
	p := editable(t)
	p.run(t, "Entra", []step{
		{"GET", "/Users?" + q(`userName eq "non-existent user 7c2a"`), "", 200},
		{"POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee@testuser.com","active":true,
			"emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b@testuser.com"}],"meta":{"resourceType":"User"},
			"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},"roles":[],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7","department":"eng"}}`, 201},
		{"GET", "/Users?" + q(`userName eq "Test_User_ab6490ee@testuser.com"`), "", 200},
		{"GET", "/Users?" + q(`emails[type eq "work"].value eq "test_user_fd0ea19b@testuser.com"`), "", 200},
		{"PATCH", "/Users/u-Test_User_ab6490ee@testuser.com", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
			{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
			{"op":"Add","path":"externalId","value":"e1"},
			{"op":"Replace","path":"displayName","value":"Updated Name"},
			{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]}`, 200},
		{"PATCH", "/Users/u-Test_User_ab6490ee@testuser.com", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, 200},
		{"GET", "/Groups?" + q(`displayName eq "Group1DisplayName"`, "excludedAttributes", "members"), "", 200},
		{"POST", "/Groups", `{"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Group1DisplayName","meta":{"resourceType":"Group"},"members":[]}`, 201},
		{"GET", "/Groups/Group1DisplayName?excludedAttributes=members", "", 200},
		{"PATCH", "/Groups/Group1DisplayName", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"u-Test_User_ab6490ee@testuser.com"}]}]}`, 200},
		{"GET", "/Groups?" + q(`id eq "Group1DisplayName" and members eq "u-Test_User_ab6490ee@testuser.com"`, "attributes", "id"), "", 200},
		{"PATCH", "/Groups/Group1DisplayName", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"u-Test_User_ab6490ee@testuser.com"}]}]}`, 200},
		{"DELETE", "/Users/u-Test_User_ab6490ee@testuser.com", "", 204},
		{"GET", "/Users/u-Test_User_ab6490ee@testuser.com", "", 404},
	})
}

// The counts the sequences' finds must give.
func TestSCIM_EntraFindsWhatItMade(t *testing.T) {
	p := editable(t)
	if resp, _ := p.scim(t, "POST", "/Users", `{"userName":"x@example.com","emails":[{"primary":true,"type":"work","value":"x@example.com"}]}`); resp.StatusCode != http.StatusCreated {
		t.Fatal(resp.StatusCode)
	}
	for _, f := range []string{`userName eq "X@example.com"`, `emails[type eq "work"].value eq "x@example.com"`} {
		if _, list := p.scim(t, "GET", "/Users?"+q(f), ""); list["totalResults"] != 1.0 {
			t.Errorf("%s: %v", f, list)
		}
	}
}
