package web

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/audit"
)

// auditPageSize is the default number of events per audit page.
const auditPageSize = 50

// auditQuery is the audit page's filter form.
type auditQuery struct {
	Type, User, Client, Server, Outcome string
	Since, Until                        string // as typed: RFC 3339, a datetime-local value, or a duration back from now
	Before, After                       string // the page cursors: event IDs
	Limit                               int
}

func parseAuditQuery(q url.Values) auditQuery {
	a := auditQuery{
		Type: strings.TrimSpace(q.Get("type")), User: strings.TrimSpace(q.Get("user")),
		Client: strings.TrimSpace(q.Get("client")), Server: strings.TrimSpace(q.Get("server")),
		Outcome: strings.TrimSpace(q.Get("outcome")), Since: strings.TrimSpace(q.Get("since")),
		Until: strings.TrimSpace(q.Get("until")), Before: q.Get("before"), After: q.Get("after"), Limit: auditPageSize,
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		a.Limit = min(n, 1000)
	}
	return a
}

// fieldError is a field of a console form (the audit log's filters,
// explain's) whose value cannot be read: Field is its name in the form
// ("since"), Label the one the page shows ("From"). The page says it next
// to the field (aria-invalid, aria-describedby) and focuses the field.
type fieldError struct {
	Field, Label string
	Err          error
}

func (e *fieldError) Error() string { return e.Label + ": " + e.Err.Error() }

// filter turns the form into an audit.Filter; the error is a
// *fieldError, which names the field.
func (a auditQuery) filter(now time.Time) (audit.Filter, error) {
	f := audit.Filter{Type: a.Type, User: a.User, Client: a.Client, Server: a.Server, Outcome: a.Outcome, Before: a.Before, After: a.After, Limit: a.Limit}
	var err error
	if f.Since, err = parseWhen(a.Since, now); err != nil {
		return f, &fieldError{"since", "From", err}
	}
	if f.Until, err = parseWhen(a.Until, now); err != nil {
		return f, &fieldError{"until", "To", err}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		// A range of no time, which no event is in: said, not
		// answered "No events match" as if there had been none.
		return f, &fieldError{"until", "To", fmt.Errorf("%q is not later than From (%q), so no event can be between them (a duration counts back from now: from 2h to 1h is the hour before the last)", a.Until, a.Since)}
	}
	return f, nil
}

// values are the filters as a query string, without the page cursor.
func (a auditQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"type": a.Type, "user": a.User, "client": a.Client, "server": a.Server, "outcome": a.Outcome, "since": a.Since, "until": a.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if a.Limit != auditPageSize {
		v.Set("limit", strconv.Itoa(a.Limit))
	}
	return v
}

// window are the filters of values with From and To as the times f has
// them, for the links to the pages before and after this one: a duration
// counts back from each page's now, and the window would move as they
// are read, its oldest events never shown.
func (a auditQuery) window(f audit.Filter) url.Values {
	v := a.values()
	if !f.Since.IsZero() {
		v.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		v.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	return v
}

// parseWhen reads a time: RFC 3339, the browser's datetime-local value
// (taken as UTC), or a duration back from now ("15m", "24h", "7d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	d, err := admin.ParseDuration(s) // 15m, 24h, 7d, as the admin API's since
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither a time (2026-11-25T18:00:00Z) nor a duration back from now (15m, 24h, 7d)", s)
	}
	return now.Add(-d), nil
}

