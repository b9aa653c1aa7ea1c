package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAdminAPI_NotAnAdminIsAudited: a user whose password is right but who
// is not an admin is refused 403 by the admin API and by SCIM, and the
// refusal is audited as a refused admin API login is (type login, outcome
// denied, client admin-api, the user, the reason, the method and path):
// an authorization refusal. Until 2026-12-06 it left no event, while a
// wrong password did.
func TestAdminAPI_NotAnAdminIsAudited(t *testing.T) {
	base := start(t)
	for _, path := range []string{"/admin/api/config", "/admin/api/scim/v2/Users"} {
		if resp, body := get(t, base, path, "bob", "bob-pw"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s as bob: %d %s, want 403", path, resp.StatusCode, body)
		}
	}
	resp, body := get(t, base, "/admin/api/audit?type=login&user=bob&outcome=denied", "alice", "alice-pw")
	var events []map[string]any
	if err := json.Unmarshal(body, &events); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	if len(events) != 2 {
		t.Fatalf("bob's denied logins: %s, want the two refusals", body)
	}
	_, ub := get(t, base, "/admin/api/users/bob", "alice", "alice-pw")
	var bob struct{ Sub string }
	if err := json.Unmarshal(ub, &bob); err != nil || bob.Sub == "" {
		t.Fatalf("bob: %s", ub)
	}
	for i, path := range []string{"/admin/api/scim/v2/Users", "/admin/api/config"} {
		ev := events[i]
		d, _ := ev["details"].(map[string]any)
		if ev["sub"] != bob.Sub {
			t.Errorf("event %d: sub %v, want bob's %q (the console's refusal names it, and ?sub= finds it)", i, ev["sub"], bob.Sub)
		}
		if ev["client_id"] != "admin-api" || ev["error"] != "access_denied" || ev["reason"] != "user is not an admin (admin: true in the configuration)" || d["path"] != path || d["method"] != "GET" {
			t.Errorf("event %d: %v, want client admin-api, access_denied, the reason, GET %s", i, ev, path)
		}
	}
}

// TestAdminAPI_CrossSiteChangeIsAudited: a change an admin's browser sends
// from another site (the browser adding the admin's Basic credentials: a
// cross-site request forgery) is refused 403 csrf and audited as a
// refused login of that admin, as the login form's post from another
// site is. Until 2026-12-06 it left no event.
func TestAdminAPI_CrossSiteChangeIsAudited(t *testing.T) {
	base := start(t)
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/api/keys/rotate", nil)
	req.SetBasicAuth("alice", "alice-pw")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site change: %d, want 403", resp.StatusCode)
	}
	r, body := get(t, base, "/admin/api/audit?type=login&user=alice&outcome=denied", "alice", "alice-pw")
	var events []map[string]any
	if err := json.Unmarshal(body, &events); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("audit: %d %s", r.StatusCode, body)
	}
	if len(events) != 1 || events[0]["client_id"] != "admin-api" || events[0]["reason"] != "a change sent by a browser from another site is refused" {
		t.Fatalf("alice's denied logins: %s, want the cross-site refusal", body)
	}
}

// TestAdminAPI_EmptyFormPostIsRefused: a form without fields that a page
// of another site posts to a change without a body (a key rotation, an
// access request's decision) carries the admin's remembered Basic
// credentials, and no Origin when the browser or an extension leaves it
// out. Its Content-Type gives it away: refused 403 csrf and audited,
// nothing rotated. Until 2026-12-07 the keys were rotated.
func TestAdminAPI_EmptyFormPostIsRefused(t *testing.T) {
	base := start(t)
	_, before := get(t, base, "/admin/api/keys", "alice", "alice-pw")
	for _, ct := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "text/plain", "TEXT/PLAIN; charset=utf-8", "text/plain; ="} {
		if code, body := postRotateAs(t, base, ct, ""); !refusedAsCSRF(code, body) {
			t.Errorf("POST keys/rotate as %s: %d %s; want 403 csrf naming application/json", ct, code, body)
		}
	}
	if _, after := get(t, base, "/admin/api/keys", "alice", "alice-pw"); string(after) != string(before) {
		t.Errorf("a form rotated the keys:\n%s\n%s", before, after)
	}
	r, body := get(t, base, "/admin/api/audit?type=login&user=alice&outcome=denied", "alice", "alice-pw")
	var events []map[string]any
	if err := json.Unmarshal(body, &events); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("audit: %d %s", r.StatusCode, body)
	}
	if len(events) != 5 || !strings.Contains(events[0]["reason"].(string), "sent as a form") {
		t.Errorf("alice's denied logins: %s, want the five form posts", body)
	}
	// A script's empty POST, without a Content-Type, rotates.
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/api/keys/rotate", nil)
	req.SetBasicAuth("alice", "alice-pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST keys/rotate without a Content-Type: %d", resp.StatusCode)
	}
}

// TestAdminAPI_WhiteSpaceFormPostIsRefused: a page of another site can
// post a body of white space as text/plain (a fetch without CORS needs no
// permission for it), which the key rotation reads as no body. Refused
// like the empty form, nothing rotated. Until 2026-12-07 the keys were
// rotated.
func TestAdminAPI_WhiteSpaceFormPostIsRefused(t *testing.T) {
	base := start(t)
	_, before := get(t, base, "/admin/api/keys", "alice", "alice-pw")
	for _, ct := range []string{"text/plain;charset=UTF-8", "application/x-www-form-urlencoded"} {
		if code, body := postRotateAs(t, base, ct, " \r\n"); !refusedAsCSRF(code, body) {
			t.Errorf("POST keys/rotate as %s with white space: %d %s; want 403 csrf naming application/json", ct, code, body)
		}
	}
	if _, after := get(t, base, "/admin/api/keys", "alice", "alice-pw"); string(after) != string(before) {
		t.Errorf("a form of white space rotated the keys:\n%s\n%s", before, after)
	}
	// A script's POST of white space, as JSON or untyped, rotates (the
	// call takes no body, white space aside: docs/http.md).
	for _, ct := range []string{"", "application/json"} {
		req, _ := http.NewRequest(http.MethodPost, base+"/admin/api/keys/rotate", strings.NewReader(" \n"))
		req.SetBasicAuth("alice", "alice-pw")
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("POST keys/rotate with white space typed %q: %d", ct, resp.StatusCode)
		}
	}
}

// postRotateAs posts body to the key rotation as alice with Content-Type
// ct, and returns the status and the answer.
func postRotateAs(t *testing.T, base, ct, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/api/keys/rotate", strings.NewReader(body))
	req.SetBasicAuth("alice", "alice-pw")
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// refusedAsCSRF tells a 403 csrf whose text names what to send instead.
func refusedAsCSRF(code int, body string) bool {
	return code == http.StatusForbidden && strings.Contains(body, `"csrf"`) && strings.Contains(body, "application/json")
}
