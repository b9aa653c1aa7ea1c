package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// This file is the approver's side of access requests (docs/http.md,
// "Access requests"): users ask at the IdP (POST /me/access-requests),
// admins list them here and approve or deny them. An approval adds an
// access entry through edit, the write path of every configuration change,
// so it is journaled and audited as an admin_change like any other.

func (a *API) accessRequestRoutes() {
	a.mux.HandleFunc("GET /admin/api/access-requests", a.listAccessRequests)
	a.mux.HandleFunc("POST /admin/api/access-requests/{id}/approve", a.approveAccessRequest)
	a.mux.HandleFunc("POST /admin/api/access-requests/{id}/deny", a.denyAccessRequest)
}

func (a *API) listAccessRequests(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	switch status {
	case "", access.Pending, access.Approved, access.Denied:
	default:
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "status must be pending, approved or denied (or left out for all)")
		return
	}
	writeAPI(w, http.StatusOK, a.idp.AccessRequests().List(status))
}

// approval is the optional body of .../approve.
type approval struct {
	// ExpiresIn ends the access this long after now on the IdP's clock
	// (a Go duration, 8h or 90m, or days first, 7d or 1d12h:
	// parseExpiresIn); "" never.
	ExpiresIn string `json:"expires_in"`
	// Scopes narrow what was requested; nil grants all of it.
	Scopes *[]string `json:"scopes"`
}

// maxExpiresInDays bounds the days of an expires_in, so that the
// duration cannot overflow (about 292 years fit in a time.Duration).
const maxExpiresInDays = 100 * 366

// parseExpiresIn parses an approval's expires_in: a Go duration (8h,
// 90m), or a whole number of days followed by d, then optionally a Go
// duration for the rest (7d, 1d12h), since access is often granted for
// days and the console offers 7 days.
func parseExpiresIn(s string) (time.Duration, error) {
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		return time.ParseDuration(s)
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > maxExpiresInDays || days == "" || days[0] < '0' || days[0] > '9' {
		return 0, fmt.Errorf("%q: the days before d must be a whole number up to %d", s, maxExpiresInDays)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	r, err := time.ParseDuration(rest)
	if err != nil || r < 0 {
		return 0, fmt.Errorf("%q: after the days, a duration such as 12h: %v", s, err)
	}
	return d + r, nil
}

// denial is the optional body of .../deny.
type denial struct {
	Reason string `json:"reason"`
}

// readOptional decodes an optional JSON body into v: an empty body leaves
// v as it is; anything else must pass readBody and fit v exactly.
func readOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 {
		return true
	}
	raw, ok := readBody(w, r, maxBody)
	if !ok {
		return false
	}
	if err := decodeStrict(raw, v); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the body does not fit: "+err.Error()+"; see docs/http.md, \"Access requests\"")
		return false
	}
	return true
}

// pendingRequest returns the pending request the path names, or answers
// 404 or 409 itself.
func (a *API) pendingRequest(w http.ResponseWriter, r *http.Request) (access.Request, bool) {
	req, ok := a.idp.AccessRequests().Get(r.PathValue("id"))
	switch {
	case !ok:
		writeAPIError(w, http.StatusNotFound, "not_found", fmt.Sprintf("there is no access request %q; GET /admin/api/access-requests lists them", audit.Truncate(r.PathValue("id"))))
	case req.Status != access.Pending:
		writeAPIError(w, http.StatusConflict, "conflict", fmt.Sprintf("access request %s is already %s", req.ID, req.Status))
	default:
		return req, true
	}
	return access.Request{}, false
}

