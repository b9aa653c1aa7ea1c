package idp_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/diskfull"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAccessRequest_AuditLogFullIsRefusedInPlainWords: a request whose
// audit event the audit log cannot take (its disk full) is not made, and
// the user is told so as the token endpoint tells a client: until
// 2026-12-07 the refusal quoted the audit package's error, the server's
// path of the audit log and the system's words among it, to any signed-in
// user. Why is in the IdP's own log, for its administrator.
func TestAccessRequest_AuditLogFullIsRefusedInPlainWords(t *testing.T) {
	disk := diskfull.Tmpfs(t, 1<<20)
	path := filepath.Join(disk, "audit.log")
	log, err := audit.Open(audit.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg, func(o *idp.Options) { o.Audit = log })
	at, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	diskfull.Fill(t, disk)
	// The last page of the log's file has room still: fill it too, with
	// events of a reason ever shorter, each until one no longer fits.
	for _, n := range []int{1000, 100, 10, 0} {
		for i := 0; ; i++ {
			if i == 64 {
				t.Fatal("the audit log takes events on a full disk")
			}
			if _, err := log.Append(audit.Event{Type: audit.TypeConfigReload, Outcome: audit.Allowed, Reason: strings.Repeat("x", n)}); err != nil {
				break
			}
		}
	}

	req, _ := http.NewRequest(http.MethodPost, p.URL+"/me/access-requests", strings.NewReader(`{"server": "wiki", "reason": "docs"}`))
	req.Header.Set("Authorization", "Bearer "+at)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	desc, _ := body["error_description"].(string)
	if resp.StatusCode != http.StatusInternalServerError || body["error"] != "server_error" || !strings.Contains(desc, "not made") || !strings.Contains(desc, "again later") {
		t.Fatalf("%d %v, want 500 server_error saying the request was not made, to send it again later", resp.StatusCode, body)
	}
	for _, leak := range []string{path, disk, "audit:", "no space left"} {
		if strings.Contains(desc, leak) {
			t.Errorf("the refusal quotes %q: %s", leak, desc)
		}
	}
	if got := p.AccessRequests().List(access.Pending); len(got) != 0 {
		t.Errorf("pending requests %+v, want none: the request was not made", got)
	}
}
