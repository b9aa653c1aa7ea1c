package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
	"github.com/xaa-idp/xaa-idp/internal/redact"
	"github.com/xaa-idp/xaa-idp/internal/strictjson"
	"github.com/xaa-idp/xaa-idp/policy"
)

// This file is the configuration half of the API: MCP servers, their
// access and deny lists, users, groups and clients, read and changed at
// runtime through the policy.Store, which validates, writes back and swaps
// in every change (see policy.Store for the guarantees).
//
// Concurrency control is HTTP's: every GET answers an ETag, and every
// change must send it back in If-Match (RFC 9110 section 13.1.1). The ETag
// of GET /admin/api/servers/{id} covers that server only, so an admin
// editing one server is not stopped by changes elsewhere; every other ETag
// is the whole document's, and the server routes accept it too. A stale
// ETag is refused with 412 and nothing changes. If-Match is optional
// (docs/http.md: the API honours If-Match, it does not demand it): a change
// without it, like "If-Match: *", applies to whatever is current. The
// console always sends it.

func (a *API) configRoutes() {
	a.mux.HandleFunc("GET /admin/api/servers", a.listServers)
	a.mux.HandleFunc("GET /admin/api/servers/{id}", a.getServer)
	a.mux.HandleFunc("PUT /admin/api/servers/{id}", a.putServer)
	a.mux.HandleFunc("DELETE /admin/api/servers/{id}", a.deleteServer)
	a.mux.HandleFunc("GET /admin/api/servers/{id}/access", a.getAccess)
	a.mux.HandleFunc("PUT /admin/api/servers/{id}/access", a.putAccess)
	a.mux.HandleFunc("GET /admin/api/servers/{id}/deny", a.getDeny)
	a.mux.HandleFunc("PUT /admin/api/servers/{id}/deny", a.putDeny)
	a.mux.HandleFunc("GET /admin/api/users", a.listUsers)
	a.mux.HandleFunc("GET /admin/api/users/{username}", a.getUser)
	a.mux.HandleFunc("PUT /admin/api/users/{username}", a.putUser)
	a.mux.HandleFunc("PATCH /admin/api/users/{username}", a.patchUser)
	a.mux.HandleFunc("DELETE /admin/api/users/{username}", a.deleteUser)
	a.mux.HandleFunc("GET /admin/api/groups", a.listGroups)
	a.mux.HandleFunc("GET /admin/api/groups/{name}", a.getGroup)
	a.mux.HandleFunc("PUT /admin/api/groups/{name}", a.putGroup)
	a.mux.HandleFunc("DELETE /admin/api/groups/{name}", a.deleteGroup)
	a.mux.HandleFunc("GET /admin/api/clients", a.listClients)
	a.mux.HandleFunc("GET /admin/api/clients/{client_id}", a.getClient)
	a.mux.HandleFunc("PUT /admin/api/clients/{client_id}", a.putClient)
	a.mux.HandleFunc("DELETE /admin/api/clients/{client_id}", a.deleteClient)
	a.mux.HandleFunc("GET /admin/api/config/yaml", a.configYAML)
	a.mux.HandleFunc("GET /admin/api/status", a.status)
}

// cfg is the configuration the API shows: the store's, which is the
// running one, or the IdP's when there is no store.
func (a *API) cfg() *policy.Config {
	if a.store != nil {
		return a.store.Config()
	}
	return a.idp.Config()
}

// etag quotes a version as an entity tag.
func etag(version string) string { return `"` + version + `"` }

// view is the configuration a GET shows, as cfg, with the ETag of that
// version of the document ("" without a store). They are of one version:
// an ETag newer than the body would let a change based on the body
// overwrite, unseen, the change in between.
func (a *API) view() (*policy.Config, string) {
	if a.store == nil {
		return a.idp.Config(), ""
	}
	sn := a.store.Snapshot()
	return sn.Config, etag(sn.Version)
}

