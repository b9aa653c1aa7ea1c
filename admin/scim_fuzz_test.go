package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzSCIM throws arbitrary filters and bodies at what a provisioning
// token reaches (a list's filter, PATCH and PUT of a user and of a group,
// POST of each) and at the admin API's merge patch of a user: never a 5xx,
// every refusal a SCIM error (RFC 7644 section 3.12) or the admin API's
// JSON error with its status, no token in an answer, and a refusal changes
// nothing.
func FuzzSCIM(f *testing.F) {
	const patchOp = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`
	seeds := []struct{ filter, body string }{
		{`userName eq "bob"`, patchOp + `[{"op":"replace","path":"active","value":false}]}`},
		{`userName eq "Carol"`, patchOp + `[{"op":"Replace","path":"active","value":"True"}]}`},
		{`externalId eq "e-1"`, patchOp + `[{"op":"replace","value":{"id":"u-bob","active":false}}]}`},
		{`displayName eq "ops"`, patchOp + `[{"op":"add","path":"members","value":[{"value":"u-bob"}]}]}`},
		{`id eq "u-bob" and active eq true`, `{"Operations":[{"op":"remove","path":"members[value eq \"u-bob\"]"}]}`},
		{`userName co "b"`, `{"Operations":[{"op":"replace","value":{"displayName":"MKT"}}]}`},
		{`userName eq "bob"]`, `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"b@example.com"}]}`},
		{`emails[type eq "work"].value eq "b@example.com"`, patchOp + `[{"op":"replace","path":"name.givenName","value":"B"},{"op":"replace","path":"name.familyName","value":"Ob"}]}`},
		{`members[value eq "u-bob"]`, patchOp + `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"x"}]}`},
		{`meta.lastModified gt "2020-01-01T00:00:00Z"`, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"zed","name":{"givenName":"Z"},"emails":[{"value":"z@example.com","primary":true}],"active":true,"externalId":"e-9"}`},
		{``, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"ops","members":[{"value":"u-bob"}]}`},
		{`userName eq "bob"`, `{"email":"bob@example.com","claims":{"dept":"sales","n":null},"disabled":false}`},
		{`userName eq "bob"`, `{"groups":["eng"],"email":null}`},
	}
	for _, s := range seeds {
		f.Add(s.filter, s.body)
	}
	// dan is the admin API's to patch: SCIM may rename bob.
	p := editableYAML(f, strings.Replace(scimTokens(), "\nclients:", "  - username: dan\n    password: dan-pw\n\nclients:", 1))
	f.Fuzz(func(t *testing.T, filter, body string) {
		scim := func(method, path, body string) map[string]any {
			t.Helper()
			before := p.store.Version()
			var b any
			if body != "" {
				b = body
			}
			resp, raw := p.send(t, method, scimBase+path, "", b, "Content-Type", "application/scim+json", "Authorization", "Bearer "+oktaToken)
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil || resp.Header.Get("Content-Type") != "application/scim+json" {
				t.Fatalf("%s %s %q: %d %s, not a SCIM answer: %s", method, path, body, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
			}
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %s %q: %d %s", method, path, body, resp.StatusCode, raw)
			}
			if strings.Contains(string(raw), oktaToken) {
				t.Fatalf("%s %s %q: the answer holds the token: %s", method, path, body, raw)
			}
			if resp.StatusCode >= 400 {
				if m["status"] != strconv.Itoa(resp.StatusCode) || !hasSchema(m, "urn:ietf:params:scim:api:messages:2.0:Error") {
					t.Fatalf("%s %s %q: %d, not a SCIM error: %s", method, path, body, resp.StatusCode, raw)
				}
				if p.store.Version() != before {
					t.Fatalf("%s %s %q: %d, yet the configuration changed", method, path, body, resp.StatusCode)
				}
			}
			if method == http.MethodPost && resp.StatusCode == http.StatusCreated {
				// Created, it goes: the file stays the size it was.
				where := strings.TrimPrefix(resp.Header.Get("Location"), p.base+scimBase)
				if resp, raw := p.send(t, http.MethodDelete, scimBase+where, "", nil, "Authorization", "Bearer "+oktaToken); resp.StatusCode != http.StatusNoContent {
					t.Fatalf("DELETE %s after %q: %d %s", where, body, resp.StatusCode, raw)
				}
			}
			return m
		}
		q := "?filter=" + url.QueryEscape(filter)
		scim(http.MethodGet, "/Users"+q, "")
		scim(http.MethodGet, "/Groups"+q+"&attributes="+url.QueryEscape(filter), "")
		scim(http.MethodGet, "/Users?excludedAttributes="+url.QueryEscape(filter)+"&startIndex=1&count=2", "")
		scim(http.MethodPost, "/Users", body)
		scim(http.MethodPost, "/Groups", body)
		scim(http.MethodPatch, "/Users/u-bob", body)
		scim(http.MethodPatch, "/Groups/mkt", body)
		scim(http.MethodPut, "/Users/u-bob", body)
		scim(http.MethodPut, "/Groups/mkt", body)

		before := p.store.Version()
		resp, raw := p.send(t, http.MethodPatch, "/admin/api/users/dan", "alice", body, "Content-Type", "application/merge-patch+json")
		var m map[string]any
		if resp.StatusCode >= 500 || json.Unmarshal(raw, &m) != nil {
			t.Fatalf("PATCH /admin/api/users/dan %q: %d %s", body, resp.StatusCode, raw)
		}
		if resp.StatusCode >= 400 && (m["error"] == nil || p.store.Version() != before) {
			t.Fatalf("PATCH /admin/api/users/dan %q: %d %s, no error code or the configuration changed", body, resp.StatusCode, raw)
		}
	})
}
