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
	a.mux.HandleFunc("GET /admin/api/access-requests/{id}", a.getAccessRequest)
	a.mux.HandleFunc("POST /admin/api/access-requests/{id}/approve", a.approveAccessRequest)
	a.mux.HandleFunc("POST /admin/api/access-requests/{id}/deny", a.denyAccessRequest)
}

func (a *API) listAccessRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !knownOnly(w, q, []string{"status"}) || !sentOnce(w, q, []string{"status"}) {
		return
	}
	status := q.Get("status")
	switch status {
	case "", access.Pending, access.Approved, access.Denied:
	default:
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "status must be pending, approved or denied (or left out for all)")
		return
	}
	writeAPI(w, http.StatusOK, a.idp.AccessRequests().List(status))
}

// getAccessRequest answers one request as listAccessRequests does: 404
// for an unknown id.
func (a *API) getAccessRequest(w http.ResponseWriter, r *http.Request) {
	req, ok := a.idp.AccessRequests().Get(r.PathValue("id"))
	if !ok {
		a.noAccessRequest(w, r)
		return
	}
	writeAPI(w, http.StatusOK, req)
}

// noAccessRequest answers 404 for the path's {id}, which names no request.
func (a *API) noAccessRequest(w http.ResponseWriter, r *http.Request) {
	writeAPIError(w, http.StatusNotFound, "not_found", fmt.Sprintf("there is no access request %q; GET %s/admin/api/access-requests lists them", audit.Truncate(r.PathValue("id")), a.idp.Path()))
}

// approval is the optional body of .../approve.
type approval struct {
	// ExpiresIn ends the access this long after now on the IdP's clock
	// (a Go duration, 8h or 90m, or days first, 7d or 1d12h:
	// ParseDuration); "" never.
	ExpiresIn string `json:"expires_in"`
	// Scopes narrow what was requested; nil grants all of it.
	Scopes *[]string `json:"scopes"`
}

// maxExpiresInDays bounds the days of an expires_in, so that the
// duration cannot overflow (about 292 years fit in a time.Duration).
const maxExpiresInDays = 100 * 366