// ifMatch returns the entity tags of the If-Match header without their
// quotes; an unquoted * stands for itself. A weak tag (W/"...") is kept
// with its prefix, so that it never matches: If-Match compares strongly.
// So is a quoted "*", an entity tag that no version has, not the wildcard.
func ifMatch(r *http.Request) []string {
	var tags []string
	for _, h := range r.Header.Values("If-Match") {
		for _, t := range strings.Split(h, ",") {
			if t = strings.TrimSpace(t); t != "" {
				if u := strings.Trim(t, `"`); !strings.HasPrefix(t, "W/") && (u != "*" || t == "*") {
					t = u
				}
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// edit runs a change of the configuration under the request's If-Match
// tags (the first that is current wins), answers its errors, audits it,
// and returns it; nil when the answer has been written.
//
// The admin_change event is appended, durably, before the file is
// replaced (policy.Journal): a change on disk is always in the audit log,
// even if the process dies right after writing it. If the file is then not
// replaced, an admin_change with outcome error follows; if the process
// dies before, the next start appends it (see reconcile).
func (a *API) edit(w http.ResponseWriter, r *http.Request, change func(ifMatch string, j policy.EditOption) (*policy.Change, error)) *policy.Change {
	return a.editWith(w, r, nil, change)
}

// editWith is edit with details added to the admin_change event: what
// the next start needs to settle what the change was made for (an
// approval's request, approveAccessRequest).
func (a *API) editWith(w http.ResponseWriter, r *http.Request, details map[string]any, change func(ifMatch string, j policy.EditOption) (*policy.Change, error)) *policy.Change {
	return a.editRefusing(w, r, details, a.editError, change)
}

// editRefusing is editWith answering a refused change with refuse.
func (a *API) editRefusing(w http.ResponseWriter, r *http.Request, details map[string]any, refuse func(http.ResponseWriter, error), change func(ifMatch string, j policy.EditOption) (*policy.Change, error)) *policy.Change {
	if a.store == nil {
		writeAPIError(w, http.StatusNotImplemented, "not_implemented", noStore)
		return nil
	}
	return a.editAs(w, r, details, refuse, change)
}

// noStore is why a change is refused without a Store.
const noStore = "this server was started without a configuration store, so the configuration cannot be changed here"

// editAs is editWith answering a refused change with refuse: the admin
// API's answer or SCIM's. The Store must be set.
func (a *API) editAs(w http.ResponseWriter, r *http.Request, details map[string]any, refuse func(http.ResponseWriter, error), change func(ifMatch string, j policy.EditOption) (*policy.Change, error)) *policy.Change {
	tags := ifMatch(r)
	if len(tags) == 0 {
		tags = []string{"*"}
		// An If-Match header that names no version is not "*": the
		// console sends its page's version this way, and a page without
		// one must get 428, not overwrite whatever is current.
		if _, sent := r.Header["If-Match"]; sent {
			tags = []string{""}
		}
	}
	var recorded *audit.Event
	journal := policy.Journal(func(ch *policy.Change) error {
		if err := a.settleUnwritten(); err != nil {
			return a.idp.Audit().Refused(err)
		}
		ev := changeEvent(r, ch, a.store)
		maps.Copy(ev.Details, details)
		if users, _ := details["users"].([]string); len(users) == 1 && ev.User == "" {
			// The one user a change of a group's members gave or
			// took it from: the audit's ?user= finds it.
			ev.User = audit.Truncate(users[0])
		}
		ev, err := a.idp.Audit().Append(ev)
		if err != nil {
			return a.idp.Audit().Refused(err)
		}
		recorded = &ev
		return nil
	})
	var ch *policy.Change
	var err error
	for _, tag := range tags {
		ch, err = change(tag, journal)
		var stale *policy.StaleError
		if !errors.As(err, &stale) {
			break
		}
	}
	if err != nil {
		if recorded != nil {
			why := err.Error()
			if unwritten := (*policy.WriteError)(nil); errors.As(err, &unwritten) {
				why, _ = unwrittenWhy(unwritten)
				why = unwritten.File + " could not be written: " + why
			}
			a.notWritten(*recorded, "the change was recorded but the file could not be replaced, so it was not made: "+why)
		}
		refuse(w, err)
		return nil
	}
	return ch
}

// notWritten appends the admin_change with outcome error that follows the
// recorded change ev when its file was not replaced.
func (a *API) notWritten(ev audit.Event, reason string) {
	details := map[string]any{"changed": ev.ID}
	for _, k := range []string{"object", "action", "name", "version", "previous_version", "file", "request"} {
		if v, ok := ev.Details[k]; ok {
			details[k] = v
		}
	}
	ev.ID, ev.Time = "", time.Time{}
	ev.Outcome, ev.Error, ev.Details = audit.Error, "not_written", details
	ev.Reason = audit.Truncate(reason)
	if _, err := a.idp.Audit().Append(ev); err != nil {
		slog.Error("audit log: the failure of a recorded configuration change was not recorded; it is appended before the next change", "change", details["changed"], "err", err)
		a.unsettledMu.Lock()
		a.unsettled = append(a.unsettled, ev)
		a.unsettledMu.Unlock()
	}
}

// settleUnwritten appends the not_written errors that notWritten could
// not, oldest first, before another change is recorded: reconcile settles
// only the newest change at the next start, so a change recorded after
// one of them would leave that one in the audit log as made. An error
// refuses the change about to be recorded.
func (a *API) settleUnwritten() error {
	a.unsettledMu.Lock()
	defer a.unsettledMu.Unlock()
	for len(a.unsettled) > 0 {
		if _, err := a.idp.Audit().Append(a.unsettled[0]); err != nil {
			return err
		}
		a.unsettled = a.unsettled[1:]
	}
	a.unsettled = nil
	return nil
}

// reconcile runs at start: when the newest configuration change in the
// audit log was recorded but the file still holds the version it was made
// on (the process died after recording it and before replacing the file),
// it appends the admin_change with outcome error that the dead process
// could not.
//
// A file that holds neither the change nor its base was written and then
// changed by someone else: by hand, by a reload the log records after the
// change, or, with tenants, by another tenant's edit, whose events this
// tenant's view of the log does not show. The change was made, so nothing
// is appended.
func (a *API) reconcile() {
	if a.store == nil || a.store.InMemory() {
		return
	}
	file := a.store.File()
	for _, ev := range a.idp.Audit().Query(audit.Filter{Type: audit.TypeAdminChange, Limit: MaxAuditLimit}) {
		version, ok := ev.Details["version"].(string)
		if !ok || ev.Details["file"] != file {
			continue // faults or the clock, or another file
		}
		if ev.Outcome != audit.Allowed || version == a.store.Version() || ev.Details["previous_version"] != a.store.Version() || a.reloadedSince(ev) {
			return
		}
		a.notWritten(ev, fmt.Sprintf("the change to version %s was recorded, but the process stopped before the file was replaced: %s holds version %s, the one the change was made on", version, file, a.store.Version()))
		return
	}
}

// reloadedSince reports whether the log records a reload of the change's
// file after the change: the file was changed on disk since, so what it
// holds says nothing of whether the change was written.
func (a *API) reloadedSince(change audit.Event) bool {
	for _, ev := range a.idp.Audit().Query(audit.Filter{Type: audit.TypeConfigReload, Limit: MaxAuditLimit}) {
		if ev.Details["file"] == change.Details["file"] {
			return ev.Time.After(change.Time) || ev.Time.Equal(change.Time) && ev.ID > change.ID
		}
	}
	return false
}

// editError answers a refused change as the admin API does.
func (a *API) editError(w http.ResponseWriter, err error) {
	writeRefusal(w, refusalOf(err))
}

// writeRefusal answers a refused change in the admin API's format.
func writeRefusal(w http.ResponseWriter, f editRefusal) {
	switch {
	case f.etag != "":
		w.Header().Set("ETag", f.etag)
		writeAPI(w, f.status, map[string]any{"error": f.code, "error_description": f.desc, "etag": f.etag})
	case f.problems != nil:
		writeAPI(w, f.status, map[string]any{"error": f.code, "error_description": f.desc, "problems": f.problems})
	default:
		writeAPIError(w, f.status, f.code, f.desc)
	}
}

// editRefusal is why a change was refused, for an answer: the admin API's
// (editError) or SCIM's (scimEditError).
type editRefusal struct {
	status     int
	code, desc string
	problems   []problem // nil when the refusal has none
	etag       string    // the running version, for 412
}

// refusalOf is the answer to a change refused with err.
func refusalOf(err error) editRefusal {
	var (
		problems  policy.Problems
		stale     *policy.StaleError
		missing   *policy.NotFoundError
		conflict  *policy.ConflictError
		journal   *policy.JournalError
		changed   *policy.ChangedOnDiskError
		readOnly  *policy.ReadOnlyError
		unwritten *policy.WriteError
		aliased   *policy.AliasEditError
		last      *policy.LastAdminError
	)
	switch {
	case errors.As(err, &last):
		return editRefusal{status: http.StatusConflict, code: "conflict",
			desc: strings.TrimPrefix(last.Error(), "policy: ") + " (nothing was changed)"}
	case errors.As(err, &journal):
		return editRefusal{status: http.StatusInternalServerError, code: "server_error",
			desc: describeUnaudited(journal.Err)}
	case errors.As(err, &changed):
		return editRefusal{status: http.StatusConflict, code: "conflict",
			desc: fmt.Sprintf("%s was changed on disk by someone else while this change was being made; this change was not made, so as not to overwrite theirs: read the configuration again and redo it", changed.File)}
	case errors.As(err, &readOnly):
		return editRefusal{status: http.StatusConflict, code: "conflict",
			desc: fmt.Sprintf("the configuration file %s cannot be changed here: %s; nothing was changed: make it writable to change the configuration here", readOnly.File, readOnly.Err)}
	case errors.As(err, &unwritten):
		return editRefusal{status: http.StatusInternalServerError, code: "server_error", desc: unwrittenDescription(unwritten)}
	case errors.As(err, &aliased):
		return editRefusal{status: http.StatusConflict, code: "conflict", desc: aliased.Error(),
			problems: problemList(policy.Problems{{File: aliased.File, Line: aliased.Line, Msg: "an alias (*name) shares the value this change edits; write the value out here"}})}
	case errors.As(err, &conflict):
		return editRefusal{status: http.StatusConflict, code: "conflict",
			desc:     fmt.Sprintf("%s was changed on disk by someone else and cannot be loaded, so changes here are refused until it is fixed (nothing was changed)", conflict.File),
			problems: problemList(conflict.Err)}
	case errors.As(err, &problems):
		return editRefusal{status: http.StatusBadRequest, code: "invalid_config",
			desc:     fmt.Sprintf("the change would make the configuration invalid (%d problem(s)); nothing was changed", len(problems)),
			problems: problemList(problems)}
	case errors.Is(err, policy.ErrPreconditionRequired):
		return editRefusal{status: http.StatusPreconditionRequired, code: "precondition_required",
			desc: "send If-Match with the ETag of the version you edited (from a GET), or If-Match: * to overwrite whatever is current"}
	case errors.As(err, &stale):
		return editRefusal{status: http.StatusPreconditionFailed, code: "precondition_failed",
			desc: "the configuration was changed since you read it (the If-Match ETag is not current); nothing was changed: read it again, check the other change, and redo yours",
			etag: etag(stale.Version)}
	case errors.As(err, &missing):
		return editRefusal{status: http.StatusNotFound, code: "not_found", desc: fmt.Sprintf("there is no %s %q", missing.Kind, missing.Name)}
	}
	return editRefusal{status: http.StatusInternalServerError, code: "server_error", desc: err.Error()}
}

// unwrittenDescription says, in plain words, why the configuration file
// could not be replaced and what to do, rather than the failed system
// call on its temporary file (until 2026-12-07: "policy: writing
// /etc/xaa-idp/idp.yaml: write /etc/xaa-idp/.idp.yaml.3187074069.xaa-idp-tmp:
// no space left on device").
func unwrittenDescription(e *policy.WriteError) string {
	why, todo := unwrittenWhy(e)
	return fmt.Sprintf("the configuration file %s could not be written: %s; nothing was changed (the file and the running configuration are as they were): %s", e.File, why, todo)
}

// unwrittenWhy is why the file of e could not be written, and what to do.
func unwrittenWhy(e *policy.WriteError) (why, todo string) {
	why, todo = audit.DiskWhy(e.Err)
	if why == "" {
		why = strings.TrimPrefix(e.Err.Error(), "policy: ")
	}
	return why, todo + " and redo the change"
}

// describeUnaudited describes a journal's error (editAs's: an
// *audit.RefusedError) in plain words.
func describeUnaudited(err error) string {
	const what = "the change was not made"
	if refused := (*audit.RefusedError)(nil); errors.As(err, &refused) {
		return refused.Describe(what)
	}
	return what + ": its audit event could not be written: " + err.Error()
}

// problem is one validation problem in an error answer.
type problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func problemList(err error) []problem {
	var ps policy.Problems
	if !errors.As(err, &ps) {
		return []problem{{Message: err.Error()}}
	}
	out := make([]problem, len(ps))
	for i, p := range ps {
		out[i] = problem{File: p.File, Line: p.Line, Message: p.Msg}
	}
	return out
}

// readJSON decodes a change's body into v: one JSON object (readBody's
// checks), the configuration's key names, unknown keys refused (as in the
// file), except the read-only keys of the API's own answers (ignore), so
// that what a GET answered can be sent back. It answers 400, 413 or 415
// itself and reports false.
func readJSON(w http.ResponseWriter, r *http.Request, v any, ignore ...string) (map[string]json.RawMessage, bool) {
	raw, ok := readBody(w, r, maxBody)
	if !ok {
		return nil, false
	}
	return decodeJSON(w, raw, v, ignore...)
}

// decodeJSON is readJSON's decoding of a body readBody accepted.
func decodeJSON(w http.ResponseWriter, raw []byte, v any, ignore ...string) (map[string]json.RawMessage, bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the body must be a JSON object with the configuration's key names (docs/configuration.md)")
		return nil, false
	}
	if len(ignore) > 0 {
		for k := range fields {
			if slices.ContainsFunc(ignore, func(i string) bool { return strings.EqualFold(k, i) }) {
				delete(fields, k)
			}
		}
		raw, _ = json.Marshal(fields)
	}
	if err := decodeStrict(raw, v); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the body does not fit: "+err.Error()+"; use the configuration's key names (docs/configuration.md)")
		return nil, false
	}
	return fields, true
}

// given reports whether a body readJSON read has key, matched as
// decoding matches it (encoding/json folds case: "Password" is the
// password).
func given(fields map[string]json.RawMessage, key string) bool {
	for k := range fields {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// readList reads a list body: the JSON array itself, or an object holding
// it under key ({"access": [...]}, the shape of the server it belongs to),
// so that a script may send either.
func readList(w http.ResponseWriter, r *http.Request, key string, v any) bool {
	raw, ok := readBody(w, r, maxBody)
	if !ok {
		return false
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 || obj[key] == nil {
			writeAPIError(w, http.StatusBadRequest, "invalid_request",
				fmt.Sprintf("send the %s list as a JSON array, or as an object with the one key %q", key, key))
			return false
		}
		raw = obj[key]
	}
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		writeAPIError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("the %s list is not a JSON array; send [] for an empty list", key))
		return false
	}
	if err := decodeStrict(raw, v); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the body does not fit: "+err.Error()+"; use the configuration's key names (docs/configuration.md)")
		return false
	}
	return true
}

// sameName checks that a body's own name, when given, is the path's.
func sameName(w http.ResponseWriter, what, inPath string, inBody *string) bool {
	if *inBody == "" {
		*inBody = inPath
	}
	if *inBody != inPath {
		writeAPIError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("the body's %s %q is not the path's %q; to rename, create the new one and delete the old", what, *inBody, inPath))
		return false
	}
	return true
}

