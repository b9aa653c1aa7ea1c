package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/xaa-idp/xaa-idp/policy"
)

// server is an MCP server as the admin API shows it (policy.MCPServer's
// JSON form).
type server struct {
	ID           string            `json:"id"`
	Name         string            `json:"name,omitempty"`
	Issuer       string            `json:"issuer"`
	Aliases      []string          `json:"aliases,omitempty"`
	Resources    []string          `json:"resources,omitempty"`
	Scopes       []string          `json:"scopes,omitempty"`
	Clients      map[string]string `json:"clients,omitempty"`
	Access       []accessEntry     `json:"access"`
	Deny         []denyEntry       `json:"deny,omitempty"`
	IncludeEmail bool              `json:"include_email,omitempty"`
	// AllowIDJAGReuse: the demo authorization server redeems an ID-JAG again.
	AllowIDJAGReuse bool `json:"allow_id_jag_reuse,omitempty"`
}

// Label is the server's name, or its id.
func (s server) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// ClientIDs are the IdP clients connected to the server, sorted.
func (s server) ClientIDs() []string {
	ids := make([]string, 0, len(s.Clients))
	for id := range s.Clients {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// accessEntry is one assignment: the body of PUT .../access is a list of them.
type accessEntry struct {
	Groups     []string `json:"groups,omitempty"`
	Users      []string `json:"users,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	Clients    []string `json:"clients,omitempty"`
	MaxAuthAge string   `json:"max_auth_age,omitempty"`
	Expires    string   `json:"expires,omitempty"` // RFC 3339; docs/configuration.md, "Time-bound access"
	// row is the entry's row in the editor's form (its index among the
	// entries of the version the page showed); not sent.
	row int
}

// denyEntry is one exception: the body of PUT .../deny is a list of them.
type denyEntry struct {
	Groups  []string `json:"groups,omitempty"`
	Users   []string `json:"users,omitempty"`
	Clients []string `json:"clients,omitempty"`
}

// client is a client as GET /admin/api/clients lists it, without secrets.
type client struct {
	ClientID      string   `json:"client_id"`
	Name          string   `json:"name,omitempty"`
	RedirectURIs  []string `json:"redirect_uris,omitempty"`
	TokenExchange bool     `json:"token_exchange"`
	Confidential  bool     `json:"confidential"`
	Servers       []string `json:"servers"`
}

func (c *Console) serverList(w http.ResponseWriter, r *http.Request, v *viewer) {
	var data struct {
		Servers []server
		Clients []client
	}
	var errs []string
	if _, err := c.apiGet(r, "/admin/api/servers", &data.Servers); err != nil {
		errs = append(errs, "The MCP servers could not be read: "+err.Error())
	}
	if _, err := c.apiGet(r, "/admin/api/clients", &data.Clients); err != nil {
		errs = append(errs, "The clients could not be read: "+err.Error())
	}
	c.show(w, r, v, http.StatusOK, "servers.html", "MCP servers", "servers", data, "", strings.Join(errs, " "))
}

// serverView is the server page: the server, its version, and the editors'
// rows (the saved ones, or what the admin submitted when a save failed).
type serverView struct {
	Server   server
	ETag     string
	Access   []accessEntry
	Deny     []denyEntry
	Groups   []string // for the editors' suggestions
	Users    []string
	Problems []problem // why the API refused the last save
	// Unreadable are the values of the last save's rows that the console
	// could not read (a login age, an expiry), each said next to its
	// field; Invalid maps each field's name to what is wrong with it.
	Unreadable []unreadable
	Invalid    map[string]string
	Stale      bool            // the last save lost against someone else's
	Editing    string          // "access" or "deny": the editor the messages are about
	Refusal    string          // why the last save was refused, shown above that editor
	Requests   []accessRequest // the server's pending access requests
	Now        time.Time       // the IdP's clock, for the time left of expiring entries
	IDJAG      *idJAGShape     // nil when the running configuration no longer has the server
}

// idJAGShape is how the IdP writes this server's ID-JAGs: the tenant's
// effective knobs (its persona's presets and its id_jag overrides,
// docs/personas.md) with the server's own keys, as idp/grant_idjag.go
// applies them.
type idJAGShape struct {
	policy.Knobs
	Tenant    string // the "tenant" claim's value, when TenantClaim
	Alg       string // the server's signing_alg, else signing.id_jag_alg
	AudTenant string
	Email     bool   // the knob, or the server's include_email
	Lifetime  string // lifetimes.id_jag
}

func idJAGShapeOf(cfg *policy.Config, id string) *idJAGShape {
	s := cfg.Server(id)
	if s == nil {
		return nil
	}
	k := cfg.Knobs()
	return &idJAGShape{Knobs: k, Tenant: cfg.ID, Alg: s.IDJAGAlg(cfg), AudTenant: s.AudTenant,
		Email: k.Email || s.IncludeEmail, Lifetime: cfg.Lifetimes.IDJAG.String()}
}

var savedMessages = map[string]string{
	"access": "Assignments saved. They apply to the next token exchange.",
	"deny":   "Deny list saved. It applies to the next token exchange.",
}

func (c *Console) serverPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	view, status, err := c.loadServer(r, r.PathValue("id"))
	if status == http.StatusNotFound {
		c.errorPageTo(w, r, v, status, "MCP server not found",
			fmt.Sprintf("There is no MCP server %q (a link to one removed since, or a mistyped address).", r.PathValue("id")),
			"MCP servers", "/admin/servers")
		return
	}
	if err != nil {
		c.errorPage(w, r, v, status, "MCP server not found", err.Error())
		return
	}
	c.show(w, r, v, http.StatusOK, "server.html", view.Server.Label(), "servers", view, c.sessions.takeFlash(v.session, r.URL.Path), "")
}

// loadServer reads a server and its ETag from the admin API.
func (c *Console) loadServer(r *http.Request, id string) (*serverView, int, error) {
	view := &serverView{}
	a, err := c.apiGet(r, "/admin/api/servers/"+url.PathEscape(id), &view.Server)
	if err != nil {
		status := a.Status
		if status == http.StatusOK {
			status = http.StatusBadGateway
		}
		return nil, status, err
	}
	view.ETag = a.Header.Get("ETag")
	view.Access, view.Deny = view.Server.Access, view.Server.Deny
	view.Now = c.adminAPI.Now()
	view.IDJAG = idJAGShapeOf(c.adminAPI.Config(), id)
	view.Requests = c.pendingRequests(r, id)
	c.suggestions(view)
	return view, http.StatusOK, nil
}

func (c *Console) suggestions(view *serverView) {
	cfg := c.adminAPI.Config()
	for _, g := range cfg.Groups {
		view.Groups = append(view.Groups, g.Name)
	}
	for _, u := range cfg.Users {
		view.Users = append(view.Users, u.Username)
	}
}

// names splits a list typed into a field: commas (or line breaks)
// separate, as the page says and as it shows a list. Spaces do not: a
// group or user name may hold them ("Platform Team"); around a name they
// are trimmed. A name may hold a comma too ("R&D, Berlin"): in double
// quotes it is one name, a quote inside doubled, as the page shows such a
// name (nameList); a quote elsewhere than at a name's start is a quote.
func names(s string) []string {
	var out []string
	var name strings.Builder
	quoted, inQuotes := false, false
	end := func() {
		n := name.String()
		if !quoted {
			n = strings.TrimSpace(n)
		}
		if n != "" {
			out = append(out, n)
		}
		name.Reset()
		quoted = false
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case inQuotes && r == '"' && i+1 < len(rs) && rs[i+1] == '"':
			name.WriteRune('"')
			i++
		case inQuotes && r == '"':
			inQuotes = false
		case inQuotes:
			name.WriteRune(r)
		case r == ',' || r == '\n' || r == '\r':
			end()
		case r == '"' && !quoted && strings.TrimSpace(name.String()) == "":
			name.Reset()
			quoted, inQuotes = true, true
		case quoted && unicode.IsSpace(r):
			// spaces after a quoted name, before the comma
		default:
			name.WriteRune(r)
		}
	}
	end()
	return out
}

// nameList shows names in an editor field as names reads them: separated
// by commas, each that holds a comma or a double quote, or begins or ends
// with a space, in double quotes (a quote inside doubled).
func nameList(ns []string) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		if strings.ContainsAny(n, ",\"\r\n") || strings.TrimSpace(n) != n {
			n = `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
		}
		out[i] = n
	}
	return strings.Join(out, ", ")
}