func (a *API) approveAccessRequest(w http.ResponseWriter, r *http.Request) {
	var body approval
	if !readOptional(w, r, &body) {
		return
	}
	// One decision at a time: a request approved twice at once would
	// add two entries.
	a.decisions.Lock()
	defer a.decisions.Unlock()
	req, ok := a.pendingRequest(w, r)
	if !ok {
		return
	}
	srv := a.cfg().Server(req.Server)
	if srv == nil {
		writeAPIError(w, http.StatusConflict, "conflict", fmt.Sprintf("MCP server %s no longer exists; deny the request", req.Server))
		return
	}
	scopes := req.Scopes
	if body.Scopes != nil {
		// A scope named twice is granted once: the access entry may list
		// each scope only once, as the request itself does.
		scopes = slices.Compact(slices.Sorted(slices.Values(*body.Scopes)))
		if extra := minus(scopes, req.Scopes); len(extra) > 0 {
			writeAPIError(w, http.StatusBadRequest, "invalid_scope", fmt.Sprintf("%s asked for %s; an approval may narrow that, not add %s", req.User, orNothing(req.Scopes), strings.Join(extra, " ")))
			return
		}
	}
	// The server's scopes may have changed since the request: say so,
	// rather than answer with the invalid configuration the entry would
	// make.
	if unknown := srv.UnknownScopes(scopes); len(unknown) > 0 {
		writeAPIError(w, http.StatusBadRequest, "invalid_scope", fmt.Sprintf("%s no longer knows %s; its scopes are %s; approve with \"scopes\" narrowed to those it knows, or deny the request", srv.Label(), strings.Join(unknown, " "), orNothing(srv.Scopes)))
		return
	}
	entry := policy.Access{Users: []string{req.User}, Scopes: scopes}
	var expires *time.Time
	if body.ExpiresIn != "" {
		d, err := parseExpiresIn(body.ExpiresIn)
		if err != nil || d <= 0 {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("expires_in %q is not a positive duration such as 8h, 90m, 7d or 1d12h; leave it out for access that does not expire", audit.Truncate(body.ExpiresIn)))
			return
		}
		t := a.idp.Clock().Now().Add(d).UTC().Truncate(time.Second)
		expires, entry.Expires = &t, policy.At(t)
	}
	ch := a.edit(w, r, func(tag string, j policy.EditOption) (*policy.Change, error) {
		return a.store.AddServerAccess(req.Server, entry, tag, j)
	})
	if ch == nil {
		return
	}
	decided, err := a.idp.AccessRequests().Decide(req.ID, access.Decision{Status: access.Approved, Admin: adminName(r), Granted: scopes, Expires: expires})
	if err != nil {
		writeAPIError(w, http.StatusInternalServerError, "server_error", "the access entry was added, but the request could not be marked approved: "+err.Error())
		return
	}
	ev := a.requestEvent(r, decided, audit.Approved)
	ev.ScopeGranted = strings.Join(scopes, " ")
	ev.Reason = fmt.Sprintf("approved by %s: %s", adminName(r), lasting(expires))
	if expires != nil {
		ev.Details["expires"] = expires.Format(time.RFC3339)
	}
	a.appendEvent(ev)
	w.Header().Set("ETag", etag(ch.Version))
	writeAPI(w, http.StatusOK, decided)
}

func (a *API) denyAccessRequest(w http.ResponseWriter, r *http.Request) {
	var body denial
	if !readOptional(w, r, &body) {
		return
	}
	if access.ReasonTooLong(body.Reason) {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("the reason is %d characters; at most %d are kept", utf8.RuneCountInString(body.Reason), access.MaxReasonChars))
		return
	}
	a.decisions.Lock()
	defer a.decisions.Unlock()
	req, ok := a.pendingRequest(w, r)
	if !ok {
		return
	}
	decided, err := a.idp.AccessRequests().Decide(req.ID, access.Decision{Status: access.Denied, Admin: adminName(r), Reason: body.Reason})
	var np *access.NotPendingError
	switch {
	case errors.As(err, &np):
		writeAPIError(w, http.StatusConflict, "conflict", fmt.Sprintf("access request %s is already %s", req.ID, np.Request.Status))
		return
	case err != nil:
		writeAPIError(w, http.StatusInternalServerError, "server_error", "the request was not marked denied: "+err.Error())
		return
	}
	ev := a.requestEvent(r, decided, audit.Denied)
	ev.Error = "access_denied"
	ev.Reason = "denied by " + adminName(r)
	if body.Reason != "" {
		ev.Reason += ": " + body.Reason
	}
	a.appendEvent(ev)
	writeAPI(w, http.StatusOK, decided)
}

// requestEvent is the access_request event of a decision.
func (a *API) requestEvent(r *http.Request, req access.Request, outcome string) audit.Event {
	ev := audit.Event{
		Type: audit.TypeAccessRequest, Outcome: outcome, Admin: adminName(r), User: req.User, Server: req.Server,
		ScopeRequested: strings.Join(req.Scopes, " "), Details: map[string]any{"request": req.ID},
	}
	if u := a.cfg().User(req.User); u != nil {
		ev.Sub = u.Sub
	}
	return ev
}

func (a *API) appendEvent(ev audit.Event) {
	if _, err := a.idp.Audit().Append(ev); err != nil {
		// The decision stands (the configuration change is journaled on
		// its own); the process log says what the audit log lacks.
		slog.Error("audit log: an access request's decision was not recorded", "request", ev.Details["request"], "outcome", ev.Outcome, "err", err)
	}
}

// lasting says how long approved access lasts.
func lasting(expires *time.Time) string {
	if expires == nil {
		return "access does not expire"
	}
	return "access expires " + expires.Format(time.RFC3339)
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func orNothing(scopes []string) string {
	if len(scopes) == 0 {
		return "no scopes"
	}
	return strings.Join(scopes, " ")
}