// ParseDuration parses an approval's expires_in, and the duration back
// from now of the audit's since (here and in the console): a Go duration
// (8h, 90m), or a whole number of days followed by d, then optionally a
// Go duration for the rest (7d, 1d12h), since access is often granted
// for days and the console offers 7 days, and an audit is read back as
// far.
func ParseDuration(s string) (time.Duration, error) {
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("not a duration such as 8h or 90m, or longer than one can be (about 292 years)")
		}
		return d, nil
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > maxExpiresInDays || days == "" || days[0] < '0' || days[0] > '9' {
		return 0, fmt.Errorf("the days before d must be a whole number up to %d", maxExpiresInDays)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	r, err := time.ParseDuration(rest)
	if err != nil || r < 0 {
		return 0, errors.New("after the days, only a positive duration such as 12h may follow")
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
		a.noAccessRequest(w, r)
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
	// The not_written error of an earlier approval that a full disk
	// refused goes first: without it, that approval reads as made.
	if err := a.settleUnwritten(); err != nil {
		writeAPIError(w, http.StatusInternalServerError, "server_error", a.idp.Audit().Refused(err).Describe("the request was not approved"))
		return
	}
	// An earlier approval added the entry but could not mark the request
	// approved (its answer was a 500): this one marks it, and adds no
	// second entry.
	if change, ok := a.recordedApproval(req); ok {
		decided, err := a.settleApproval(req, change, "the access entry was added by an earlier approval (admin_change "+change.ID+"), which could not mark the request approved; "+adminName(r)+" approved it again")
		if err != nil {
			writeAPIError(w, http.StatusInternalServerError, "server_error", "the access entry was added earlier, but the request could not be marked approved: "+err.Error())
			return
		}
		w.Header().Set("ETag", etag(a.store.Version()))
		writeAPI(w, http.StatusOK, decided)
		return
	}
	cfg := a.cfg()
	srv := cfg.Server(req.Server)
	if srv == nil {
		writeAPIError(w, http.StatusConflict, "conflict", fmt.Sprintf("MCP server %s no longer exists; deny the request", req.Server))
		return
	}
	u := cfg.User(req.User)
	if u == nil || req.Sub != "" && u.Sub != req.Sub { // another user of that name is not the requester
		// Else the entry naming the user would make the configuration
		// invalid: a 400 with the line of an entry never written.
		writeAPIError(w, http.StatusConflict, "conflict", fmt.Sprintf("user %s no longer exists; deny the request", req.User))
		return
	}
	if srv.StandingOf(u, a.now()).Denied {
		// Deny wins: the entry would grant nothing, and the requester
		// would read "approved" and still be refused. A request cannot be
		// made in this state; one made before the deny cannot be approved
		// through it.
		writeAPIError(w, http.StatusConflict, "conflict", fmt.Sprintf("a deny entry of %s names %s, and deny wins over any access entry; remove the deny first, or deny the request", srv.Label(), req.User))
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
		d, err := ParseDuration(body.ExpiresIn)
		switch {
		case err != nil:
			writeAPIError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("expires_in %q: %v; give a positive duration such as 8h, 90m, 7d or 1d12h, or leave it out for access that does not expire", audit.Truncate(body.ExpiresIn), err))
			return
		case d <= 0:
			writeAPIError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("expires_in %q is not a positive duration such as 8h, 90m, 7d or 1d12h; leave it out for access that does not expire", audit.Truncate(body.ExpiresIn)))
			return
		}
		t := ceilSecond(a.idp.Clock().Now().Add(d).UTC())
		if !policy.InTimestampRange(t) {
			// policy.At would wrap it around to another year.
			writeAPIError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("expires_in %q would end the access at %s, after 2261, the last year an access entry's expires may name; give a shorter duration, or leave it out for access that does not expire", audit.Truncate(body.ExpiresIn), t.Format(time.RFC3339)))
			return
		}
		expires, entry.Expires = &t, policy.At(t)
	}
	// The admin_change names the request and what the approval grants,
	// so that the next start can mark the request approved if the process
	// stops between adding the entry and marking it (settleApprovals).
	// It names the user too (details.users, and so the event's user), so
	// that the audit's ?user= finds the edit that gave the access.
	details := map[string]any{"request": req.ID, "granted_scopes": scopes, "users": []string{req.User}}
	if expires != nil {
		details["expires"] = expires.Format(time.RFC3339)
	}
	// The entry replaces the user's entries it covers, and entries that
	// expired go (policy.ApproveServerAccess): the list does not grow with
	// every approval, and the admin_change holds the entries touched.
	now := a.idp.Clock().Now()
	ch := a.editWith(w, r, details, func(tag string, j policy.EditOption) (*policy.Change, error) {
		return a.store.ApproveServerAccess(req.Server, entry, now, tag, j)
	})
	if ch == nil {
		return
	}
	decided, err := a.decideApproval(req, adminName(r), scopes, expires, time.Time{}, "")
	if err != nil {
		writeAPIError(w, http.StatusInternalServerError, "server_error", "the access entry was added, but the request could not be marked approved: "+err.Error()+"; approve it again once the disk is fixed (no second entry is added)")
		return
	}
	w.Header().Set("ETag", etag(ch.Version))
	writeAPI(w, http.StatusOK, decided)
}

// decideApproval marks req approved (at, or now when zero) and appends
// its access_request event; note, when set, ends the event's reason.
func (a *API) decideApproval(req access.Request, admin string, scopes []string, expires *time.Time, at time.Time, note string) (access.Request, error) {
	decided, err := a.idp.AccessRequests().Decide(req.ID, access.Decision{Status: access.Approved, Admin: admin, Granted: scopes, Expires: expires, At: at})
	if err != nil {
		return access.Request{}, err
	}
	ev := a.requestEvent(admin, decided, audit.Approved)
	ev.ScopeGranted = strings.Join(scopes, " ")
	ev.Reason = fmt.Sprintf("approved by %s: %s", admin, lasting(expires))
	if note != "" {
		ev.Reason = audit.Truncate(ev.Reason + "; " + note)
	}
	if expires != nil {
		ev.Details["expires"] = expires.Format(time.RFC3339)
	}
	a.appendEvent(ev)
	return decided, nil
}

// recordedApproval returns the admin_change of an approval of req whose
// access entry was written: outcome allowed, and no not_written error
// after it (reconcile, which runs first at start, appends that error for
// a change the process died before writing). Such a request was approved,
// whether or not it was then marked so.
func (a *API) recordedApproval(req access.Request) (audit.Event, bool) {
	ev, ok := a.recordedApprovals(req.Server)[req.ID]
	return ev, ok
}