// matches reports whether a live event passes the filter (audit.Filter's
// own test is not exported; the cursors do not apply to new events).
func matches(f audit.Filter, e audit.Event) bool {
	eq := func(want, have string) bool { return want == "" || want == have }
	return eq(f.Type, e.Type) && (f.User == "" || e.Names(f.User)) && eq(f.Client, e.ClientID) && eq(f.Server, e.Server) &&
		eq(f.Outcome, e.Outcome) && (f.Since.IsZero() || !e.Time.Before(f.Since)) && (f.Until.IsZero() || e.Time.Before(f.Until))
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := parseAuditQuery(r.URL.Query())
	data := struct {
		Q              auditQuery
		Types, Results []string
		Events         []audit.Event
		Older, Newer   string
		Newest         string
		// Export and Stream are the export's and the live tail's URLs,
		// with the page's filters. Whole URLs, not a query string for the
		// template to append: html/template escapes a value after "?" as
		// one parameter, "=" and "&" included, which would drop them all.
		Export, Stream string
		Invalid        *fieldError
		// Clients and Servers are the filters' suggestions: the ids
		// the filters take (each server's with its name).
		Clients []string
		Servers [][2]string
	}{Q: q, Types: audit.Types, Results: audit.Outcomes}
	cfg := c.adminAPI.Config()
	for _, cl := range cfg.Clients {
		data.Clients = append(data.Clients, cl.ClientID)
	}
	for _, s := range cfg.MCPServers {
		data.Servers = append(data.Servers, [2]string{s.ID, s.Label()})
	}
	base := q.values()
	data.Export, data.Stream = c.url("/admin/audit/export?"+base.Encode()), c.url("/admin/audit/stream?"+base.Encode())
	f, err := q.filter(c.adminAPI.Now())
	var more bool
	if err == nil {
		data.Events, more = c.adminAPI.AuditPage(f)
	}
	if err == nil && len(data.Events) == 0 && q.Server != "" && cfg.Server(q.Server) == nil {
		// The name the console shows everywhere else, which matched no
		// event: events name a server by its id. (A former server's id
		// that is a server's name now finds that server's events.)
		for _, s := range cfg.MCPServers {
			if strings.EqualFold(s.Name, q.Server) {
				err = &fieldError{"server", "MCP server", fmt.Errorf("%q is the name of MCP server %s: events name a server by its id, %s", q.Server, s.ID, s.ID)}
				break
			}
		}
	}
	if err != nil {
		data.Invalid, _ = errors.AsType[*fieldError](err)
		c.show(w, r, v, http.StatusBadRequest, "audit.html", "Audit log", "audit", data, "", err.Error())
		return
	}
	if n := len(data.Events); n > 0 {
		// more is of older events, or with after= of newer ones; the
		// other way is asked.
		first, last := data.Events[0].ID, data.Events[n-1].ID
		older, newer := more, false
		switch {
		case q.After != "":
			older, newer = c.adminAPI.AuditOlder(f, last), more
		case q.Before != "":
			newer = c.adminAPI.AuditNewer(f, first)
		}
		if older {
			page := q.window(f)
			page.Set("before", last)
			data.Older = c.url("/admin/audit?" + page.Encode())
		}
		if newer {
			page := q.window(f)
			page.Set("after", first)
			data.Newer = c.url("/admin/audit?" + page.Encode())
		}
	}
	if q.Before != "" || q.After != "" {
		data.Newest = c.url("/admin/audit?" + base.Encode())
	}
	c.show(w, r, v, http.StatusOK, "audit.html", "Audit log", "audit", data, "", "")
}

