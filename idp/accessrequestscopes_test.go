package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// noScopesConfig is appsConfig with a server that defines no scopes.
const noScopesConfig = appsConfig + `  - id: plain
    name: Plain
    issuer: https://as.plain.example
    resources: [https://mcp.plain.example/mcp]
`

// TestAccessRequests_WithoutScopesAskForEveryScope: a request that names
// no scopes (left out, or []) asks for every scope the server defines, as
// recorded when it is made: the 201, the caller's list, the pending list
// and the audit event name them, so that an approval grants them (or
// narrows them). A server that defines none keeps an empty list. Until
// 2026-12-06 such a request recorded no scope, and its approval gave
// access with which no scope was ever issued.
func TestAccessRequests_WithoutScopesAskForEveryScope(t *testing.T) {
	cfg, err := policy.Parse([]byte(noScopesConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	at, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	for _, c := range []struct{ body, server, want string }{
		{`{"server": "wiki"}`, "wiki", "wiki.read wiki.write"},
		{`{"server": "crm", "scopes": []}`, "crm", "crm.read crm.write"},
		{`{"server": "plain", "scopes": []}`, "plain", ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/me/access-requests", strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+at)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got access.Request
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || strings.Join(got.Scopes, " ") != c.want {
			t.Errorf("%s: %d %+v, want 201 asking for %q", c.body, resp.StatusCode, got, c.want)
		}
		i := slices.IndexFunc(p.AccessRequests().List(access.Pending), func(q access.Request) bool { return q.Server == c.server })
		if i < 0 || strings.Join(p.AccessRequests().List(access.Pending)[i].Scopes, " ") != c.want {
			t.Errorf("%s: pending %+v, want %q asked for", c.body, p.AccessRequests().List(access.Pending), c.want)
		}
		evs := p.Audit.Query(audit.Filter{Type: audit.TypeAccessRequest, Server: c.server})
		if len(evs) != 1 || evs[0].ScopeRequested != c.want {
			t.Errorf("%s: events %+v, want scope_requested %q", c.body, evs, c.want)
		}
	}
}

// TestApps_AFormWithNoScopeCheckedIsRefused: the /apps form offers the
// server's scopes checked; sent with every one unchecked it asked for none
// (and, for a day, for every one, as the API's left-out scopes do). It is
// refused on the page, nothing recorded, as the console refuses an approval
// with every scope unchecked.
func TestApps_AFormWithNoScopeCheckedIsRefused(t *testing.T) {
	p, hc := startApps(t, appsConfig)
	_, page := fetch(t, hc, http.MethodGet, p.URL+"/apps", nil)
	_, page = fetch(t, hc, http.MethodPost, p.URL+"/login", url.Values{
		"authRequestID": {hidden(t, page, "authRequestID")}, "username": {"bob"}, "password": {"bob-pw"},
	})
	form := url.Values{"csrf": {requestCSRF(t, page)}, "server": {"wiki"}}
	if resp, page := fetch(t, hc, http.MethodPost, p.URL+"/apps", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "No scope was checked") {
		t.Fatalf("the form without scopes: %d\n%s", resp.StatusCode, page)
	}
	if list := p.AccessRequests().List(access.Pending); len(list) != 0 {
		t.Errorf("recorded: %+v, want nothing", list)
	}
	form["scopes"] = []string{"wiki.read"}
	if resp, page := fetch(t, hc, http.MethodPost, p.URL+"/apps", form); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Request pending since") {
		t.Fatalf("the form with one scope: %d\n%s", resp.StatusCode, page)
	}
	if list := p.AccessRequests().List(access.Pending); len(list) != 1 || strings.Join(list[0].Scopes, " ") != "wiki.read" {
		t.Errorf("recorded: %+v, want wiki.read", list)
	}
}