// recordedApprovals reads the newest admin_change events (of server, or
// of every server when it is "") once, and returns, by request id, each
// approval's change that was written: not followed by its not_written
// error.
func (a *API) recordedApprovals(server string) map[string]audit.Event {
	if a.store == nil {
		return nil
	}
	found := map[string]audit.Event{}
	notWritten := map[string]bool{}
	// Newest first: a change's not_written error comes before it.
	for _, ev := range a.idp.Audit().Query(audit.Filter{Type: audit.TypeAdminChange, Server: server, Limit: MaxAuditLimit}) {
		id, _ := ev.Details["request"].(string)
		switch {
		case ev.Outcome == audit.Error:
			if changed, ok := ev.Details["changed"].(string); ok {
				notWritten[changed] = true
			}
		case ev.Outcome == audit.Allowed && id != "" && !notWritten[ev.ID]:
			if _, newer := found[id]; !newer {
				found[id] = ev
			}
		}
	}
	return found
}

// settleApproval marks req approved as the approval recorded in change
// did, dated then, and audits it as that approval would have been, with
// why it is settled now.
func (a *API) settleApproval(req access.Request, change audit.Event, why string) (access.Request, error) {
	var scopes []string
	if list, ok := change.Details["granted_scopes"].([]any); ok {
		for _, s := range list {
			if s, ok := s.(string); ok {
				scopes = append(scopes, s)
			}
		}
	}
	var expires *time.Time
	if s, ok := change.Details["expires"].(string); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			expires = &t
		}
	}
	return a.decideApproval(req, change.Admin, scopes, expires, change.Time, why)
}

// settleApprovals runs at start, after reconcile: a pending request whose
// approval's access entry was written (recordedApproval) is one the
// process stopped before marking approved. It is marked approved now, and
// audited as the approval would have been; approving it again would add
// a second entry.
func (a *API) settleApprovals() {
	if a.store == nil || a.store.InMemory() {
		return
	}
	approvals := a.recordedApprovals("") // once, not per pending request
	for _, req := range a.idp.AccessRequests().List(access.Pending) {
		change, ok := approvals[req.ID]
		if !ok {
			continue
		}
		why := "settled at start: the access entry was written (admin_change " + change.ID + "), but the process stopped before the request was marked approved"
		if _, err := a.settleApproval(req, change, why); err != nil {
			slog.Error("access requests: an approval whose access entry was written could not be marked approved", "request", req.ID, "err", err)
			continue
		}
		slog.Info("access requests: marked approved a request whose approval was written before the process stopped", "request", req.ID, "change", change.ID)
	}
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
	// Audited before it is marked: a denial the audit log cannot take
	// (broken, or closed by a stop that stopped waiting for this one) is
	// not made. Until 2026-12-07 it was made without its event.
	var denied *audit.Event
	decided, err := a.idp.AccessRequests().DecideRecorded(req.ID, access.Decision{Status: access.Denied, Admin: adminName(r), Reason: body.Reason}, func(decided access.Request) error {
		ev := a.requestEvent(adminName(r), decided, audit.Denied)
		ev.Error = "access_denied"
		ev.Reason = "denied by " + adminName(r)
		if body.Reason != "" {
			ev.Reason += ": " + body.Reason
		}
		ev, err := a.idp.Audit().Append(ev)
		if err != nil {
			return a.idp.Audit().Refused(err)
		}
		denied = &ev
		return nil
	})
	var (
		np       *access.NotPendingError
		notAudit *audit.RefusedError
	)
	switch {
	case errors.As(err, &np):
		writeAPIError(w, http.StatusConflict, "conflict", fmt.Sprintf("access request %s is already %s", req.ID, np.Request.Status))
		return
	case errors.As(err, &notAudit):
		writeAPIError(w, http.StatusInternalServerError, "server_error", notAudit.Describe("the request was not denied"))
		return
	case err != nil:
		if denied != nil {
			// Its event is in the audit log: say there that the
			// denial was not made.
			ev := *denied
			ev.ID, ev.Time = "", time.Time{}
			ev.Outcome, ev.Error = audit.Error, "not_written"
			ev.Reason = audit.Truncate("the denial was recorded, but the requests' file could not be written, so it was not made: " + err.Error())
			a.appendEvent(ev)
		}
		writeAPIError(w, http.StatusInternalServerError, "server_error", "the request was not marked denied: "+err.Error())
		return
	}
	writeAPI(w, http.StatusOK, decided)
}

// requestEvent is the access_request event of a decision.
func (a *API) requestEvent(admin string, req access.Request, outcome string) audit.Event {
	ev := audit.Event{
		Type: audit.TypeAccessRequest, Outcome: outcome, Admin: admin, User: req.User, Server: req.Server,
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

// ceilSecond is t rounded up to the whole second, as an approval's
// expires is written (RFC 3339 without fractions): rounded down, access
// approved for expires_in would end up to a second early, and an
// expires_in under a second could be over at once.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); r.Before(t) {
		return r.Add(time.Second)
	}
	return t
}
