package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFlash_ShownOnce: the message of a save (or a decision) is shown on
// the page the change returns to, once: reloading that page, or opening its
// address again, shows it no more, and the address it returns to carries
// no parameter that would bring the message back.
func TestFlash_ShownOnce(t *testing.T) {
	p, b := signedIn(t)
	_, token, etag := openServer(t, b, "tracker")
	resp, body := b.post("/admin/servers/tracker/access", assignSales(token, etag))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Assignments saved") {
		t.Fatalf("the save: %d\n%s", resp.StatusCode, body)
	}
	if resp.Request.URL.RawQuery != "" {
		t.Errorf("the save returns to %s: a reload of it would say saved again", resp.Request.URL)
	}
	if _, body := b.get(resp.Request.URL.RequestURI()); strings.Contains(body, "Assignments saved") {
		t.Error("reloading the page after the save says saved again")
	}
	if _, body := b.get("/admin/servers/tracker?saved=access"); strings.Contains(body, "Assignments saved") {
		t.Error("the old ?saved= address says saved")
	}

	id := requestAccess(t, p)
	_, page := b.get("/admin/")
	resp, body = b.post("/admin/access-requests/"+id+"/deny", url.Values{"csrf": {csrf(t, page)}, "back": {"/admin/"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Access request denied.") {
		t.Fatalf("the decision: %d\n%s", resp.StatusCode, body)
	}
	if _, body := b.get(resp.Request.URL.RequestURI()); strings.Contains(body, "Access request denied.") {
		t.Error("reloading the overview after the decision says denied again")
	}
}
