package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/access"
)

// accessRequest is a pending access request as GET
// /admin/api/access-requests shows it.
type accessRequest struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Server  string    `json:"server"`
	Scopes  []string  `json:"scopes"`
	Reason  string    `json:"reason"`
	Created time.Time `json:"created"`
	// Status and DecidedBy: pending, or approved or denied and by whom.
	Status    string `json:"status"`
	DecidedBy string `json:"decided_by"`
	// ETag is the If-Match of the request's approval, when not the
	// page's: its server's version (the overview's).
	ETag string `json:"-"`
}

// approvalDurations are the choices of the approve form: how long the
// access lasts, as the API's expires_in; "" never ends.
var approvalDurations = []struct{ Label, Value string }{
	{"1 hour", "1h"}, {"8 hours", "8h"}, {"24 hours", "24h"}, {"7 days", "7d"}, {"never expires", ""},
}

// pendingRequests reads the pending requests from the admin API, only
// those for server unless it is "". A failed read shows none: the page
// around them still helps.
func (c *Console) pendingRequests(r *http.Request, server string) []accessRequest {
	var all []accessRequest
	if _, err := c.apiGet(r, "/admin/api/access-requests?status=pending", &all); err != nil {
		return nil
	}
	if server == "" {
		return all
	}
	var out []accessRequest
	for _, q := range all {
		if q.Server == server {
			out = append(out, q)
		}
	}
	return out
}

// backTo is where a decision returns: the page it was made on, which must
// be the overview or a server's page, never another site. The form's value
// is a console path without the tenant's path (Console.url adds it).
// label is the link's text.
func backTo(r *http.Request) (back, label string) {
	// Resolved first, as the browser resolves the redirect (consolePath):
	// /admin/servers/../../ left the console.
	b := consolePath(r.PostFormValue("back"))
	if b == "/admin/" || strings.HasPrefix(b, "/admin/servers/") && !strings.ContainsAny(b, "?#\\") && !strings.Contains(b, "//") {
		back = b
	} else {
		back = "/admin/"
	}
	if back == "/admin/" {
		return back, "Back to the overview"
	}
	return back, "Open the page again"
}

// approveRequest approves through the admin API, with the form's duration,
// its narrowed scopes and the page's version as If-Match.
//
// With every scope of a request that asked for some unchecked, it approves
// nothing: the entry would let the user connect with no scope at all,
// which is hardly what an admin who unchecked them meant (the admin API,
// asked for that explicitly, still allows it: docs/http.md).
func (c *Console) approveRequest(w http.ResponseWriter, r *http.Request, v *viewer) {
	if len(r.PostForm["scopes"]) == 0 {
		for _, q := range c.pendingRequests(r, "") {
			if q.ID == r.PathValue("id") && len(q.Scopes) > 0 {
				back, label := backTo(r)
				c.errorPageTo(w, r, v, http.StatusBadRequest, "Not decided",
					"Check at least one scope to approve: "+q.User+" asked for "+strings.Join(q.Scopes, " ")+", and an access entry with none would grant no scope. To refuse the request, deny it.", label, back)
				return
			}
		}
	}
	body := map[string]any{"scopes": append([]string{}, r.PostForm["scopes"]...)}
	if d := r.PostFormValue("expires_in"); d != "" {
		body["expires_in"] = d
	}
	c.decide(w, r, v, "approve", body)
}

func (c *Console) denyRequest(w http.ResponseWriter, r *http.Request, v *viewer) {
	body := map[string]any{}
	if reason := strings.TrimSpace(r.PostFormValue("reason")); reason != "" {
		body["reason"] = reason
	}
	c.decide(w, r, v, "deny", body)
}

// decidedMessages are the flashes of the page a decision returns to.
var decidedMessages = map[string]string{
	"approve": "Access request approved: the access entry was added. It applies to the next token exchange.",
	"deny":    "Access request denied.",
}

// decidedStatus is the status a request has after each decision.
var decidedStatus = map[string]string{"approve": access.Approved, "deny": access.Denied}

// decide posts a decision to the admin API and returns to the page it was
// made on, which says what happened; a refusal gets an error page saying
// why.
func (c *Console) decide(w http.ResponseWriter, r *http.Request, v *viewer, action string, body map[string]any) {
	b, _ := json.Marshal(body)
	header := http.Header{}
	if etag := r.PostFormValue("etag"); etag != "" && action == "approve" {
		header.Set("If-Match", etag)
	}
	a := c.api(r, http.MethodPost, "/admin/api/access-requests/"+url.PathEscape(r.PathValue("id"))+"/"+action, header, b, v.CSRF)
	back, label := backTo(r)
	if a.Status == http.StatusOK {
		c.redirectWithFlash(w, r, v, back, decidedMessages[action])
		return
	}
	// Decided already as this decision would (a second click on the
	// button while the first was under way, whose answer the browser
	// dropped for this one's, or another admin at the same time): the
	// page says so, as it says a decision made.
	if a.Status == http.StatusConflict {
		var q accessRequest
		if _, err := c.apiGet(r, "/admin/api/access-requests/"+url.PathEscape(r.PathValue("id")), &q); err == nil && q.Status == decidedStatus[action] {
			by := ""
			if q.DecidedBy != "" {
				by = " by " + q.DecidedBy
			}
			c.redirectWithFlash(w, r, v, back, "Access request "+q.Status+" already"+by+": nothing more was changed.")
			return
		}
	}
	msg := a.apiError()
	if a.Status == http.StatusPreconditionFailed {
		msg = "Someone else changed the configuration since you opened the page, so nothing was approved. Open the page again to see the current version, and decide again."
	}
	c.errorPageTo(w, r, v, a.Status, "Not decided", msg, label, back)
}
