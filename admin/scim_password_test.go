package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

// Okta's password push: PATCH replace of password, with the path or in a
// path-less value, is kept as password_bcrypt and works at the login;
// never answered, written or audited as sent. A password beyond bcrypt's
// 72 bytes, one that is no string, and a remove are refused and change
// nothing.
func TestSCIM_PatchPassword(t *testing.T) {
	p := editable(t)
	patch := func(ops string) (*http.Response, map[string]any) {
		return p.scim(t, "PATCH", "/Users/u-bob", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`)
	}
	resp, u := patch(`{"op":"replace","value":{"password":"okta-pushed-pw-1"}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("path-less replace: %d %v", resp.StatusCode, u)
	}
	if _, ok := u["password"]; ok {
		t.Error("the password is answered")
	}
	if _, err := p.loginAs("bob", "okta-pushed-pw-1"); err != nil {
		t.Fatalf("bob cannot log in with the pushed password: %v", err)
	}
	if _, err := p.loginAs("bob", "bob-pw"); err == nil {
		t.Error("bob's old password still works")
	}
	resp, _ = patch(`{"op":"Replace","path":"password","value":"okta-pushed-pw-2"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("replace with path: %d", resp.StatusCode)
	}
	if _, err := p.loginAs("bob", "okta-pushed-pw-2"); err != nil {
		t.Fatalf("bob cannot log in with the second pushed password: %v", err)
	}
	resp, _ = patch(`{"op":"add","value":{"urn:ietf:params:scim:schemas:core:2.0:User:password":"okta-pushed-pw-3"}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("add with the URN: %d", resp.StatusCode)
	}
	if _, err := p.loginAs("bob", "okta-pushed-pw-3"); err != nil {
		t.Fatalf("bob cannot log in with the third pushed password: %v", err)
	}

	before := readFile(t, p.file)
	for _, c := range []struct{ ops, scimType string }{
		{`{"op":"replace","path":"password","value":"` + strings.Repeat("x", 73) + `"}`, "invalidValue"},
		{`{"op":"replace","path":"password","value":""}`, "invalidValue"},
		{`{"op":"replace","path":"password","value":12345678}`, "invalidValue"},
		{`{"op":"replace","value":{"password":true}}`, "invalidValue"},
		{`{"op":"remove","path":"password"}`, "invalidValue"},
		// Nothing of a PATCH is made when one operation is refused.
		{`{"op":"replace","path":"active","value":false},{"op":"replace","path":"password","value":"` + strings.Repeat("y", 73) + `"}`, "invalidValue"},
	} {
		resp, m := patch(c.ops)
		wantSCIMError(t, c.ops, resp, m, http.StatusBadRequest, c.scimType)
	}
	if after := readFile(t, p.file); after != before {
		t.Errorf("a refused PATCH changed the file:\n%s", after)
	}
	if _, err := p.loginAs("bob", "okta-pushed-pw-3"); err != nil {
		t.Fatalf("a refused PATCH changed the password: %v", err)
	}
	file := readFile(t, p.file)
	all := readFile(t, p.auditFile)
	for _, pw := range []string{"okta-pushed-pw-1", "okta-pushed-pw-2", "okta-pushed-pw-3"} {
		if strings.Contains(file, pw) || strings.Contains(all, pw) {
			t.Errorf("%s is in the file or the audit", pw)
		}
	}
	if !strings.Contains(file, "password_bcrypt:") {
		t.Errorf("the file holds no password_bcrypt:\n%s", file)
	}
}
