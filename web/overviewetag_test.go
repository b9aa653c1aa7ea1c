package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// approveETag is the If-Match of the first approve form of a page.
var approveETag = regexp.MustCompile(`class="approve">\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="etag" value="([^"]+)">`)

// TestOverview_ApprovalOutlivesAnUnrelatedChange: bob's request for the
// tracker is on the overview when another change lands that leaves the
// tracker as it was (a group's description, as a SCIM sync or another
// admin writes). Alice's approval from the overview goes through, as it
// does from the tracker's page, whose version is the tracker's: the
// overview's was the whole configuration's, so that any change anywhere
// since the page was opened refused the approval as "someone else changed
// the configuration".
func TestOverview_ApprovalOutlivesAnUnrelatedChange(t *testing.T) {
	p := start(t)
	id := requestAccess(t, p)
	b := p.browser(t)
	b.signIn("alice", "alice")
	_, page := b.get("/admin/")
	form := url.Values{"csrf": {csrf(t, page)}, "back": {"/admin/"}, "scopes": {"issues.read"}}
	m := approveETag.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no ETag in the approve form:\n%s", page)
	}
	form.Set("etag", strings.ReplaceAll(m[1], "&#34;", `"`))
	if _, err := p.Store.PutGroup(policy.Group{Name: "sales", Description: "Sells the product"}, "*"); err != nil {
		t.Fatal(err)
	}
	resp, body := b.noRedirects().post("/admin/access-requests/"+id+"/approve", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the approval after an unrelated change: %d\n%s", resp.StatusCode, body)
	}
	if req, _ := p.IdP.AccessRequests().Get(id); req.Status != "approved" {
		t.Errorf("the request is %s", req.Status)
	}

	// A change of the tracker itself still refuses it, as on its page.
	id = requestAccess(t, p)
	_, page = b.get("/admin/")
	m = approveETag.FindStringSubmatch(page)
	form.Set("etag", strings.ReplaceAll(m[1], "&#34;", `"`))
	s := *p.Store.Config().Server("tracker")
	s.Name = "Issues"
	if _, err := p.Store.PutServer(s, "*"); err != nil {
		t.Fatal(err)
	}
	resp, body = b.noRedirects().post("/admin/access-requests/"+id+"/approve", form)
	if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(body, "changed") {
		t.Errorf("the approval after a change of the tracker: %d\n%s", resp.StatusCode, body)
	}
}
