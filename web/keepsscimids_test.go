package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestConsole_EditsKeepSCIMIDs: the console shows neither a group's SCIM
// id and externalId nor a user's externalId, and the admin API's PUT of a
// group or user clears what its body leaves out. The console's edits (an
// access list, a deny list, an approval) never PUT a group or user, so a
// provisioned group and user keep what Okta or Entra stored, in memory and
// in the file.
func TestConsole_EditsKeepSCIMIDs(t *testing.T) {
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(data), "  - name: sales\n", "  - name: sales\n    id: 00g-sales-id\n    external_id: ext-sales\n", 1)
	y = strings.Replace(y, "    sub: 00u-bob\n", "    sub: 00u-bob\n    external_id: ext-bob\n", 1)
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	p := serve(t, store)
	b := p.browser(t)
	if resp, body := b.signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	kept := func(after string) {
		t.Helper()
		cfg := p.Store.Config()
		g, u := cfg.Group("sales"), cfg.User("bob")
		if g == nil || g.ID != "00g-sales-id" || g.ExternalID != "ext-sales" || u == nil || u.ExternalID != "ext-bob" {
			t.Errorf("after %s: group %+v, user bob's external_id %q", after, g, u.ExternalID)
		}
		onDisk, _ := os.ReadFile(file)
		for _, want := range []string{"id: 00g-sales-id", "external_id: ext-sales", "external_id: ext-bob"} {
			if !strings.Contains(string(onDisk), want) {
				t.Errorf("after %s: the file lacks %q", after, want)
			}
		}
	}

	_, token, etag := openServer(t, b, "tracker")
	if resp, body := b.post("/admin/servers/tracker/access", assignSales(token, etag)); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Assignments saved") {
		t.Fatalf("access save: %d\n%s", resp.StatusCode, body)
	}
	kept("an access list's save")

	id := requestAccess(t, p)
	_, token, etag = openServer(t, b, "tracker")
	if resp, page := b.post("/admin/access-requests/"+id+"/approve", url.Values{
		"csrf": {token}, "etag": {etag}, "back": {"/admin/servers/tracker"}, "expires_in": {"1h"}, "scopes": {"issues.read"},
	}); resp.StatusCode != http.StatusOK || !strings.Contains(page, "approved") {
		t.Fatalf("approval: %d\n%s", resp.StatusCode, page)
	}
	kept("an approval")

	page, token, _ := openServer(t, b, "tracker")
	m := regexp.MustCompile(`id="deny-form"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="etag" value="([^"]+)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no deny form")
	}
	if resp, body := b.post("/admin/servers/tracker/deny", url.Values{
		"csrf": {token}, "etag": {strings.ReplaceAll(m[1], "&#34;", `"`)}, "n": {"1"}, "d0.groups": {"sales"}, "d0.users": {"bob"},
	}); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Deny list saved") {
		t.Fatalf("deny save: %d\n%s", resp.StatusCode, body)
	}
	kept("a deny list's save")
}
