package admin_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestAccessRequest_EveryContractKeyIsThere: a request made without a
// reason still has every key the product contract (section 10) lists,
// {"id", "user", "server", "scopes", "reason", "status", "created"}, in
// the 201 of POST /me/access-requests, the pending list, the user's own
// list and the decision's 200: a script reading req["reason"] got
// nothing (a KeyError in Python) until 2026-12-06.
func TestAccessRequest_EveryContractKeyIsThere(t *testing.T) {
	p := editable(t)
	at, _ := p.login(t, "bob")["access_token"].(string)
	status, made := p.request(t, at, `{"server": "files", "scopes": ["files.read"]}`)
	if status != http.StatusCreated {
		t.Fatalf("request: %d %v", status, made)
	}
	keys := []string{"id", "user", "server", "scopes", "reason", "status", "created"}
	check := func(what string, req map[string]any) {
		t.Helper()
		for _, k := range keys {
			if _, ok := req[k]; !ok {
				t.Errorf("%s lacks %q: %v", what, k, req)
			}
		}
	}
	check("the 201", made)

	list := func(what, path, user, bearer string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		} else {
			req.SetBasicAuth(user, user+"-pw")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got []map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK || len(got) != 1 {
			t.Fatalf("%s: %d %v %v", what, resp.StatusCode, got, err)
		}
		check(what, got[0])
	}
	list("the pending list", "/admin/api/access-requests?status=pending", "alice", "")
	list("the user's own list", "/me/access-requests", "", at)

	resp, body := p.send(t, http.MethodPost, "/admin/api/access-requests/"+made["id"].(string)+"/deny", "alice", nil)
	var decided map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &decided) != nil {
		t.Fatalf("deny: %d %s", resp.StatusCode, body)
	}
	check("the denial's 200", decided)
}