// written answers a successful change: the new value (201 when created)
// with its ETag, or 204 after a deletion. The new configuration's
// warnings (policy.Warnings: valid, but not working as it seems to mean,
// such as a subject: email server whose ID-JAGs no longer carry the email),
// those of the configuration this change made, not of one a later edit
// made meanwhile, are added to the value as "warnings", with file and line, and logged as
// at start: the change is made, but check would have warned of it.
func (a *API) written(w http.ResponseWriter, r *http.Request, ch *policy.Change, tag string, v any) {
	warnings := logWarnings(r, ch)
	w.Header().Set("ETag", tag)
	if len(warnings) > 0 && v != nil {
		v = withWarnings{v, problemList(warnings)}
	}
	switch {
	case ch.Op == "delete":
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	case ch.Op == "create" && !ch.Unchanged:
		writeAPI(w, http.StatusCreated, v)
	default:
		writeAPI(w, http.StatusOK, v)
	}
}

// logWarnings logs the warnings of the configuration a change made (when
// it changed anything), as at start, and returns them.
func logWarnings(r *http.Request, ch *policy.Change) policy.Problems {
	warnings := ch.Warnings()
	if !ch.Unchanged {
		for _, p := range warnings {
			slog.Warn(p.String(), "admin", adminName(r), "change", ch.Kind+" "+ch.Op+" "+ch.Name)
		}
	}
	return warnings
}