// rows are the editor rows the form holds, in order: the numbers below
// its row count n that name a field ("a7.users" for the access editor,
// prefix "a"). Read from the fields, not counted up to n, they are as many
// as a list is long (a server may have more than 1,000 entries, which a
// cap on n dropped from the save), yet no more than the form has fields,
// whatever n a script sends.
func rows(r *http.Request, prefix string) []int {
	n, ok := rowCount(r)
	if !ok {
		return nil
	}
	seen := map[int]bool{}
	for k := range r.PostForm {
		rest, ok := strings.CutPrefix(k, prefix)
		num, _, dot := strings.Cut(rest, ".")
		if !ok || !dot {
			continue
		}
		if i, err := strconv.Atoi(num); err == nil && i >= 0 && i < n && strconv.Itoa(i) == num {
			seen[i] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// rowCount is the editor form's row count n, ok false when the form
// carries none (or not a count).
func rowCount(r *http.Request) (n int, ok bool) {
	n, err := strconv.Atoi(r.PostFormValue("n"))
	return n, err == nil && n >= 0
}

// accessFromForm reads the assignment editor. A row marked for removal,
// and a blank row (the one offered for a new assignment), are left out.
func accessFromForm(r *http.Request) []accessEntry {
	out := []accessEntry{}
	for _, i := range rows(r, "a") {
		p := fmt.Sprintf("a%d.", i)
		if r.PostFormValue(p+"remove") != "" {
			continue
		}
		e := accessEntry{
			Groups:     names(r.PostFormValue(p + "groups")),
			Users:      names(r.PostFormValue(p + "users")),
			Scopes:     r.PostForm[p+"scopes"],
			Clients:    r.PostForm[p+"clients"],
			MaxAuthAge: strings.TrimSpace(r.PostFormValue(p + "max_auth_age")),
			Expires:    strings.TrimSpace(r.PostFormValue(p + "expires")),
			row:        i,
		}
		if len(e.Groups) == 0 && len(e.Users) == 0 && len(e.Scopes) == 0 && len(e.Clients) == 0 && e.MaxAuthAge == "" && e.Expires == "" {
			continue
		}
		out = append(out, e)
	}
	return out
}

func denyFromForm(r *http.Request) []denyEntry {
	out := []denyEntry{}
	for _, i := range rows(r, "d") {
		p := fmt.Sprintf("d%d.", i)
		if r.PostFormValue(p+"remove") != "" {
			continue
		}
		e := denyEntry{
			Groups:  names(r.PostFormValue(p + "groups")),
			Users:   names(r.PostFormValue(p + "users")),
			Clients: r.PostForm[p+"clients"],
		}
		if len(e.Groups) == 0 && len(e.Users) == 0 && len(e.Clients) == 0 {
			continue
		}
		out = append(out, e)
	}
	return out
}

// unreadable is a value of the assignment editor that is not a duration
// or a time: Field is its input's name (and, on the page shown again, its
// id), Row its row as the page shows it again (from 1), Column the
// column's heading.
type unreadable struct {
	Field, Column, Reason string
	Row                   int
}

// unreadableValues are the login ages and expiries of entries that the
// admin API would refuse as a body it cannot decode (a login age of 0
// among them), which names neither
// the row nor the field; checked here with the parsers the configuration
// uses, so that the page can say it at the field.
func unreadableValues(entries []accessEntry) []unreadable {
	var out []unreadable
	for j, e := range entries {
		if e.MaxAuthAge != "" {
			// 0 parses, but the configuration refuses it (and the admin
			// API's refusal names the body's index, not the row).
			if d, err := policy.ParseDuration(e.MaxAuthAge); err != nil {
				out = append(out, unreadable{fmt.Sprintf("a%d.max_auth_age", j), "Login within", err.Error(), j + 1})
			} else if d == 0 {
				out = append(out, unreadable{fmt.Sprintf("a%d.max_auth_age", j), "Login within",
					fmt.Sprintf("%q would require a login in this very instant; use a duration such as 15m, or leave the field empty", e.MaxAuthAge), j + 1})
			}
		}
		if e.Expires != "" {
			if _, err := policy.ParseTimestamp(e.Expires); err != nil {
				out = append(out, unreadable{fmt.Sprintf("a%d.expires", j), "Expires", err.Error(), j + 1})
			}
		}
	}
	return out
}

// pastExpiries are the expiries of entries that have passed on the IdP's
// clock (now), and were not the expiry of the same row before (current,
// the server's entries): saved, the entry would match nobody from the
// start. The admin API takes them, as the file may hold entries that have
// expired; an entry that has expired since keeps its expiry when another
// row is saved.
func pastExpiries(entries []accessEntry, current []policy.Access, now time.Time) []unreadable {
	var out []unreadable
	for j, e := range entries {
		t, err := policy.ParseTimestamp(e.Expires)
		if e.Expires == "" || err != nil || now.Before(t.T()) {
			continue
		}
		if e.row < len(current) && current[e.row].Expires.T().Equal(t.T()) {
			continue
		}
		out = append(out, unreadable{fmt.Sprintf("a%d.expires", j), "Expires",
			fmt.Sprintf("%q is in the past (the IdP's clock reads %s): the entry would match nobody. Give a later time, or leave the field empty for access that does not expire", e.Expires, now.UTC().Format(time.RFC3339)), j + 1})
	}
	return out
}

// hasRowCount reports whether the editor's form carries its row count n,
// and otherwise answers 400: a form without it is not this console's
// page's, and reading it as no rows would save an empty list.
func (c *Console) hasRowCount(w http.ResponseWriter, r *http.Request, v *viewer) bool {
	if _, ok := rowCount(r); ok {
		return true
	}
	c.errorPage(w, r, v, http.StatusBadRequest, "Not saved",
		"The form has no row count (n), so it was not sent by this server's page: nothing was saved. Reload the page and make your change there.")
	return false
}

func (c *Console) saveAccess(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !c.hasRowCount(w, r, v) {
		return
	}
	entries := accessFromForm(r)
	keep := func(view *serverView) { view.Access = entries }
	bad := unreadableValues(entries)
	if len(bad) == 0 {
		var current []policy.Access
		if s := c.adminAPI.Config().Server(r.PathValue("id")); s != nil {
			current = s.Access
		}
		bad = pastExpiries(entries, current, c.adminAPI.Now())
	}
	if len(bad) > 0 {
		c.refuseUnreadable(w, r, v, bad, keep)
		return
	}
	c.save(w, r, v, "access", entries, keep)
}

// refuseUnreadable shows the server page again with the admin's rows,
// each unreadable value marked at its field, and saves nothing.
func (c *Console) refuseUnreadable(w http.ResponseWriter, r *http.Request, v *viewer, bad []unreadable, keep func(*serverView)) {
	view, ok := c.pageToSaveOn(w, r, v, r.PathValue("id"))
	if !ok {
		return
	}
	keep(view)
	view.ETag, view.Editing = r.PostFormValue("etag"), "access"
	view.Unreadable, view.Invalid = bad, map[string]string{}
	for _, u := range bad {
		view.Invalid[u.Field] = u.Reason
	}
	view.Refusal = "Not saved: " + strconv.Itoa(len(bad)) + " value(s) below cannot be saved as they are."
	c.show(w, r, v, http.StatusBadRequest, "server.html", view.Server.Label(), "servers", view, "", "")
}

// pageToSaveOn loads server id's page to show an unsaved edit on again,
// or, when it cannot, answers with a page that says nothing was saved.
func (c *Console) pageToSaveOn(w http.ResponseWriter, r *http.Request, v *viewer, id string) (*serverView, bool) {
	view, status, err := c.loadServer(r, id)
	if status == http.StatusNotFound {
		// Removed while the page was open (the API's answer to the save
		// may be its stale If-Match): there is no page to show the
		// admin's rows on, and the failed read says nothing of the save.
		c.errorPageTo(w, r, v, http.StatusNotFound, "Not saved",
			fmt.Sprintf("There is no MCP server %q any more (it was removed since you opened its page, perhaps by an edit of the configuration file), so nothing was saved.", id),
			"MCP servers", "/admin/servers")
		return nil, false
	}
	if err != nil {
		c.errorPage(w, r, v, status, "Not saved", err.Error())
		return nil, false
	}
	return view, true
}

func (c *Console) saveDeny(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !c.hasRowCount(w, r, v) {
		return
	}
	entries := denyFromForm(r)
	c.save(w, r, v, "deny", entries, func(view *serverView) { view.Deny = entries })
}

// save replaces a server's access or deny list through the admin API, with
// If-Match: the version the admin saw. A lost race (412) and an invalid
// edit (400) show the page again with the admin's rows, so nothing typed
// is lost, and say what happened.
func (c *Console) save(w http.ResponseWriter, r *http.Request, v *viewer, list string, entries any, keep func(*serverView)) {
	id := r.PathValue("id")
	body, err := json.Marshal(entries)
	if err != nil {
		c.errorPage(w, r, v, http.StatusInternalServerError, "Not saved", err.Error())
		return
	}
	etag := r.PostFormValue("etag")
	a := c.api(r, http.MethodPut, "/admin/api/servers/"+url.PathEscape(id)+"/"+list, http.Header{"If-Match": {etag}}, body, v.CSRF)
	// A lost race against a save of the same rows (the admin's own
	// first click of a double click, whose answer the browser dropped
	// for the second's, or another tab's identical edit) left the list
	// as this form has it: it is saved, nothing is left to change.
	if a.Status == http.StatusOK || a.Status == http.StatusNoContent || a.Status == http.StatusPreconditionFailed && c.holds(id, list, body) {
		c.redirectWithFlash(w, r, v, "/admin/servers/"+url.PathEscape(id), savedMessages[list])
		return
	}
	view, ok := c.pageToSaveOn(w, r, v, id)
	if !ok {
		return
	}
	keep(view)
	view.ETag, view.Editing = etag, list
	msg := "Not saved: " + a.apiError()
	switch a.Status {
	case http.StatusPreconditionFailed:
		view.Stale = true
		msg = "Not saved: someone else changed this server since you opened it. Reload to see the current version, then make your change again."
	case http.StatusConflict:
		view.Problems = problems(a.Body)
	case http.StatusPreconditionRequired:
		msg = "Not saved: the page had no version of this server to check against. Reload and try again."
	case http.StatusBadRequest:
		if view.Problems = problems(a.Body); len(view.Problems) > 0 {
			msg = "Not saved: the change would make the configuration invalid."
			rows := len(view.Access)
			if list == "deny" {
				rows = len(view.Deny)
			}
			view.Invalid = atFields(list, view.Problems, rows)
		}
	}
	// The message is shown above the editor it is about, which takes the
	// focus: the page opens there, with the admin's rows, for a keyboard
	// too, not at the top with the editor screens away.
	view.Refusal = msg
	c.show(w, r, v, a.Status, "server.html", view.Server.Label(), "servers", view, "", "")
}

// holds reports whether server id's list ("access" or "deny") in the
// running configuration is body, a PUT's body of that list, read as the
// admin API reads it.
func (c *Console) holds(id, list string, body []byte) bool {
	s := c.adminAPI.Config().Server(id)
	switch {
	case s == nil:
		return false
	case list == "access":
		return sameList(body, s.Access)
	case list == "deny":
		return sameList(body, s.Deny)
	}
	return false
}

// sameList reports whether body, a JSON list of T, holds the entries of
// now: equal as JSON, or both empty.
func sameList[T any](body []byte, now []T) bool {
	var sent []T
	if json.Unmarshal(body, &sent) != nil {
		return false
	}
	if len(sent) == 0 && len(now) == 0 {
		return true
	}
	a, errA := json.Marshal(sent)
	b, errB := json.Marshal(now)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// problem is one of the "problems" of a refused change: its text, and
// the editor's field it is about, if any (atFields).
type problem struct {
	Text    string
	message string // as the API has it, with its path
	Field   *unreadable
}

// problems reads the "problems" of a refused change (400, 409).
func problems(body []byte) []problem {
	var e struct {
		Problems []struct {
			Line    int    `json:"line"`
			Message string `json:"message"`
		} `json:"problems"`
	}
	if json.Unmarshal(body, &e) != nil {
		return nil
	}
	var out []problem
	for _, p := range e.Problems {
		text := p.Message
		if p.Line > 0 {
			text = fmt.Sprintf("line %d: %s", p.Line, p.Message)
		}
		out = append(out, problem{Text: text, message: p.Message})
	}
	return out
}

// entryProblem is a problem of an MCP server's access or deny entry, as
// policy's validation words it: the entry's path ("mcp_servers[0].access[1]",
// under "tenants[2]." in a tenant), a name list in it, and the message.
var entryProblem = regexp.MustCompile(`^(?:tenants\[\d+\]\.)?mcp_servers\[\d+\]\.(access|deny)\[(\d+)\](?:\.(groups|users|max_auth_age|expires)(?:\[\d+\])?)?: (?s)(.+)$`)

// columns are the editors' column headings of the keys of an entry.
var columns = map[string]string{"groups": "Groups", "users": "Users", "max_auth_age": "Login within", "expires": "Expires"}

// atFields gives each problem of a refused save of list ("access" or
// "deny") that names an entry's groups, users, login age or expiry, or an
// entry that names no one, the field it is about: the editor's rows shown again are the
// entries sent, in order. The problem's text is then the message without
// the path and the line, which are the file's (a file that was not
// written), not the page's. It returns what is wrong with each field.
func atFields(list string, ps []problem, rows int) map[string]string {
	invalid := map[string]string{}
	for i, p := range ps {
		m := entryProblem.FindStringSubmatch(p.message)
		if m == nil || m[1] != list {
			continue
		}
		j, err := strconv.Atoi(m[2])
		if err != nil || j >= rows {
			continue
		}
		key := m[3]
		if key == "" {
			key = "groups" // an entry that names no one: its first field
		}
		field := fmt.Sprintf("%s%d.%s", list[:1], j, key)
		ps[i].Text = m[4]
		ps[i].Field = &unreadable{Field: field, Column: columns[key], Row: j + 1}
		if invalid[field] != "" {
			invalid[field] += "; "
		}
		invalid[field] += m[4]
	}
	return invalid
}