// auditExport downloads the matching events as JSON Lines, the audit
// file's own format.
func (c *Console) auditExport(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := parseAuditQuery(r.URL.Query())
	f, err := q.filter(c.adminAPI.Now())
	if err != nil {
		c.errorPage(w, r, v, http.StatusBadRequest, "Export failed", err.Error())
		return
	}
	want := audit.DefaultCapacity
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		want = n
	}
	events := c.exportEvents(f, want)
	w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="xaa-idp-audit-%s.jsonl"`, c.adminAPI.Now().UTC().Format("20060102T150405Z")))
	bw := bufio.NewWriter(w)
	// Oldest first, as in the file.
	for i := len(events) - 1; i >= 0; i-- {
		// The event's own encoding, the file's: json.Marshal would add
		// HTML escapes (\u0026) to it.
		line, err := events[i].MarshalJSON()
		if err != nil {
			continue
		}
		bw.Write(line)
		bw.WriteByte('\n')
	}
	_ = bw.Flush()
}

// tailHeartbeat keeps proxies from closing an idle live tail.
const tailHeartbeat = 25 * time.Second

// tailWriteTimeout is how long one write of the live tail may wait for
// its reader: one that stops reading is cut off, rather than holding its
// connection, goroutine and subscription for as long as it stays
// connected. Each write sets it anew, which also lifts the deadline that
// serve gives every response (60 s), so that the tail may last.
const tailWriteTimeout = 30 * time.Second

// auditStream is the live tail: server-sent events, one rendered table row
// per new event that passes the filters (html/template escapes it like any
// page). It ends with the console session: at sign-out, expiry, or when
// the admin is removed, replaced, disabled or no longer an admin, checked
// before every event and heartbeat, as every page checks it. A session
// holds at most maxTailsPerSession tails at once, a tenant's consoles
// their share when several share the process, the process maxTails
// (tails.go).
func (c *Console) auditStream(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := parseAuditQuery(r.URL.Query())
	f, err := q.filter(c.adminAPI.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.Since = time.Time{} // the tail is about what happens from now on
	sess := c.session(r)
	sessionID, sid := sessionString(sess, keyID), sessionString(sess, keySID)
	if !c.tails.take(w, c.base, sessionID) {
		return
	}
	defer c.tails.give(c.base, sessionID)
	stillSignedIn := func() bool {
		u := c.adminAPI.Config().User(v.User.Username)
		return c.sessions.valid(sessionID) && !c.idp.SessionEnded(sid) && u.Active() && u.Sub == v.User.Sub && u.MayAdminister()
	}
	rc := http.NewResponseController(w)
	events, cancel := c.adminAPI.SubscribeAudit(256)
	defer cancel()
	// The end of the stream gets its own time to be written.
	defer func() { _ = rc.SetWriteDeadline(time.Now().Add(tailWriteTimeout)) }()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	// The write deadlines below stay on the connection, which therefore
	// serves no other request.
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusOK)
	_ = rc.SetWriteDeadline(time.Now().Add(tailWriteTimeout))
	fmt.Fprint(w, "retry: 3000\n: live tail\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	row := c.pages.byName["audit.html"]
	tick := time.NewTicker(tailHeartbeat)
	defer tick.Stop()
	stopping := stoppingOf(r.Context())
	for {
		select {
		case <-r.Context().Done():
			return
		case <-stopping:
			return // the server is shutting down (WithStopping)
		case <-tick.C:
			if !stillSignedIn() {
				return
			}
			_ = rc.SetWriteDeadline(time.Now().Add(tailWriteTimeout))
			fmt.Fprint(w, ": heartbeat\n\n")
		case p, ok := <-events:
			if !ok {
				return // the audit log closed
			}
			e := *p // the log's, shared with its other subscribers
			if !matches(f, e) {
				continue
			}
			if !stillSignedIn() {
				return
			}
			_ = rc.SetWriteDeadline(time.Now().Add(tailWriteTimeout))
			var buf bytes.Buffer
			if err := row.ExecuteTemplate(&buf, "event-row", e); err != nil {
				continue
			}
			fmt.Fprintf(w, "id: %s\nevent: audit\n", e.ID)
			// An EventSource ends a line at CR too, and templates leave CR
			// as it is: a CR in a username typed at the login page would
			// start lines of its own (event:, a blank line) and hide or cut
			// the row. Every line gets its data: prefix.
			text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(buf.String())
			for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
				fmt.Fprintf(w, "data: %s\n", line)
			}
			fmt.Fprint(w, "\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// eventFields are an event's fields for the decoded view, in the
// contract's order and format (the time as the file writes it, so that
// it can be looked up there), without the empty ones.
func eventFields(e audit.Event) [][2]string {
	all := [][2]string{
		{"time", e.Time.UTC().Format(audit.TimeLayout)}, {"id", e.ID}, {"type", e.Type}, {"outcome", e.Outcome},
		{"error", e.Error}, {"user", e.User}, {"sub", e.Sub}, {"client_id", e.ClientID}, {"server", e.Server},
		{"audience", e.Audience}, {"resource", e.Resource}, {"scope_requested", e.ScopeRequested},
		{"scope_granted", e.ScopeGranted}, {"rule", e.Rule}, {"reason", e.Reason}, {"jti", e.JTI},
		{"admin", e.Admin}, {"grant_type", e.GrantType},
	}
	if e.Injected {
		all = append(all, [2]string{"injected", "true"})
	}
	out := all[:0]
	for _, kv := range all {
		if kv[1] != "" {
			out = append(out, kv)
		}
	}
	return out
}

// exportEvents pages through the audit log (a query answers at most
// audit.MaxQueryLimit events) until it has want events or no more match,
// newest first: back from the newest (or from before=), or with after=
// forward from that event, as its pages come (the oldest newer first).
func (c *Console) exportEvents(f audit.Filter, want int) []audit.Event {
	var events []audit.Event
	for len(events) < want {
		f.Limit = min(want-len(events), audit.MaxQueryLimit)
		page := c.adminAPI.Audit(f)
		if len(page) == 0 {
			break
		}
		if f.After != "" {
			events = append(page, events...)
			f.After = page[0].ID
		} else {
			events = append(events, page...)
			f.Before = page[len(page)-1].ID
		}
		if len(page) < f.Limit {
			break
		}
	}
	return events
}
