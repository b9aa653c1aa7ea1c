package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestAudit_DetailsAndExportWithoutHTMLEscapes: an event's details on the
// audit page and the JSON Lines export show &, < and > as the audit file
// and the admin API write them. The page's details and the export went
// through encoding/json's HTML escapes: the demo's "R&D" read
// R\u0026D on the page (its template escapes for HTML itself), and the
// export was not the file's lines it says it is.
func TestAudit_DetailsAndExportWithoutHTMLEscapes(t *testing.T) {
	p, b := signedIn(t)
	if _, err := p.IdP.Audit().Append(audit.Event{Type: audit.TypeAdminChange, Outcome: audit.Allowed, Admin: "alice", Reason: "escapes",
		Details: map[string]any{"department": "R&D <ops>"}}); err != nil {
		t.Fatal(err)
	}
	resp, body := b.get("/admin/audit?type=admin_change")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "R&amp;D &lt;ops&gt;") || strings.Contains(body, `\u0026`) {
		t.Errorf("audit page: %d, details not shown as R&D <ops> (HTML-escaped once):\n%s", resp.StatusCode, body)
	}
	resp, body = b.get("/admin/audit/export?type=admin_change")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"department":"R&D <ops>"`) {
		t.Errorf("export: %d, want the file's line with R&D <ops>:\n%s", resp.StatusCode, body)
	}
}
