package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestAudit_ServerFilterOfAFormerServersID: events keep the id of a
// server since deleted, which may be the name of a server now (files
// replaced by files-v2, named "files"); the server filter refused that id
// at its field as a name, so the former server's events could not be
// found. A name is pointed out only when it matches no event.
func TestAudit_ServerFilterOfAFormerServersID(t *testing.T) {
	p, b := signedIn(t)
	s := *p.Store.Config().Server("tracker")
	s.Name = "wiki"
	if _, err := p.Store.PutServer(s, p.Store.Version()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.IdP.Audit().Append(audit.Event{Type: audit.TypeTokenExchange, Outcome: audit.Allowed, User: "alice", Server: "wiki", Reason: "of the former wiki"}); err != nil {
		t.Fatal(err)
	}
	resp, body := b.get("/admin/audit?server=wiki")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "of the former wiki") {
		t.Errorf("the former server's id as the filter: %d, its event not shown:\n%s", resp.StatusCode, body)
	}
	// A name that matches no event is still pointed out.
	resp, body = b.get("/admin/audit?server=WIKI")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "the name of MCP server tracker") {
		t.Errorf("a server's name matching no event: %d, not refused at its field:\n%s", resp.StatusCode, body)
	}
}
