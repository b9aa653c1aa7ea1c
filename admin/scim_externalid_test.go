package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// externalId is kept as users[].external_id: answered, found by filter
// (with case, as RFC 7643 section 3.1 says), unique (409 uniqueness),
// kept by a PUT without it, set and removed by PATCH; the admin API shows
// and takes it.
func TestSCIM_ExternalID(t *testing.T) {
	p := editable(t)
	resp, u := p.scim(t, "POST", "/Users", `{"userName":"carol","externalId":"00uA1"}`)
	if resp.StatusCode != http.StatusCreated || u["externalId"] != "00uA1" {
		t.Fatalf("POST: %d %v", resp.StatusCode, u)
	}
	if file := readFile(t, p.file); !strings.Contains(file, "external_id: 00uA1") {
		t.Errorf("the file does not hold the external_id:\n%s", file)
	}
	find := func(filter string) []any {
		t.Helper()
		resp, list := p.scim(t, "GET", "/Users?filter="+url.QueryEscape(filter), "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("filter %s: %d %v", filter, resp.StatusCode, list)
		}
		r, _ := list["Resources"].([]any)
		return r
	}
	if r := find(`externalId eq "00uA1"`); len(r) != 1 || r[0].(map[string]any)["id"] != "u-carol" {
		t.Errorf("externalId eq: %v", r)
	}
	if r := find(`externalId eq "00ua1"`); len(r) != 0 {
		t.Errorf("externalId eq in another case: %v", r)
	}
	// Unique.
	resp, m := p.scim(t, "POST", "/Users", `{"userName":"dave","externalId":"00uA1"}`)
	wantSCIMError(t, "POST with a taken externalId", resp, m, http.StatusConflict, "uniqueness")
	resp, m = p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"add","path":"externalId","value":"00uA1"}]}`)
	wantSCIMError(t, "PATCH to a taken externalId", resp, m, http.StatusConflict, "uniqueness")
	resp, m = p.scim(t, "PUT", "/Users/u-bob", `{"userName":"bob","externalId":"00uA1"}`)
	wantSCIMError(t, "PUT to a taken externalId", resp, m, http.StatusConflict, "uniqueness")
	// Bounded.
	resp, m = p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"externalId","value":"`+strings.Repeat("e", 257)+`"}]}`)
	wantSCIMError(t, "a long externalId", resp, m, http.StatusBadRequest, "invalidValue")
	resp, m = p.scim(t, "PATCH", "/Users/u-bob", `{"Operations":[{"op":"replace","path":"externalId","value":7}]}`)
	wantSCIMError(t, "a number", resp, m, http.StatusBadRequest, "invalidValue")

	// A PUT without it keeps it; PATCH replaces and removes it.
	if resp, u = p.scim(t, "PUT", "/Users/u-carol", `{"userName":"carol","displayName":"Carol"}`); resp.StatusCode != http.StatusOK || u["externalId"] != "00uA1" {
		t.Errorf("PUT without externalId: %d %v", resp.StatusCode, u)
	}
	if resp, u = p.scim(t, "PATCH", "/Users/u-carol", `{"Operations":[{"op":"Replace","value":{"externalId":"00uB2"}}]}`); resp.StatusCode != http.StatusOK || u["externalId"] != "00uB2" {
		t.Errorf("PATCH replace: %d %v", resp.StatusCode, u)
	}
	if r := find(`externalId eq "00uB2"`); len(r) != 1 {
		t.Errorf("externalId eq after the PATCH: %v", r)
	}
	// The admin API shows it, and takes it.
	_, body := p.send(t, "GET", "/admin/api/users/carol", "alice", nil)
	if !strings.Contains(string(body), `"external_id": "00uB2"`) {
		t.Errorf("GET /admin/api/users/carol: %s", body)
	}
	resp, body = p.send(t, "PUT", "/admin/api/users/bob", "alice", `{"username":"bob","external_id":"00uB2","groups":["mkt"]}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "duplicate external_id") {
		t.Errorf("PUT /admin/api/users/bob with carol's external_id: %d %s", resp.StatusCode, body)
	}
	if resp, body = p.send(t, "PUT", "/admin/api/users/bob", "alice", `{"username":"bob","external_id":"00uC3","groups":["mkt"]}`); resp.StatusCode != http.StatusOK {
		t.Errorf("PUT /admin/api/users/bob: %d %s", resp.StatusCode, body)
	}
	if r := find(`externalId eq "00uC3"`); len(r) != 1 || r[0].(map[string]any)["id"] != "u-bob" {
		t.Errorf("bob by the external_id the admin API set: %v", r)
	}
	if resp, u = p.scim(t, "PATCH", "/Users/u-carol", `{"Operations":[{"op":"remove","path":"externalId"}]}`); resp.StatusCode != http.StatusOK || u["externalId"] != nil {
		t.Errorf("PATCH remove: %d %v", resp.StatusCode, u)
	}
	if file := readFile(t, p.file); strings.Contains(file, "00uB2") {
		t.Errorf("the removed external_id is in the file:\n%s", file)
	}
}

// A PUT with "externalId": null clears it, as RFC 7643 section 2.5 says
// of an unassigned attribute in a replace (by its name or its URN); a
// PUT without it keeps it.
func TestSCIM_PutNullExternalIDClearsIt(t *testing.T) {
	p := editable(t)
	if resp, u := p.scim(t, "POST", "/Users", `{"userName":"carol","externalId":"00uA1"}`); resp.StatusCode != http.StatusCreated || u["externalId"] != "00uA1" {
		t.Fatalf("POST: %d %v", resp.StatusCode, u)
	}
	if resp, u := p.scim(t, "PUT", "/Users/u-carol", `{"userName":"carol"}`); resp.StatusCode != http.StatusOK || u["externalId"] != "00uA1" {
		t.Fatalf("PUT without externalId: %d %v", resp.StatusCode, u)
	}
	resp, u := p.scim(t, "PUT", "/Users/u-carol", `{"userName":"carol","externalId":null}`)
	if _, has := u["externalId"]; resp.StatusCode != http.StatusOK || has {
		t.Errorf("PUT with externalId null: %d %v, want it cleared", resp.StatusCode, u)
	}
	if file := readFile(t, p.file); strings.Contains(file, "00uA1") {
		t.Errorf("the cleared external_id is in the file:\n%s", file)
	}
	resp, u = p.scim(t, "PUT", "/Users/u-carol", `{"userName":"carol","externalId":"00uB2"}`)
	if resp.StatusCode != http.StatusOK || u["externalId"] != "00uB2" {
		t.Fatalf("PUT setting it again: %d %v", resp.StatusCode, u)
	}
	resp, u = p.scim(t, "PUT", "/Users/u-carol", `{"userName":"carol","urn:ietf:params:scim:schemas:core:2.0:User:externalId":null}`)
	if _, has := u["externalId"]; resp.StatusCode != http.StatusOK || has {
		t.Errorf("PUT with the URN's externalId null: %d %v, want it cleared", resp.StatusCode, u)
	}
	// The id it had is free again.
	if resp, u := p.scim(t, "PUT", "/Users/u-bob", `{"userName":"bob","externalId":"00uB2"}`); resp.StatusCode != http.StatusOK || u["externalId"] != "00uB2" {
		t.Errorf("PUT of bob with carol's cleared externalId: %d %v", resp.StatusCode, u)
	}
}

// A group's externalId is kept as groups[].external_id, as a user's is:
// answered, found by filter (with case), unique (409 uniqueness), kept by
// a PUT without it and cleared by null, set and removed by PATCH. It was
// dropped, so Okta and Entra, which match groups by it, never found
// theirs again.
func TestSCIM_GroupExternalID(t *testing.T) {
	p := editable(t)
	resp, g := p.scim(t, "POST", "/Groups", `{"displayName":"ops","externalId":"00gA1"}`)
	if resp.StatusCode != http.StatusCreated || g["externalId"] != "00gA1" {
		t.Fatalf("POST: %d %v", resp.StatusCode, g)
	}
	if file := readFile(t, p.file); !strings.Contains(file, "external_id: 00gA1") {
		t.Errorf("the file does not hold the external_id:\n%s", file)
	}
	find := func(filter string) []any {
		t.Helper()
		resp, list := p.scim(t, "GET", "/Groups?filter="+url.QueryEscape(filter), "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("filter %s: %d %v", filter, resp.StatusCode, list)
		}
		r, _ := list["Resources"].([]any)
		return r
	}
	if r := find(`externalId eq "00gA1"`); len(r) != 1 || r[0].(map[string]any)["id"] != "ops" {
		t.Errorf("externalId eq: %v", r)
	}
	if r := find(`externalId eq "00ga1"`); len(r) != 0 {
		t.Errorf("externalId eq in another case: %v", r)
	}
	resp, m := p.scim(t, "POST", "/Groups", `{"displayName":"ops2","externalId":"00gA1"}`)
	wantSCIMError(t, "POST with a taken externalId", resp, m, http.StatusConflict, "uniqueness")
	resp, m = p.scim(t, "PATCH", "/Groups/mkt", `{"Operations":[{"op":"add","path":"externalId","value":"00gA1"}]}`)
	wantSCIMError(t, "PATCH to a taken externalId", resp, m, http.StatusConflict, "uniqueness")
	if resp, g = p.scim(t, "PUT", "/Groups/ops", `{"displayName":"ops"}`); resp.StatusCode != http.StatusOK || g["externalId"] != "00gA1" {
		t.Errorf("PUT without externalId: %d %v", resp.StatusCode, g)
	}
	if resp, g = p.scim(t, "PATCH", "/Groups/ops", `{"Operations":[{"op":"Replace","value":{"externalId":"00gB2"}}]}`); resp.StatusCode != http.StatusOK || g["externalId"] != "00gB2" {
		t.Errorf("PATCH replace: %d %v", resp.StatusCode, g)
	}
	if resp, g = p.scim(t, "PATCH", "/Groups/ops", `{"Operations":[{"op":"remove","path":"externalId"}]}`); resp.StatusCode != http.StatusOK || g["externalId"] != nil {
		t.Errorf("PATCH remove: %d %v", resp.StatusCode, g)
	}
	if resp, g = p.scim(t, "PUT", "/Groups/ops", `{"displayName":"ops","externalId":"00gC3"}`); resp.StatusCode != http.StatusOK || g["externalId"] != "00gC3" {
		t.Errorf("PUT with externalId: %d %v", resp.StatusCode, g)
	}
	if resp, g = p.scim(t, "PUT", "/Groups/ops", `{"displayName":"ops","externalId":null}`); resp.StatusCode != http.StatusOK || g["externalId"] != nil {
		t.Errorf("PUT with externalId null: %d %v", resp.StatusCode, g)
	}
	if file := readFile(t, p.file); strings.Contains(file, "00g") {
		t.Errorf("the removed external_id is in the file:\n%s", file)
	}
}