// withWarnings is an answer's value, a JSON object, with the member
// "warnings" added.
type withWarnings struct {
	value    any
	warnings []problem
}

func (x withWarnings) MarshalJSON() ([]byte, error) {
	// httpjson's, as encodeAPI writes: an encoder keeps the HTML escapes
	// of what a MarshalJSON returns.
	obj, err := httpjson.Marshal(x.value)
	if err != nil {
		return nil, err
	}
	ws, err := httpjson.Marshal(x.warnings)
	if err != nil {
		return nil, err
	}
	ws = bytes.TrimSpace(ws)
	obj = bytes.TrimSpace(obj)
	if len(obj) < 2 || obj[0] != '{' {
		return nil, fmt.Errorf("admin: an answer with warnings must be an object, not %.20s", obj)
	}
	out := append([]byte(nil), obj[:len(obj)-1]...)
	if len(obj) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"warnings":`...)
	out = append(out, ws...)
	return append(out, '}'), nil
}

func (a *API) putAccess(w http.ResponseWriter, r *http.Request) {
	var access []policy.Access
	if !readList(w, r, "access", &access) {
		return
	}
	id := r.PathValue("id")
	ch := a.edit(w, r, func(tag string, j policy.EditOption) (*policy.Change, error) {
		return a.store.UpdateServerAccess(id, access, tag, j)
	})
	if ch != nil {
		s := ch.Config.Server(id)
		a.written(w, r, ch, etag(policy.ServerVersion(s)), serverJSON(s))
	}
}

func (a *API) putDeny(w http.ResponseWriter, r *http.Request) {
	var deny []policy.Deny
	if !readList(w, r, "deny", &deny) {
		return
	}
	id := r.PathValue("id")
	ch := a.edit(w, r, func(tag string, j policy.EditOption) (*policy.Change, error) {
		return a.store.UpdateServerDeny(id, deny, tag, j)
	})
	if ch != nil {
		s := ch.Config.Server(id)
		a.written(w, r, ch, etag(policy.ServerVersion(s)), serverJSON(s))
	}
}

func (a *API) putServer(w http.ResponseWriter, r *http.Request) {
	var s policy.MCPServer
	if _, ok := readJSON(w, r, &s, "etag"); !ok {
		return
	}
	id := r.PathValue("id")
	if !sameName(w, "id", id, &s.ID) {
		return
	}
	// The endpoint as a GET showed it, its password masked, keeps the
	// password, as a client's "(redacted)" secret is kept.
	if old := a.cfg().Server(id); old != nil && redact.SameURLRedacted(s.EventsEndpoint, old.EventsEndpoint) {
		s.EventsEndpoint = old.EventsEndpoint
	}
	// The IdP's issuers, from --issuer or --addr, are not in the file, so
	// Parse cannot refuse them; the exchange would (invalid_target).
	notAtIdP := policy.NotAtIdP(a.idp.Issuer(), a.idp.OtherTenants())
	ch := a.edit(w, r, func(tag string, j policy.EditOption) (*policy.Change, error) {
		return a.store.PutServer(s, tag, j, notAtIdP)
	})
	if ch != nil {
		now := ch.Config.Server(id)
		a.written(w, r, ch, etag(policy.ServerVersion(now)), serverJSON(now))
	}
}

func (a *API) deleteServer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if ch := a.edit(w, r, func(tag string, j policy.EditOption) (*policy.Change, error) { return a.store.DeleteServer(id, tag, j) }); ch != nil {
		a.written(w, r, ch, etag(ch.Version), nil)
	}
}

// userFields are the keys of GET /admin/api/users that are not the
// configuration's, ignored in a PUT.
var userFields = []string{"access"}

// putUser creates or replaces a user. A body without password and
// password_bcrypt keeps the user's current password, so that what GET
// answered (without passwords) can be sent back changed.
func (a *API) putUser(w http.ResponseWriter, r *http.Request) {
	raw, ok := readBody(w, r, maxBody)
	if !ok {
		return
	}
	name := r.PathValue("username")
	u, secret, ok := decodeUser(w, raw, name)
	if !ok {
		return
	}
	if ch := a.edit(w, r, func(tag string, j policy.EditOption) (*policy.Change, error) { return a.putUserOn(u, secret, tag, j) }); ch != nil {
		a.written(w, r, ch, etag(ch.Version), a.userView(ch.Config, ch.Config.User(name)))
	}
}

// decodeUser decodes the body of a PUT of user name (readJSON's checks,
// answered): the user, and whether it gives a password (password or
// password_bcrypt).
func decodeUser(w http.ResponseWriter, raw []byte, name string) (u policy.User, secret, ok bool) {
	fields, ok := decodeJSON(w, raw, &u, userFields...)
	if !ok || !sameName(w, "username", name, &u.Username) {
		return u, false, false
	}
	return u, given(fields, "password") || given(fields, "password_bcrypt"), true
}

// putUserOn is the edit of a PUT of u on version tag: without secret, the
// user keeps its password.
func (a *API) putUserOn(u policy.User, secret bool, tag string, j policy.EditOption) (*policy.Change, error) {
	if !secret {
		// The password kept is the one of the version the change is
		// made on, read by the store under its lock: one set by a
		// change in between is not put back.
		return a.store.PutUser(u, tag, j, policy.KeepSecrets())
	}
	return a.store.PutUser(u, tag, j)
}

// patchTries bounds how often a PATCH without If-Match is made again on
// the newest version when another change (not a PATCH: those wait their
// turn) came between its read and its write.
const patchTries = 3

// patchUser is PATCH /admin/api/users/{username}: a JSON merge patch
// (RFC 7396) of the user as PUT takes it, application/merge-patch+json or
// application/json. The keys sent change, null removes an optional one
// (claims merge key by key), the rest stays; a password sent replaces
// the current one, whichever its form. The patched user is then a PUT's
// body (decodeUser, putUserOn): the same checks, answers and audit. The
// patch is applied to the version it is written on: without If-Match
// (or with *), that is the newest, read again when a change comes in
// between, so that no change made meanwhile is undone.
func (a *API) patchUser(w http.ResponseWriter, r *http.Request) {
	raw, f := checkedBody(w, r, maxBody, strictjson.Options{NullMembers: true})
	if f != nil {
		writeRefusal(w, *f)
		return
	}
	var patch map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&patch); err != nil || patch == nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the body must be a JSON object: a merge patch (RFC 7396) of the user, with the configuration's key names (docs/configuration.md)")
		return
	}
	for k, v := range patch {
		switch {
		case v != nil: // decodeUser refuses an unknown key
		case strings.EqualFold(k, "password") || strings.EqualFold(k, "password_bcrypt"):
			writeAPIError(w, http.StatusBadRequest, "invalid_request", k+" cannot be removed: a user needs a password; send a new one to replace it")
			return
		case !userKey(k):
			// A null removes nothing the user has, so the patched
			// user would not show it: a misspelt key must not pass.
			writeAPIError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("the body does not fit: unknown field %q; use the configuration's key names (docs/configuration.md)", audit.Truncate(k)))
			return
		}
	}
	if a.store == nil {
		writeAPIError(w, http.StatusNotImplemented, "not_implemented", noStore)
		return
	}
	name := r.PathValue("username")
	// Checked once here, answering its refusal; the edit below patches
	// the version it is written on, which the same patch fits alike.
	if _, _, ok := patchedUser(w, a.store.Config(), name, patch); !ok {
		return
	}
	ch := a.editWith(w, r, map[string]any{"patched": slices.Sorted(maps.Keys(patch))}, func(tag string, j policy.EditOption) (*policy.Change, error) {
		a.patches.Lock()
		defer a.patches.Unlock()
		for try := 1; ; try++ {
			sn := a.store.Snapshot()
			u, secret, ok := patchedUser(nil, sn.Config, name, patch)
			if !ok {
				return nil, &policy.NotFoundError{Kind: "user", Name: name}
			}
			on := tag
			if tag == "*" {
				on = sn.Version
			}
			ch, err := a.putUserOn(u, secret, on, j)
			var stale *policy.StaleError
			if tag != "*" || try == patchTries || !errors.As(err, &stale) {
				return ch, err
			}
		}
	})
	if ch != nil {
		a.written(w, r, ch, etag(ch.Version), a.userView(ch.Config, ch.Config.User(name)))
	}
}

// patchedUser applies patch to user name of cfg as decodeUser reads a
// PUT's body, answering a refusal on w (none when w is nil).
func patchedUser(w http.ResponseWriter, cfg *policy.Config, name string, patch map[string]any) (policy.User, bool, bool) {
	if w == nil {
		w = &headerProbe{header: http.Header{}}
	}
	cur := cfg.User(name)
	if cur == nil {
		writeAPIError(w, http.StatusNotFound, "not_found", fmt.Sprintf("there is no user %q; PUT creates one", name))
		return policy.User{}, false, false
	}
	old := *cur
	old.Password, old.PasswordBcrypt = "", "" // kept unless the patch sends one
	b, err := json.Marshal(old)
	var doc map[string]any
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		err = dec.Decode(&doc)
	}
	if err != nil {
		writeAPIError(w, http.StatusInternalServerError, "server_error", "the user could not be read: "+err.Error())
		return policy.User{}, false, false
	}
	// Decoding matches keys as strings.EqualFold does: "Email" replaces
	// the email.
	for k := range patch {
		maps.DeleteFunc(doc, func(d string, _ any) bool { return d != k && strings.EqualFold(d, k) })
	}
	body, err := json.Marshal(mergePatch(doc, patch))
	if err != nil {
		writeAPIError(w, http.StatusInternalServerError, "server_error", "the patched user could not be written: "+err.Error())
		return policy.User{}, false, false
	}
	return decodeUser(w, body, name)
}

// userKey reports whether k is a key of a user's body (decoding matches
// keys as strings.EqualFold does).
func userKey(k string) bool {
	t := reflect.TypeFor[policy.User]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); strings.EqualFold(k, name) {
			return true
		}
	}
	return slices.ContainsFunc(userFields, func(f string) bool { return strings.EqualFold(k, f) })
}

// mergePatch applies a JSON merge patch to target (RFC 7396 section 2).
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// deleteUser is DELETE /admin/api/users/{username}: refused (400
// invalid_config, with every line that names the user) while access or
// deny entries name it, unless ?prune=true, which takes it out of them in
// the same edit, as SCIM's DELETE always does.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	a.deletePruning(w, r, false, func(tag string, j policy.EditOption, details map[string]any) (*policy.Change, error) {
		noteRemoved(details, runtimeUserFaults(a.idp.Faults(), name))
		return a.store.DeleteUser(name, tag, j)
	}, func(cur *policy.Config, details map[string]any) (policy.Batch, *policy.Change, error) {
		old := cur.User(name)
		if old == nil {
			return policy.Batch{}, nil, &policy.NotFoundError{Kind: "user", Name: name}
		}
		b, c := deleteUserBatch(cur, old, details, false, a.idp.Faults())
		return b, c, nil
	})
}

// deletePruning runs a DELETE of a user or group (group true): del
// without ?prune=true, else the batch of plan, which puts into details
// what it took (deleteUserBatch, deleteGroupBatch).
func (a *API) deletePruning(w http.ResponseWriter, r *http.Request, group bool, del func(tag string, j policy.EditOption, details map[string]any) (*policy.Change, error), plan func(cur *policy.Config, details map[string]any) (policy.Batch, *policy.Change, error)) {
	prune, ok := pruneParam(w, r)
	if !ok {
		return
	}
	details := map[string]any{}
	if ch := a.editRefusing(w, r, details, pruneHint(prune, group), func(tag string, j policy.EditOption) (*policy.Change, error) {
		if !prune {
			return del(tag, j, details)
		}
		return a.store.EditBatch(tag, func(cur *policy.Config) (policy.Batch, *policy.Change, error) { return plan(cur, details) }, nil, j)
	}); ch != nil {
		a.written(w, r, ch, etag(ch.Version), nil)
	}
}

// pruneParam reads the prune parameter of a DELETE of a user or group:
// true or false (the default).
func pruneParam(w http.ResponseWriter, r *http.Request) (prune, ok bool) {
	q := r.URL.Query()
	if !knownOnly(w, q, []string{"prune"}) || !sentOnce(w, q, []string{"prune"}) {
		return false, false
	}
	switch q.Get("prune") {
	case "", "false":
		return false, true
	case "true":
		return true, true
	}
	writeAPIError(w, http.StatusBadRequest, "invalid_request", "prune must be true or false")
	return false, false
}

// pruneHint is editError for a DELETE of a user or group (group true),
// whose problems are the entries that name it: it says how to take it
// out of them, and, after ?prune=true (prune), that what is left names it
// where prune changes nothing (a fault's match.user).
func pruneHint(prune, group bool) func(http.ResponseWriter, error) {
	return func(w http.ResponseWriter, err error) {
		f := refusalOf(err)
		switch {
		case f.problems == nil || f.status != http.StatusBadRequest:
		case prune:
			f.desc += "; ?prune=true takes it out of access and deny entries only: the problems are the other entries that name it (a fault's match.user), to change first"
		default:
			f.desc += "; the problems are the entries that name it: change them first, or send DELETE with ?prune=true, which takes it out of every access and deny entry (an entry left naming no one is removed)"
			if group {
				f.desc += " and of its members' groups"
			}
			f.desc += " in the same edit"
		}
		writeRefusal(w, f)
	}
}

func (a *API) putGroup(w http.ResponseWriter, r *http.Request) {
	var g policy.Group
	if _, ok := readJSON(w, r, &g, "members"); !ok {
		return
	}
	name := r.PathValue("name")
	if !sameName(w, "name", name, &g.Name) {
		return
	}
	if ch := a.edit(w, r, func(tag string, j policy.EditOption) (*policy.Change, error) { return a.store.PutGroup(g, tag, j) }); ch != nil {
		a.written(w, r, ch, etag(ch.Version), groupView(ch.Config, ch.Config.Group(name)))
	}
}

// deleteGroup is DELETE /admin/api/groups/{name}: as deleteUser; with
// ?prune=true the group also leaves its members' groups.
func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a.deletePruning(w, r, true, func(tag string, j policy.EditOption, _ map[string]any) (*policy.Change, error) {
		return a.store.DeleteGroup(name, tag, j)
	}, func(cur *policy.Config, details map[string]any) (policy.Batch, *policy.Change, error) {
		g := cur.Group(name)
		if g == nil {
			return policy.Batch{}, nil, &policy.NotFoundError{Kind: "group", Name: name}
		}
		b, c := deleteGroupBatch(cur, g, details)
		return b, c, nil
	})
}

// redacted is how /admin/api/config shows a secret; sent back, it means
// "keep the current one".
const redacted = "(redacted)"

// putClient creates or replaces a client. A body without client_secret (or
// with "(redacted)", as /admin/api/config shows it) keeps the current
// secret; "client_secret": "" removes it, making the client public.
func (a *API) putClient(w http.ResponseWriter, r *http.Request) {
	var c policy.Client
	fields, ok := readJSON(w, r, &c, "confidential", "servers")
	if !ok {
		return
	}
	id := r.PathValue("client_id")
	if !sameName(w, "client_id", id, &c.ClientID) {
		return
	}
	keep := !given(fields, "client_secret") || c.ClientSecret == redacted
	ch := a.edit(w, r, func(tag string, j policy.EditOption) (*policy.Change, error) {
		if keep {
			// As for a user's password (putUser).
			return a.store.PutClient(c, tag, j, policy.KeepSecrets())
		}
		return a.store.PutClient(c, tag, j)
	})
	if ch != nil {
		a.written(w, r, ch, etag(ch.Version), clientView(ch.Config, ch.Config.Client(id)))
	}
}

func (a *API) deleteClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("client_id")
	if ch := a.edit(w, r, func(tag string, j policy.EditOption) (*policy.Change, error) { return a.store.DeleteClient(id, tag, j) }); ch != nil {
		a.written(w, r, ch, etag(ch.Version), nil)
	}
}

type adminKey struct{}

// withAdmin records the authenticated admin in the request's context.
func withAdmin(r *http.Request, name string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), adminKey{}, name))
}

// adminName is the admin making the request, however authenticated (HTTP
// Basic or the console's session), for admin_change events.
func adminName(r *http.Request) string {
	if name, ok := r.Context().Value(adminKey{}).(string); ok {
		return name
	}
	name, _, _ := r.BasicAuth()
	return name
}

// changeEvent is the admin_change event of a configuration change: who,
// what, and the value before and after, without passwords or secrets.
func changeEvent(r *http.Request, ch *policy.Change, store Store) audit.Event {
	before, after := withoutSecrets(ch.Before), withoutSecrets(ch.After)
	details := map[string]any{
		"object":           ch.Kind,
		"action":           ch.Op,
		"name":             audit.Truncate(ch.Name),
		"previous_version": ch.PreviousVersion,
		"version":          ch.Version,
		"file":             store.File(),
	}
	if store.InMemory() {
		details["file"] = "(in memory)"
	}
	if ch.Before != nil {
		details["before"] = before
	}
	if ch.After != nil {
		details["after"] = after
	}
	if changed := changedSecrets(ch.Before, ch.After); len(changed) > 0 {
		details["secrets_changed"] = changed
	}
	if ch.Kind == "access approval" {
		details["server"] = audit.Truncate(ch.Name)
	}
	noteRemoved(details, ch.Removed)
	ev := audit.Event{
		Type:    audit.TypeAdminChange,
		Outcome: audit.Allowed,
		Admin:   audit.Truncate(adminName(r)),
		Reason:  audit.Truncate(describeChange(ch)),
		Details: details,
	}
	// The name comes from the request's path.
	switch name := audit.Truncate(ch.Name); ch.Kind {
	case "user":
		ev.User = name
	case "client":
		ev.ClientID = name
	case "server", "server access", "server deny", "access approval":
		ev.Server = name
	}
	return ev
}

// describeChange is an admin_change's reason: one line a reviewer reads.
func describeChange(ch *policy.Change) string {
	past := map[string]string{"create": "created", "replace": "changed", "delete": "deleted"}[ch.Op]
	switch ch.Kind {
	case "server access":
		return fmt.Sprintf("replaced the access list of MCP server %s: %d entries, before %d", ch.Name, length(ch.After), length(ch.Before))
	case "access approval":
		return fmt.Sprintf("approved access to MCP server %s: entries added %d, removed or replaced %d (expired %d)", ch.Name, length(ch.After), length(ch.Before), len(ch.Removed))
	case "server deny":
		return fmt.Sprintf("replaced the deny list of MCP server %s: %d entries, before %d", ch.Name, length(ch.After), length(ch.Before))
	case "server":
		return fmt.Sprintf("%s MCP server %s", past, ch.Name)
	case "group members":
		return fmt.Sprintf("replaced the members of group %s: %d users, before %d", ch.Name, length(ch.After), length(ch.Before))
	}
	return fmt.Sprintf("%s %s %s", past, ch.Kind, ch.Name)
}

func length(v any) int {
	switch l := v.(type) {
	case []policy.Access:
		return len(l)
	case []policy.Deny:
		return len(l)
	case map[string]policy.Access:
		return len(l)
	case []string:
		return len(l)
	}
	return 0
}

// secretKeys are the keys withoutSecrets removes.
var secretKeys = []string{"password", "password_bcrypt", "client_secret"}

// withoutSecrets returns v as generic JSON data under the configuration's key
// names, without passwords, password hashes or client secrets, a
// receiver's password in events_endpoint masked, and as the API answers
// it: an empty access or deny list is [], never null (the event is
// answered by GET /admin/api/audit, which holds no null).
func withoutSecrets(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case policy.MCPServer:
		v = serverJSON(&x)
	case []policy.Access:
		if x == nil {
			v = []policy.Access{}
		}
	case []policy.Deny:
		if x == nil {
			v = []policy.Deny{}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	if m, ok := out.(map[string]any); ok {
		for _, k := range secretKeys {
			delete(m, k)
		}
		// A receiver's credentials may sit in its URL's userinfo, or a
		// key in its query.
		if ep, ok := m["events_endpoint"].(string); ok {
			m["events_endpoint"] = redact.URLAndQuery(ep)
		}
	}
	return out
}

// changedSecrets names the secret keys whose values differ between
// before and after (or that appear or disappear), without their values,
// and events_endpoint when the receiver's password in it did, or its user
// where it has no password: masked alike in before and after, its change
// would not show.
func changedSecrets(before, after any) []string {
	var out []string
	for _, k := range append(slices.Clone(secretKeys), "events_endpoint") {
		if secretOf(before, k) != secretOf(after, k) {
			out = append(out, k)
		}
	}
	return out
}

func secretOf(v any, key string) string {
	switch x := v.(type) {
	case policy.User:
		switch key {
		case "password":
			return x.Password
		case "password_bcrypt":
			return x.PasswordBcrypt
		}
	case policy.Client:
		if key == "client_secret" {
			return x.ClientSecret
		}
	case policy.MCPServer:
		if key == "events_endpoint" {
			u, err := url.Parse(x.EventsEndpoint)
			if err != nil {
				return ""
			}
			// The query's values are masked in the event too
			// (redact.URLAndQuery).
			secret := "query " + u.RawQuery
			if u.User != nil {
				if p, ok := u.User.Password(); ok {
					return secret + " password " + p
				}
				// A user alone, masked as a password is (redact.URL).
				return secret + " user " + u.User.Username()
			}
			return secret
		}
	}
	return ""
}

// ReloadEvent is the config_reload event of a policy.Reload: allowed when
// the file changed on disk became the running configuration, error (with
// the problems) when it was refused and the running configuration kept.
func ReloadEvent(r policy.Reload) audit.Event {
	ev := audit.Event{
		Type:    audit.TypeConfigReload,
		Outcome: audit.Allowed,
		Reason:  r.File + " changed on disk and was reloaded",
		Details: map[string]any{"file": r.File, "version": r.Version, "previous_version": r.PreviousVersion},
	}
	if r.Version == r.PreviousVersion && r.Err == nil {
		ev.Reason = r.File + " is back to the running configuration"
	}
	if r.Err != nil {
		ps := problemList(r.Err)
		ev.Outcome, ev.Error = audit.Error, "invalid_config"
		ev.Reason = fmt.Sprintf("the file changed on disk but was not loaded (%d problem(s)); the running configuration is kept: %s", len(ps), firstLine(r.Err.Error()))
		ev.Details["problems"] = ps
	}
	return ev
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
