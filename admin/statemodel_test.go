package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
	"golang.org/x/net/html"
)

// The state model test: random sequences of configuration changes, made
// through the admin API, SCIM and edits of the file on disk, against a
// simple model of what the configuration should then be. After each step
// the running configuration (GET /admin/api/config), the file on disk as
// `check` reads it, explain and a real token exchange must agree with the
// model; a refused change must leave the file's bytes and the ETag as
// they were; comments must survive.
//
// XAA_STATEMODEL_SEED replays a seed; XAA_STATEMODEL_STEPS runs longer.

const modelConfig = `# statemodel: the top comment
groups:
  - name: eng
  - name: mkt

users:
  # statemodel: the users comment
  - username: alice
    password: alice-pw   # statemodel: the admin
    groups: [eng]
    admin: true

clients:
  - client_id: mcp-client
    client_secret: s1
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true

mcp_servers:
  # statemodel: the servers comment
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read, files.write]
    clients:
      mcp-client: mcp-client-at-files
    access:
      - groups: [eng]
        scopes: [files.read]
# statemodel: the trailing comment
security:
  login_throttle: false # the test signs disabled users in again and again
`

var modelComments = []string{
	"# statemodel: the top comment",
	"# statemodel: the users comment",
	"# statemodel: the admin",
	"# statemodel: the servers comment",
	"# statemodel: the trailing comment",
	"# the test signs disabled users in again and again",
}

// awkwardNames need YAML quoting, are Unicode, or are long.
var awkwardNames = []string{
	"yes", "null", "0x10", "- a", "#x", ": x", "a: b", "~", "true", "1e3", ".inf", "-",
	"'q'", `"dq"`, "[x]", "{y}", "*star", "&amp", "!tag", "%p", "@at", "`bt`", "?q", "|", ">",
	"Ålice", "名前", "e\u0301", "Zoë 🙂", "a/b", "a b", "trail.", "0", "012", "NO", "on", "off",
	strings.Repeat("l", 253), strings.Repeat("é", 126), // the longest a username's default sub allows
	"bob", "carol", "dave", "Bob", "ÅLICE", "ENG", "Mkt", "<<", "\u00a0nbsp",
}

// refusedUsernames are names a user may not have.
var refusedUsernames = []string{" lead", "trail ", strings.Repeat("m", 254), "a\u200bb", "tab\t", "\u00a0nbsp"}

type mUser struct {
	name, pw, sub string
	groups        []string
	claims        map[string]any
	disabled      bool
	admin         bool
}

type mEntry struct {
	users, groups []string
	expires       time.Time // an approval's; zero: none
}

func (e mEntry) expired(now time.Time) bool { return !e.expires.IsZero() && !now.Before(e.expires) }

type model struct {
	users  []*mUser
	groups []string
	gid    map[string]string // a group's SCIM id when it is not its name
	faults map[string]string // runtime fault id -> the user it matches
	access []mEntry
	deny   []mEntry
}

func (m *model) user(name string) *mUser {
	for _, u := range m.users {
		if u.name == name {
			return u
		}
	}
	return nil
}

func (m *model) clone() *model {
	c := &model{groups: slices.Clone(m.groups), gid: map[string]string{}, faults: map[string]string{}}
	for k, v := range m.faults {
		c.faults[k] = v
	}
	for k, v := range m.gid {
		c.gid[k] = v
	}
	for _, u := range m.users {
		v := *u
		v.groups = slices.Clone(u.groups)
		v.claims = maps.Clone(u.claims)
		c.users = append(c.users, &v)
	}
	for _, e := range m.access {
		c.access = append(c.access, mEntry{slices.Clone(e.users), slices.Clone(e.groups), e.expires})
	}
	for _, e := range m.deny {
		c.deny = append(c.deny, mEntry{slices.Clone(e.users), slices.Clone(e.groups), e.expires})
	}
	return c
}

func (e mEntry) matches(u *mUser) bool {
	if slices.Contains(e.users, u.name) {
		return true
	}
	for _, g := range u.groups {
		if slices.Contains(e.groups, g) {
			return true
		}
	}
	return false
}

// allowed is the decision of an exchange for the files server through
// mcp-client right after a login, at now on the IdP's clock.
func (m *model) allowed(name string, now time.Time) bool {
	u := m.user(name)
	if u == nil || u.disabled {
		return false
	}
	for _, e := range m.deny {
		if e.matches(u) {
			return false
		}
	}
	for _, e := range m.access {
		if !e.expired(now) && e.matches(u) {
			return true
		}
	}
	return false
}

// referenced reports whether an access or deny entry names the user or
// group (kind "users" or "groups"), or, for a group, a user is in it.
func (m *model) referenced(kind, name string) bool {
	for _, e := range append(slices.Clone(m.access), m.deny...) {
		if kind == "users" && slices.Contains(e.users, name) || kind == "groups" && slices.Contains(e.groups, name) {
			return true
		}
	}
	if kind == "groups" {
		for _, u := range m.users {
			if slices.Contains(u.groups, name) {
				return true
			}
		}
	}
	return false
}

// prune takes the user or group out of every entry, dropping an entry left
// naming nobody, and a group out of its members.
func (m *model) prune(kind, name string) {
	cut := func(list []mEntry) []mEntry {
		var out []mEntry
		for _, e := range list {
			if kind == "users" {
				e.users = slices.DeleteFunc(slices.Clone(e.users), func(s string) bool { return s == name })
			} else {
				e.groups = slices.DeleteFunc(slices.Clone(e.groups), func(s string) bool { return s == name })
			}
			if len(e.users)+len(e.groups) > 0 {
				out = append(out, e)
			}
		}
		return out
	}
	m.access, m.deny = cut(m.access), cut(m.deny)
	if kind == "groups" {
		for _, u := range m.users {
			u.groups = slices.DeleteFunc(u.groups, func(s string) bool { return s == name })
		}
	}
}

// groupID is the group's SCIM id.
func (m *model) groupID(name string) string {
	if id, ok := m.gid[name]; ok {
		return id
	}
	return name
}

// takenFold reports whether a name of list, other than except, is name
// compared without case, as SCIM compares userName and displayName: the
// case of ASCII letters alone ("ÅLICE" is not "Ålice").
func takenFold(list []string, name, except string) bool {
	lower := func(s string) string {
		return strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, s)
	}
	return slices.ContainsFunc(list, func(s string) bool { return s != except && lower(s) == lower(name) })
}

func (m *model) usernames() []string {
	var out []string
	for _, u := range m.users {
		out = append(out, u.name)
	}
	return out
}

// rename renames a user or group (kind "users" or "groups") everywhere.
func (m *model) rename(kind, from, to string) {
	swap := func(list []string) []string {
		out := slices.Clone(list)
		for i, s := range out {
			if s == from {
				out[i] = to
			}
		}
		return out
	}
	for _, list := range [][]mEntry{m.access, m.deny} {
		for i := range list {
			if kind == "users" {
				list[i].users = swap(list[i].users)
			} else {
				list[i].groups = swap(list[i].groups)
			}
		}
	}
	if kind == "users" {
		m.user(from).name = to
		for id, u := range m.faults {
			if u == from {
				m.faults[id] = to
			}
		}
		return
	}
	for _, u := range m.users {
		u.groups = swap(u.groups)
	}
	m.groups = swap(m.groups)
	id := m.groupID(from)
	delete(m.gid, from)
	if id != to {
		m.gid[to] = id
	}
}

// removeUser deletes a user and the runtime faults that match it.
func (m *model) removeUser(name string) {
	m.users = slices.DeleteFunc(m.users, func(v *mUser) bool { return v.name == name })
	for id, u := range m.faults {
		if u == name {
			delete(m.faults, id)
		}
	}
}

// faulted reports whether a runtime fault matches the user's exchanges.
func (m *model) faulted(name string) bool {
	for _, u := range m.faults {
		if u == name {
			return true
		}
	}
	return false
}

func (m *model) enabledAdmins() int {
	n := 0
	for _, u := range m.users {
		if u.admin && !u.disabled {
			n++
		}
	}
	return n
}

// canon is the part of a configuration the model covers, in a form to
// compare: users, groups, and the files server's access and deny.
type canon struct {
	Users  []string
	Groups []string
	Access []string
	Deny   []string
}

func setOf(list []string) string {
	s := append([]string{}, list...)
	slices.Sort(s)
	s = slices.Compact(s)
	b, _ := json.Marshal(s)
	return string(b)
}

// sortedOf is list sorted, its repetitions kept.
func sortedOf(list []string) string {
	s := slices.Sorted(slices.Values(list))
	b, _ := json.Marshal(s)
	return string(b)
}

func entryCanon(users, groups []string, expires time.Time) string {
	s := "users=" + setOf(users) + " groups=" + setOf(groups)
	if !expires.IsZero() {
		s += " expires=" + expires.UTC().Format(time.RFC3339Nano)
	}
	return s
}

func (m *model) canon() canon {
	c := canon{[]string{}, []string{}, []string{}, []string{}}
	for _, u := range m.users {
		c.Users = append(c.Users, fmt.Sprintf("%q sub=%q groups=%s disabled=%v admin=%v claims=%s", u.name, u.sub, setOf(u.groups), u.disabled, u.admin, claimsCanon(u.claims)))
	}
	for _, g := range m.groups {
		c.Groups = append(c.Groups, fmt.Sprintf("%q id=%q", g, m.groupID(g)))
	}
	for _, e := range m.access {
		c.Access = append(c.Access, entryCanon(e.users, e.groups, e.expires))
	}
	for _, e := range m.deny {
		c.Deny = append(c.Deny, entryCanon(e.users, e.groups, e.expires))
	}
	slices.Sort(c.Users)
	slices.Sort(c.Groups)
	return c
}

func configCanon(cfg *policy.Config) canon {
	c := canon{[]string{}, []string{}, []string{}, []string{}}
	for _, u := range cfg.Users {
		c.Users = append(c.Users, fmt.Sprintf("%q sub=%q groups=%s disabled=%v admin=%v claims=%s", u.Username, u.Sub, setOf(u.Groups), u.Disabled, u.Admin, claimsCanon(u.Claims)))
	}
	for _, g := range cfg.Groups {
		c.Groups = append(c.Groups, fmt.Sprintf("%q id=%q", g.Name, g.SCIMID()))
	}
	for _, s := range cfg.MCPServers {
		if s.ID != "files" {
			continue
		}
		for _, e := range s.Access {
			var exp time.Time
			if !e.Expires.IsZero() {
				exp = e.Expires.T()
			}
			c.Access = append(c.Access, entryCanon(e.Users, e.Groups, exp))
		}
		for _, e := range s.Deny {
			c.Deny = append(c.Deny, entryCanon(e.Users, e.Groups, time.Time{}))
		}
	}
	slices.Sort(c.Users)
	slices.Sort(c.Groups)
	return c
}

// claimsCanon writes claims as JSON, numbers as float64 write (a file
// read back holds ints).
func claimsCanon(claims map[string]any) string {
	if len(claims) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(claims)
	var v any
	json.Unmarshal(b, &v)
	b, _ = json.Marshal(v)
	return string(b)
}

func (c canon) String() string {
	b, _ := json.MarshalIndent(c, "", "  ")
	return string(b)
}

// modelRun is one run of the state model test.
type modelRun struct {
	t    *testing.T
	p    *product
	rng  *rand.Rand
	m    *model
	seq  int
	log  []string // the steps so far, printed on failure
	seed uint64
	// console is alice's browser on the console, signed in when needed.
	console *http.Client
	// outcomes counts the changes made and refused, by kind and status.
	outcomes map[string]int
}

func (r *modelRun) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf("%d: ", len(r.log))+fmt.Sprintf(format, args...))
}

func (r *modelRun) fail(format string, args ...any) {
	r.t.Helper()
	tail := r.log
	if len(tail) > 30 {
		tail = tail[len(tail)-30:]
	}
	r.t.Fatalf("seed %d (XAA_STATEMODEL_SEED=%d): %s\nlast steps:\n%s", r.seed, r.seed, fmt.Sprintf(format, args...), strings.Join(tail, "\n"))
}

// do sends an admin API request as alice with a JSON body (nil for none).
func (r *modelRun) do(method, path string, body any, header ...string) (int, []byte, http.Header) {
	r.t.Helper()
	resp, b := r.p.send(r.t, method, path, "alice", body, header...)
	return resp.StatusCode, b, resp.Header
}

func (r *modelRun) etag() string {
	r.t.Helper()
	code, body, h := r.do("GET", "/admin/api/status", nil)
	if code != 200 {
		r.fail("status: %d %s", code, body)
	}
	return h.Get("ETag")
}

func (r *modelRun) file() []byte {
	b, err := os.ReadFile(r.p.file)
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

func userPath(name string) string  { return "/admin/api/users/" + url.PathEscape(name) }
func groupPath(name string) string { return "/admin/api/groups/" + url.PathEscape(name) }

func (r *modelRun) pick(list []string) string { return list[r.rng.IntN(len(list))] }

// someGroups is a random subset of the model's groups.
func (r *modelRun) someGroups() []string {
	out := []string{}
	for _, g := range r.m.groups {
		if r.rng.IntN(3) == 0 {
			out = append(out, g)
		}
	}
	return out
}

func (r *modelRun) someUsers() []string {
	out := []string{}
	for _, u := range r.m.users {
		if r.rng.IntN(3) == 0 {
			out = append(out, u.name)
		}
	}
	return out
}

func (r *modelRun) newName() string {
	if r.rng.IntN(4) == 0 {
		r.seq++
		return "n" + strconv.Itoa(r.seq) + r.pick([]string{"", " ü", ": x", "#y", "- z"})
	}
	return r.pick(awkwardNames)
}

// expect checks the outcome of a change: a success applies next to the
// model; a refusal must leave the file and the ETag as they were.
func (r *modelRun) expect(what string, code int, body []byte, want int, before []byte, etag string, next *model) {
	r.t.Helper()
	r.logf("%s -> %d", what, code)
	kind := what
	if i := strings.IndexAny(what, "\"["); i > 0 {
		kind = strings.TrimSpace(what[:i])
	}
	r.outcomes[fmt.Sprintf("%s -> %d", kind, code)]++
	if code != want {
		r.fail("%s: %d %s, want %d", what, code, body, want)
	}
	if code >= 300 {
		if after := r.file(); !bytes.Equal(after, before) {
			r.fail("%s was refused (%d) but the file changed:\n%s", what, code, after)
		}
		if e := r.etag(); e != etag {
			r.fail("%s was refused (%d) but the ETag moved from %s to %s", what, code, etag, e)
		}
		return
	}
	r.m = next
}

// created records the SCIM id of a group an answer created.
func (m *model) created(name string, body []byte) {
	var g struct{ ID string }
	json.Unmarshal(body, &g)
	if g.ID != "" && g.ID != name {
		m.gid[name] = g.ID
	}
}

// usernameOK reports whether a user may be named so.
func usernameOK(name string) bool { return !slices.Contains(refusedUsernames, name) }

func (r *modelRun) opPutUser() {
	name := r.newName()
	if r.rng.IntN(10) == 0 {
		name = r.pick(refusedUsernames)
	}
	if name == "alice" {
		return
	}
	groups := r.someGroups()
	unknown := r.rng.IntN(8) == 0
	if unknown {
		groups = append(groups, "no-such-group")
	}
	dup := r.rng.IntN(6) == 0 && len(groups) > 0
	if dup {
		groups = append(groups, groups[0]) // a duplicate: refused
	}
	pw := "pw-" + strconv.Itoa(r.rng.IntN(1000))
	before, etag := r.file(), r.etag()
	code, body, _ := r.do("PUT", userPath(name), map[string]any{"password": pw, "groups": groups})
	next := r.m.clone()
	want := 200
	switch {
	case !usernameOK(name) || unknown || dup:
		want = 400
	case next.user(name) == nil:
		want = 201
		next.users = append(next.users, &mUser{name: name, pw: pw})
	}
	if want != 400 {
		u := next.user(name)
		u.pw, u.groups, u.disabled, u.admin, u.claims = pw, slices.Compact(slices.Clone(groups)), false, false, nil
		if code < 300 {
			var v struct{ Sub string }
			json.Unmarshal(body, &v)
			if u.sub == "" {
				u.sub = v.Sub
			} else if v.Sub != u.sub {
				r.fail("PUT user %q changed its sub from %q to %q", name, u.sub, v.Sub)
			}
			if !strings.HasPrefix(u.sub, "u-") {
				r.fail("PUT user %q: sub %q", name, v.Sub)
			}
		}
	}
	r.expect(fmt.Sprintf("PUT user %q groups %q", name, groups), code, body, want, before, etag, next)
}

func (r *modelRun) anyUser() *mUser { return r.m.users[r.rng.IntN(len(r.m.users))] }

func (r *modelRun) opPatchUser() {
	u := r.anyUser()
	next := r.m.clone()
	nu := next.user(u.name)
	var patch map[string]any
	want := 200
	switch n := r.rng.IntN(3); {
	case n == 2:
		// Claims named and valued so that YAML must quote them.
		patch = map[string]any{}
		claims := map[string]any{}
		for range r.rng.IntN(3) + 1 {
			k := r.pick(awkwardNames[:36])
			switch n := r.rng.IntN(4); {
			case n == 0 && nu.claims[k] != nil:
				claims[k] = nil // removes it
			case n == 1:
				claims[k] = []any{42, -7, 3.5, 0.25, 1000000, true, false, []any{"\nx", "yes", 1}, map[string]any{"<<": "\n"}}[r.rng.IntN(9)]
			default:
				claims[k] = r.pick(slices.Concat(awkwardNames[:36], []string{"2024-01-15", "0123", "+15555550100", "1.10", "1_000", "0o17", "<<", "a\nb", "\nx"}))
			}
		}
		patch["claims"] = claims
		if nu.claims == nil {
			nu.claims = map[string]any{}
		}
		for k, v := range claims {
			if v == nil {
				delete(nu.claims, k)
			} else {
				nu.claims[k] = v
			}
		}
	case n == 1:
		nu.disabled = !u.disabled
		patch = map[string]any{"disabled": nu.disabled}
		if nu.disabled && u.admin && r.m.enabledAdmins() == 1 {
			want = 409
		}
	default:
		nu.groups = r.someGroups()
		patch = map[string]any{"groups": nu.groups}
	}
	before, etag := r.file(), r.etag()
	code, body, _ := r.do("PATCH", userPath(u.name), patch)
	r.expect(fmt.Sprintf("PATCH user %q %v", u.name, patch), code, body, want, before, etag, next)
}

func (r *modelRun) opDeleteUser() {
	u := r.anyUser()
	prune := r.rng.IntN(2) == 0
	next := r.m.clone()
	want := 204
	switch {
	case u.admin && !u.disabled && r.m.enabledAdmins() == 1:
		want = 409
	case !prune && r.m.referenced("users", u.name):
		want = 400
	}
	if prune {
		next.prune("users", u.name)
	}
	next.removeUser(u.name)
	before, etag := r.file(), r.etag()
	code, body, _ := r.do("DELETE", userPath(u.name)+"?prune="+strconv.FormatBool(prune), nil)
	if want == 409 && code == 400 && !prune && r.m.referenced("users", u.name) {
		want = 400 // refused for either reason
	}
	r.expect(fmt.Sprintf("DELETE user %q prune=%v", u.name, prune), code, body, want, before, etag, next)
}

func (r *modelRun) opPutGroup() {
	name := r.newName()
	if r.rng.IntN(12) == 0 {
		name = strings.Repeat("g", 257)
	}
	next := r.m.clone()
	want := 200
	switch {
	case len(name) > 256:
		want = 400
	case !slices.Contains(next.groups, name):
		want = 201
		next.groups = append(next.groups, name)
	}
	before, etag := r.file(), r.etag()
	code, body, _ := r.do("PUT", groupPath(name), map[string]any{"description": "d " + name})
	if want == 201 && code == 201 {
		next.created(name, body)
	}
	r.expect(fmt.Sprintf("PUT group %q", name), code, body, want, before, etag, next)
}

func (r *modelRun) opDeleteGroup() {
	if len(r.m.groups) == 0 {
		return
	}
	name := r.pick(r.m.groups)
	prune := r.rng.IntN(2) == 0
	next := r.m.clone()
	want := 204
	if !prune && r.m.referenced("groups", name) {
		want = 400
	}
	if prune {
		next.prune("groups", name)
	}
	next.groups = slices.DeleteFunc(next.groups, func(s string) bool { return s == name })
	delete(next.gid, name)
	before, etag := r.file(), r.etag()
	code, body, _ := r.do("DELETE", groupPath(name)+"?prune="+strconv.FormatBool(prune), nil)
	r.expect(fmt.Sprintf("DELETE group %q prune=%v", name, prune), code, body, want, before, etag, next)
}

func (r *modelRun) entries(access bool) ([]mEntry, []map[string]any, bool) {
	var model []mEntry
	body := []map[string]any{}
	bad := false
	for range r.rng.IntN(3) + boolInt(access) {
		e := mEntry{users: r.someUsers(), groups: r.someGroups()}
		if len(e.users)+len(e.groups) == 0 {
			if len(r.m.groups) > 0 {
				e.groups = []string{r.pick(r.m.groups)}
			} else {
				e.users = []string{r.anyUser().name}
			}
		}
		if r.rng.IntN(10) == 0 {
			e.users = append(e.users, "no-such-user")
			bad = true
		}
		model = append(model, e)
		b := map[string]any{}
		if len(e.users) > 0 {
			b["users"] = e.users
		}
		if len(e.groups) > 0 {
			b["groups"] = e.groups
		}
		if access {
			b["scopes"] = []string{"files.read"}
		}
		body = append(body, b)
	}
	return model, body, bad
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *modelRun) opPutAccess(access bool) {
	entries, body, bad := r.entries(access)
	next := r.m.clone()
	path := "/admin/api/servers/files/access"
	if access {
		next.access = entries
	} else {
		next.deny = entries
		path = "/admin/api/servers/files/deny"
	}
	want := 200
	if bad {
		want = 400
	}
	before, etag := r.file(), r.etag()
	code, b, _ := r.do("PUT", path, body)
	r.expect(fmt.Sprintf("PUT %s %v", path, body), code, b, want, before, etag, next)
}

func (r *modelRun) scim(method, path string, body string) (int, map[string]any) {
	r.t.Helper()
	resp, m := r.p.scim(r.t, method, path, body)
	return resp.StatusCode, m
}

func (r *modelRun) opSCIMCreate() {
	name := r.newName()
	next := r.m.clone()
	want := 201
	switch {
	case !usernameOK(name):
		want = 400
	case takenFold(next.usernames(), name, ""):
		want = 409
	}
	before, etag := r.file(), r.etag()
	payload, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name, "active": true})
	code, m := r.scim("POST", "/Users", string(payload))
	if want == 201 && code == 201 {
		id, _ := m["id"].(string)
		next.users = append(next.users, &mUser{name: name, sub: id, groups: []string{}})
	}
	b, _ := json.Marshal(m)
	r.expect(fmt.Sprintf("SCIM POST user %q", name), code, b, want, before, etag, next)
}

func (r *modelRun) opSCIMActive() {
	u := r.anyUser()
	next := r.m.clone()
	nu := next.user(u.name)
	nu.disabled = !u.disabled
	want := 200
	if nu.disabled && u.admin && r.m.enabledAdmins() == 1 {
		want = 409
	}
	before, etag := r.file(), r.etag()
	code, m := r.scim("PATCH", "/Users/"+url.PathEscape(u.sub), fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":%v}]}`, !nu.disabled))
	b, _ := json.Marshal(m)
	r.expect(fmt.Sprintf("SCIM PATCH %q active=%v", u.name, !nu.disabled), code, b, want, before, etag, next)
}

func (r *modelRun) opSCIMDelete() {
	u := r.anyUser()
	next := r.m.clone()
	want := 204
	if u.admin && !u.disabled && r.m.enabledAdmins() == 1 {
		want = 409
	}
	next.prune("users", u.name)
	next.removeUser(u.name)
	before, etag := r.file(), r.etag()
	code, m := r.scim("DELETE", "/Users/"+url.PathEscape(u.sub), "")
	b, _ := json.Marshal(m)
	r.expect(fmt.Sprintf("SCIM DELETE %q", u.name), code, b, want, before, etag, next)
}

func (r *modelRun) opSCIMMembers() {
	if len(r.m.groups) == 0 {
		return
	}
	g := r.pick(r.m.groups)
	u := r.anyUser()
	add := r.rng.IntN(2) == 0
	next := r.m.clone()
	nu := next.user(u.name)
	var ops string
	if add {
		if !slices.Contains(nu.groups, g) {
			nu.groups = append(nu.groups, g)
		}
		ops = fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, u.sub)
	} else {
		nu.groups = slices.DeleteFunc(nu.groups, func(s string) bool { return s == g })
		path, _ := json.Marshal("members[value eq " + strconv.Quote(u.sub) + "]")
		ops = fmt.Sprintf(`{"op":"remove","path":%s}`, path)
	}
	before, etag := r.file(), r.etag()
	code, m := r.scim("PATCH", "/Groups/"+url.PathEscape(r.m.groupID(g)), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`)
	b, _ := json.Marshal(m)
	want := 200
	if code == 204 {
		want = 204 // RFC 7644 3.5.2 allows either
	}
	r.expect(fmt.Sprintf("SCIM PATCH group %q add=%v %q", g, add, u.name), code, b, want, before, etag, next)
}

// opSCIMRenameUser changes a user's userName: the entries that name it
// follow, its sub stays.
func (r *modelRun) opSCIMRenameUser() {
	u := r.anyUser()
	if u.name == "alice" {
		return // the test's admin
	}
	to := r.newName()
	next := r.m.clone()
	want := 200
	switch {
	case !usernameOK(to):
		want = 400
	case takenFold(next.usernames(), to, u.name):
		want = 409
	default:
		next.rename("users", u.name, to)
	}
	before, etag := r.file(), r.etag()
	payload, _ := json.Marshal(to)
	code, m := r.scim("PATCH", "/Users/"+url.PathEscape(u.sub), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":`+string(payload)+`}]}`)
	b, _ := json.Marshal(m)
	r.expect(fmt.Sprintf("SCIM rename user %q to %q", u.name, to), code, b, want, before, etag, next)
}

// opSCIMGroup creates, renames or deletes a group by SCIM.
func (r *modelRun) opSCIMGroup() {
	next := r.m.clone()
	before, etag := r.file(), r.etag()
	switch n := r.rng.IntN(3); {
	case n == 0 || len(r.m.groups) == 0:
		name := r.newName()
		want := 201
		switch {
		case takenFold(next.groups, name, ""):
			want = 409
		case len(name) > 256:
			want = 400
		}
		payload, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name})
		code, m := r.scim("POST", "/Groups", string(payload))
		b, _ := json.Marshal(m)
		if want == 201 && code == 201 {
			next.groups = append(next.groups, name)
			next.created(name, b)
		}
		r.expect(fmt.Sprintf("SCIM POST group %q", name), code, b, want, before, etag, next)
	case n == 1:
		from, to := r.pick(r.m.groups), r.newName()
		want := 200
		switch {
		case takenFold(next.groups, to, from):
			want = 409
		case len(to) > 256:
			want = 400
		default:
			next.rename("groups", from, to)
		}
		payload, _ := json.Marshal(to)
		code, m := r.scim("PATCH", "/Groups/"+url.PathEscape(r.m.groupID(from)), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":`+string(payload)+`}]}`)
		b, _ := json.Marshal(m)
		r.expect(fmt.Sprintf("SCIM rename group %q (id %q) to %q", from, r.m.groupID(from), to), code, b, want, before, etag, next)
	default:
		name := r.pick(r.m.groups)
		next.prune("groups", name)
		next.groups = slices.DeleteFunc(next.groups, func(s string) bool { return s == name })
		delete(next.gid, name)
		code, m := r.scim("DELETE", "/Groups/"+url.PathEscape(r.m.groupID(name)), "")
		b, _ := json.Marshal(m)
		r.expect(fmt.Sprintf("SCIM DELETE group %q (id %q)", name, r.m.groupID(name)), code, b, 204, before, etag, next)
	}
}

// consolePage opens a console page as alice, signing in first when the
// console sends her to the login page (at the start, and once the clock
// has moved past her session).
func (r *modelRun) consolePage(path string) (*http.Response, string) {
	r.t.Helper()
	if r.console == nil {
		jar, _ := cookiejar.New(nil)
		r.console = &http.Client{Jar: jar}
	}
	get := func() (*http.Response, string) {
		resp, err := r.console.Get(r.p.base + path)
		if err != nil {
			r.t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp, b.String()
	}
	resp, page := get()
	if !strings.Contains(resp.Request.URL.Path, "/login") {
		return resp, page
	}
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		r.fail("the console's login page has no authRequestID:\n%s", page)
	}
	resp, err := r.console.PostForm(r.p.base+"/login", url.Values{"authRequestID": {m[1]}, "username": {"alice"}, "password": {"alice-pw"}})
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	return get()
}

// formValues are the values a browser sends for the form with this id:
// its inputs, the checkboxes that are checked.
func formValues(page, id string) (url.Values, bool) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return nil, false
	}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var form *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "form" {
			if v, _ := attr(n, "id"); v == id {
				form = n
				break
			}
		}
	}
	if form == nil {
		return nil, false
	}
	out := url.Values{}
	for n := range form.Descendants() {
		if n.Type != html.ElementNode || n.Data != "input" {
			continue
		}
		name, _ := attr(n, "name")
		value, _ := attr(n, "value")
		typ, _ := attr(n, "type")
		if _, checked := attr(n, "checked"); name == "" || typ == "checkbox" && !checked {
			continue
		}
		out.Add(name, value)
	}
	return out, true
}

// consoleName writes a name as the console's editor reads it: in double
// quotes when it holds a comma or a quote or begins or ends with a space.
func consoleName(n string) string {
	if strings.ContainsAny(n, ",\"") || strings.TrimSpace(n) != n {
		return `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
	}
	return n
}

// opConsole saves the files server's access or deny list in the console
// as alice: the form as the page shows it (nothing changes), or with its
// blank row filled with some groups and users.
func (r *modelRun) opConsole() {
	resp, page := r.consolePage("/admin/servers/files")
	if resp.StatusCode != 200 {
		r.fail("the console's files page: %d\n%s", resp.StatusCode, page)
	}
	access := r.rng.IntN(2) == 0
	id, prefix, path := "deny-form", "d", "/admin/servers/files/deny"
	if access {
		id, prefix, path = "access-form", "a", "/admin/servers/files/access"
	}
	form, ok := formValues(page, id)
	if !ok {
		r.fail("no %s on the console's page:\n%s", id, page)
	}
	next := r.m.clone()
	what := "as shown"
	if r.rng.IntN(2) == 0 {
		n, _ := strconv.Atoi(form.Get("n"))
		row := fmt.Sprintf("%s%d.", prefix, n-1) // the blank row
		e := mEntry{groups: r.someGroups(), users: r.someUsers()}
		if len(e.groups)+len(e.users) > 0 {
			var gs, us []string
			for _, g := range e.groups {
				gs = append(gs, consoleName(g))
			}
			for _, u := range e.users {
				us = append(us, consoleName(u))
			}
			form.Set(row+"groups", strings.Join(gs, ", "))
			form.Set(row+"users", strings.Join(us, ", "))
			if access {
				form.Set(row+"scopes", "files.read")
				next.access = append(next.access, e)
			} else {
				next.deny = append(next.deny, e)
			}
			what = fmt.Sprintf("with groups %q users %q", form.Get(row+"groups"), form.Get(row+"users"))
		}
	}
	before, etag := r.file(), r.etag()
	noRedirect := *r.console
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.PostForm(r.p.base+path, form)
	if err != nil {
		r.t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	code := resp.StatusCode
	if code == http.StatusSeeOther {
		code = 200
	}
	r.expect(fmt.Sprintf("console: save %s %s", id, what), code, b.Bytes(), 200, before, etag, next)
	if what == "as shown" && !bytes.Equal(r.file(), before) {
		r.fail("the console's %s saved as shown rewrote the file:\n%s\nwas:\n%s", id, r.file(), before)
	}
}

// opFault adds a runtime fault that fails a user's token exchanges, or
// removes one.
func (r *modelRun) opFault() {
	if len(r.m.faults) > 0 && r.rng.IntN(3) == 0 {
		ids := slices.Sorted(maps.Keys(r.m.faults))
		id := r.pick(ids)
		code, body, _ := r.do("DELETE", "/admin/api/faults/"+url.PathEscape(id), nil)
		r.logf("DELETE fault %s (user %q) -> %d", id, r.m.faults[id], code)
		if code != 204 {
			r.fail("DELETE fault %s: %d %s", id, code, body)
		}
		delete(r.m.faults, id)
		return
	}
	name := r.anyUser().name
	if r.rng.IntN(8) == 0 {
		name = "no-such-user"
	}
	code, body, _ := r.do("POST", "/admin/api/faults", map[string]any{
		"match": map[string]any{"user": name, "grant_type": "token-exchange"},
		"error": map[string]any{"code": "temporarily_unavailable"},
	})
	r.logf("POST fault for %q -> %d", name, code)
	r.outcomes[fmt.Sprintf("POST fault -> %d", code)]++
	var f struct{ ID string }
	switch {
	case name == "no-such-user" && code == 400:
	case code == 201 && json.Unmarshal(body, &f) == nil && f.ID != "":
		r.m.faults[f.ID] = name
	default:
		r.fail("POST fault for %q: %d %s", name, code, body)
	}
}

// checkFaults compares GET /admin/api/faults with the model.
func (r *modelRun) checkFaults() {
	r.t.Helper()
	code, body, _ := r.do("GET", "/admin/api/faults", nil)
	var list []struct {
		ID    string
		Match struct{ User string }
	}
	if code != 200 || json.Unmarshal(body, &list) != nil {
		r.fail("GET faults: %d %s", code, body)
	}
	got := map[string]string{}
	for _, f := range list {
		got[f.ID] = f.Match.User
	}
	if !maps.Equal(got, r.m.faults) {
		r.fail("GET faults: %v, the model has %v", got, r.m.faults)
	}
}

// opEditRename renames a user by editing the file, keeping its sub, as
// an operator would: its runtime faults follow it; refused (the file kept
// as the operator wrote it, the running configuration as it was) when an
// access or deny entry still names the old name.
func (r *modelRun) opEditRename() {
	var u *mUser
	var at int
	data := r.file()
	for _, v := range r.m.users {
		if v.name == "alice" {
			continue
		}
		q, _ := json.Marshal(v.name)
		if i := bytes.Index(data, []byte("{username: "+string(q)+", ")); i >= 0 {
			u, at = v, i+len("{username: ")
			break
		}
	}
	if u == nil {
		return
	}
	r.seq++
	to := fmt.Sprintf("renamed-%d %s", r.seq, r.pick(awkwardNames[:30]))
	q, _ := json.Marshal(u.name)
	nq, _ := json.Marshal(to)
	sq, _ := json.Marshal(u.sub)
	repl := string(nq)
	if !bytes.Contains(data[at:at+bytes.IndexByte(data[at:], '\n')], []byte("sub:")) {
		repl += ", sub: " + string(sq)
	}
	edited := slices.Concat(data[:at], []byte(repl), data[at+len(q):])
	etag := r.etag()
	if err := atomicWrite(r.p.file, edited); err != nil {
		r.t.Fatal(err)
	}
	r.p.store.CheckFile()
	r.p.store.CheckFile()
	refused := r.m.referenced("users", u.name)
	r.logf("edit file: rename %q to %q (refused: %v)", u.name, to, refused)
	r.outcomes[fmt.Sprintf("edit file: rename a user, refused %v", refused)]++
	if !refused {
		r.m.rename("users", u.name, to)
		if r.etag() == etag {
			r.fail("the file was edited but the ETag stayed %s", etag)
		}
		return
	}
	r.checkRunning()
	r.checkFaults()
	if err := atomicWrite(r.p.file, data); err != nil {
		r.t.Fatal(err)
	}
	r.p.store.CheckFile()
	r.p.store.CheckFile()
}

// opEditFile adds a user by editing the file as an operator would, then
// has the store read it; one time in four the edit names a group that
// does not exist, which must be refused, every change made 409 until the
// file is put back.
func (r *modelRun) opEditFile() {
	data := r.file()
	i := bytes.Index(data, []byte("# statemodel: the users comment\n"))
	if i < 0 {
		r.fail("the users comment is gone:\n%s", data)
	}
	indent := data[bytes.LastIndexByte(data[:i], '\n')+1 : i]
	r.seq++
	name := fmt.Sprintf("hand-%d %s", r.seq, r.pick(awkwardNames[:30]))
	bad := r.rng.IntN(4) == 0
	groups := r.someGroups()
	if bad {
		groups = append(groups, "no-such-group")
	}
	nm, _ := json.Marshal(name)
	gs, _ := json.Marshal(groups)
	line := fmt.Sprintf("%s- {username: %s, password: hand-pw, groups: %s} # statemodel: by hand\n", indent, nm, gs)
	// Above the comment, which stays alice's: removing an entry takes the
	// comments above it along (internal/yamlpatch).
	start := i - len(indent)
	edited := append(append(slices.Clone(data[:start]), line...), data[start:]...)
	etag := r.etag()
	if err := os.WriteFile(r.p.file, edited, 0o600); err != nil {
		r.t.Fatal(err)
	}
	r.p.store.CheckFile() // as the watcher: once it looks the same twice
	r.p.store.CheckFile()
	r.logf("edit file: %s bad=%v", strings.TrimSpace(line), bad)
	r.outcomes[fmt.Sprintf("edit file: add a user, refused %v", bad)]++
	if !bad {
		r.m.users = append(r.m.users, &mUser{name: name, pw: "hand-pw", sub: policy.DefaultSub(name), groups: slices.Compact(groups)})
		if e := r.etag(); e == etag {
			r.fail("the file was edited but the ETag stayed %s", e)
		}
		return
	}
	// Refused: the running configuration is the model's still, and a change
	// is 409 naming the file, nothing written.
	r.checkRunning()
	code, body, _ := r.do("PUT", groupPath("while-broken"), map[string]any{})
	if code != 409 {
		r.fail("a change while the file is invalid: %d %s, want 409", code, body)
	}
	if got := r.file(); !bytes.Equal(got, edited) {
		r.fail("a change while the file is invalid rewrote it:\n%s", got)
	}
	if err := os.WriteFile(r.p.file, data, 0o600); err != nil {
		r.t.Fatal(err)
	}
	r.p.store.CheckFile()
	r.p.store.CheckFile()
}

// opStale sends a change with an ETag from before another change.
func (r *modelRun) opStale() {
	old := r.etag()
	r.opPutGroup()
	if r.etag() == old {
		return // refused, or a replaced group that is the same
	}
	before, etag := r.file(), r.etag()
	code, body, _ := r.do("PUT", groupPath("stale"), map[string]any{}, "If-Match", old)
	r.expect("PUT group stale with a stale If-Match", code, body, 412, before, etag, nil)
}

// opRace sends two changes at once: with the same If-Match, exactly one
// wins and the other is 412; without, both are made.
func (r *modelRun) opRace() {
	guarded := r.rng.IntN(2) == 0
	etag := r.etag()
	r.seq++
	names := []string{fmt.Sprintf("race-%d-a %s", r.seq, r.pick(awkwardNames[:30])), fmt.Sprintf("race-%d-b", r.seq)}
	if names[0] == names[1] {
		return
	}
	var wg sync.WaitGroup
	codes := make([]int, 2)
	bodies := make([][]byte, 2)
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h []string
			if guarded {
				h = []string{"If-Match", etag}
			}
			req, _ := http.NewRequest("PUT", r.p.base+groupPath(name), strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth("alice", "alice-pw")
			for j := 0; j+1 < len(h); j += 2 {
				req.Header.Set(h[j], h[j+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			codes[i], bodies[i] = resp.StatusCode, b.Bytes()
		}()
	}
	wg.Wait()
	r.logf("race guarded=%v %q -> %v", guarded, names, codes)
	r.outcomes[fmt.Sprintf("race: two PUT group, If-Match %v -> %v", guarded, codes)]++
	for i, name := range names {
		switch {
		case codes[i] == 201:
			r.m.groups = append(r.m.groups, name)
			r.m.created(name, bodies[i])
		case guarded && codes[i] == 412:
		default:
			r.fail("race guarded=%v: PUT group %q: %d %s", guarded, name, codes[i], bodies[i])
		}
	}
	if guarded && (codes[0] == 201) == (codes[1] == 201) {
		r.fail("two changes with one If-Match: %v, want one 201 and one 412", codes)
	}
}

// now reads the IdP's clock.
func (r *modelRun) now() time.Time {
	r.t.Helper()
	code, body, _ := r.do("GET", "/admin/api/clock", nil)
	var c struct{ Time time.Time }
	if code != 200 || json.Unmarshal(body, &c) != nil {
		r.fail("GET clock: %d %s", code, body)
	}
	return c.Time
}

// opClock moves the IdP's clock past the approvals' expiry.
func (r *modelRun) opClock() {
	code, body, _ := r.do("PUT", "/admin/api/clock", map[string]any{"advance": "2h"})
	r.logf("clock +2h -> %d", code)
	r.outcomes[fmt.Sprintf("PUT clock +2h -> %d", code)]++
	if code != 200 {
		r.fail("PUT clock: %d %s", code, body)
	}
}

// approve is ApproveServerAccess on the model: expired entries go, the
// new entry replaces the user's own entries it outlasts, and is not added
// when one of them already grants as long.
func (m *model) approve(user string, expires, now time.Time) {
	alone := func(e mEntry) bool { return len(e.users) == 1 && len(e.groups) == 0 && e.users[0] == user }
	covered := slices.ContainsFunc(m.access, func(e mEntry) bool {
		return !e.expired(now) && alone(e) && (e.expires.IsZero() || !expires.IsZero() && !e.expires.Before(expires))
	})
	var kept []mEntry
	removed := 0
	for _, e := range m.access {
		gone := e.expired(now) || !covered && !e.expires.IsZero() && alone(e) && (expires.IsZero() || !expires.Before(e.expires))
		if gone && removed < policy.MaxRemoved {
			removed++
			continue
		}
		kept = append(kept, e)
	}
	if !covered {
		kept = append(kept, mEntry{users: []string{user}, expires: expires})
	}
	m.access = kept
}

// opAccessRequest has a user ask for the files server and alice approve
// (for an hour, or for good) or deny; now and then the approval first
// carries a stale If-Match.
func (r *modelRun) opAccessRequest() {
	u := r.anyUser()
	if u.pw == "" || u.disabled {
		return
	}
	tokens, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: r.p.base, ClientID: "mcp-client", ClientSecret: "s1", Username: u.name, Password: u.pw,
	})
	if err != nil {
		r.fail("login %q: %v", u.name, err)
	}
	at, _ := tokens["access_token"].(string)
	code, req := r.p.request(r.t, at, `{"server":"files","scopes":["files.read"],"reason":"statemodel"}`)
	denied := slices.ContainsFunc(r.m.deny, func(e mEntry) bool { return e.matches(u) })
	r.logf("access request by %q -> %d", u.name, code)
	switch {
	case denied && code == 403:
		return
	case denied || code != 201:
		r.fail("access request by %q (denied by the model: %v): %d %v", u.name, denied, code, req)
	}
	id, _ := req["id"].(string)
	path := "/admin/api/access-requests/" + url.PathEscape(id)
	if r.rng.IntN(4) == 0 {
		before, etag := r.file(), r.etag()
		code, body, _ := r.do("POST", path+"/deny", map[string]any{"reason": "no"})
		r.expect(fmt.Sprintf("deny the request of %q", u.name), code, body, 200, before, etag, r.m)
		return
	}
	body := map[string]any{}
	if r.rng.IntN(2) == 0 {
		body["expires_in"] = "1h"
	}
	if r.rng.IntN(5) == 0 {
		etag := r.etag()
		r.opPutGroup()
		if r.etag() != etag {
			before, etag := r.file(), r.etag()
			code, b, _ := r.do("POST", path+"/approve", body, "If-Match", `"stale"`)
			r.expect(fmt.Sprintf("approve the request of %q with a stale If-Match", u.name), code, b, 412, before, etag, nil)
		}
	}
	now := r.now()
	before, etag := r.file(), r.etag()
	code, b, _ := r.do("POST", path+"/approve", body)
	var got struct {
		Status  string    `json:"status"`
		Expires time.Time `json:"expires"`
	}
	json.Unmarshal(b, &got)
	if _, ok := body["expires_in"]; ok && (got.Expires.Before(now.Add(time.Hour)) || got.Expires.After(now.Add(time.Hour+2*time.Second))) {
		r.fail("approved for 1h at %s: expires %s", now, got.Expires)
	}
	next := r.m.clone()
	next.approve(u.name, got.Expires, now)
	r.expect(fmt.Sprintf("approve the request of %q %v", u.name, body), code, b, 200, before, etag, next)
	if got.Status != "approved" {
		r.fail("approved: %s", b)
	}
}

// opServerETag reads the files server's own ETag, makes another random
// change, and sends the server's deny list back with that ETag: 412 when
// the change touched the server's access or deny, else 200 and nothing
// changed.
func (r *modelRun) opServerETag(others []func()) {
	code, body, h := r.do("GET", "/admin/api/servers/files/deny", nil)
	if code != 200 {
		r.fail("GET deny: %d %s", code, body)
	}
	tag, was := h.Get("ETag"), r.m.canon()
	others[r.rng.IntN(len(others))]()
	now := r.m.canon()
	// As many entries each: a list sent with one entry three times is a
	// change of the server (its file, its ETag) though it grants the same.
	same := sortedOf(was.Access) == sortedOf(now.Access) && sortedOf(was.Deny) == sortedOf(now.Deny)
	before, etag := r.file(), r.etag()
	code, b, _ := r.do("PUT", "/admin/api/servers/files/deny", json.RawMessage(body), "If-Match", tag)
	want := 412
	if same {
		want = 200
		// Sent back unchanged: the file stays as it is.
		defer func() {
			if after := r.file(); !bytes.Equal(after, before) {
				r.fail("the deny list sent back unchanged rewrote the file:\n%s", after)
			}
		}()
	}
	r.expect("PUT deny with the server's ETag from before", code, b, want, before, etag, r.m)
}

// opEditRace saves the file, as an editor writes it in place, while an
// admin change is made: the change is made on top of the edit, or is 409
// and the edit stays; neither is ever lost.
func (r *modelRun) opEditRace() {
	data := r.file()
	i := bytes.Index(data, []byte("# statemodel: the users comment\n"))
	if i < 0 {
		r.fail("the users comment is gone:\n%s", data)
	}
	indent := data[bytes.LastIndexByte(data[:i], '\n')+1 : i]
	r.seq++
	user := fmt.Sprintf("edit-race-%d", r.seq)
	group := fmt.Sprintf("api-race-%d", r.seq)
	line := fmt.Sprintf("%s- {username: %s, password: hand-pw}\n", indent, user)
	start := i - len(indent)
	edited := append(append(slices.Clone(data[:start]), line...), data[start:]...)
	var wg sync.WaitGroup
	wg.Add(1)
	var code int
	var body []byte
	go func() {
		defer wg.Done()
		req, _ := http.NewRequest("PUT", r.p.base+groupPath(group), strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth("alice", "alice-pw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		code, body = resp.StatusCode, b.Bytes()
	}()
	time.Sleep(time.Duration(r.rng.IntN(3000)) * time.Microsecond)
	if r.rng.IntN(2) == 0 {
		if err := os.WriteFile(r.p.file, edited, 0o600); err != nil {
			r.t.Fatal(err)
		}
	} else if err := atomicWrite(r.p.file, edited); err != nil {
		r.t.Fatal(err)
	}
	wg.Wait()
	r.p.store.CheckFile()
	r.p.store.CheckFile()
	r.logf("edit race: PUT group %q -> %d", group, code)
	r.outcomes[fmt.Sprintf("edit race: PUT group -> %d", code)]++
	// The edit was made from the file as it was before the change: when
	// the change was written first, the save undoes it (documented), so a
	// 201 may leave the group out; the edit itself is never lost.
	cfg, err := policy.Parse(r.file(), r.p.file)
	if err != nil {
		r.fail("the file does not pass check after the race: %v", err)
	}
	switch {
	case code == 201 && cfg.Group(group) != nil:
		r.m.groups = append(r.m.groups, group)
		r.m.created(group, body)
	case code == 201, code == 409:
	default:
		r.fail("PUT group %q while the file is saved: %d %s", group, code, body)
	}
	r.m.users = append(r.m.users, &mUser{name: user, pw: "hand-pw", sub: policy.DefaultSub(user), groups: []string{}})
}

// atomicWrite saves the file as an editor that writes a copy and renames
// it over the file.
func atomicWrite(file string, data []byte) error {
	tmp := file + ".statemodel~"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// opRaceMembers makes two changes of one group's members, or of one
// user, at once without If-Match: both are made, neither undoes the other.
func (r *modelRun) opRaceMembers() {
	if len(r.m.groups) == 0 || len(r.m.users) < 2 {
		return
	}
	g := r.pick(r.m.groups)
	a, b := r.anyUser(), r.anyUser()
	if a == b {
		return
	}
	patchGroup := func(u *mUser) (int, []byte) {
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":%q}]}]}`, u.sub)
		req, _ := http.NewRequest("PATCH", r.p.base+scimBase+"/Groups/"+url.PathEscape(r.m.groupID(g)), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/scim+json")
		return r.raw(req)
	}
	addB := patchGroup
	second := func() (int, []byte) { return addB(b) }
	next := r.m.clone()
	for _, u := range []*mUser{a, b} {
		if nu := next.user(u.name); !slices.Contains(nu.groups, g) {
			nu.groups = append(nu.groups, g)
		}
	}
	what := fmt.Sprintf("add %q and %q to %q at once", a.name, b.name, g)
	if r.rng.IntN(2) == 0 && !(a.admin && r.m.enabledAdmins() == 1) {
		// a's name or disabled with a PATCH of the admin API, b into
		// the group with SCIM.
		na := next.user(a.name)
		na.groups = slices.Clone(a.groups)
		na.disabled = !a.disabled
		what = fmt.Sprintf("PATCH %q disabled=%v and add %q to %q at once", a.name, na.disabled, b.name, g)
		patchGroup = func(*mUser) (int, []byte) {
			body, _ := json.Marshal(map[string]any{"disabled": na.disabled})
			req, _ := http.NewRequest("PATCH", r.p.base+userPath(a.name), bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/merge-patch+json")
			return r.raw(req)
		}
	}
	var wg sync.WaitGroup
	codes := make([]int, 2)
	bodies := make([][]byte, 2)
	wg.Add(2)
	go func() { defer wg.Done(); codes[0], bodies[0] = patchGroup(a) }()
	go func() { defer wg.Done(); codes[1], bodies[1] = second() }()
	wg.Wait()
	r.logf("%s -> %v", what, codes)
	r.outcomes[fmt.Sprintf("race: two changes of one group or user -> %v", codes)]++
	if codes[0] != 200 || codes[1] != 200 {
		r.fail("%s: %v %s %s", what, codes, bodies[0], bodies[1])
	}
	r.m = next
}

// raw sends a request as alice.
func (r *modelRun) raw(req *http.Request) (int, []byte) {
	req.SetBasicAuth("alice", "alice-pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

// check compares every view with the model.
func (r *modelRun) check() {
	r.t.Helper()
	r.checkRunning()
	r.checkFile()
	r.checkFaults()
	r.checkDecision()
}

// checkRunning compares GET /admin/api/config with the model.
func (r *modelRun) checkRunning() {
	r.t.Helper()
	want := r.m.canon()
	code, body, _ := r.do("GET", "/admin/api/config", nil)
	if code != 200 {
		r.fail("GET config: %d %s", code, body)
	}
	var running policy.Config
	if err := json.Unmarshal(body, &running); err != nil {
		r.fail("GET config does not decode: %v", err)
	}
	if got := configCanon(&running); got.String() != want.String() {
		r.fail("GET /admin/api/config differs from the model:\n%s\nwant:\n%s\nfile:\n%s", got, want, r.file())
	}
}

// checkFile compares the file on disk, read as check reads it, with the
// model, and looks for the comments.
func (r *modelRun) checkFile() {
	r.t.Helper()
	want := r.m.canon()
	// The file as check reads it.
	data := r.file()
	cfg, err := policy.Parse(data, r.p.file)
	if err != nil {
		r.fail("the file does not pass check: %v\n%s", err, data)
	}
	if got := configCanon(cfg); got.String() != want.String() {
		r.fail("the file differs from the model:\n%s\nwant:\n%s\nfile:\n%s", got, want, data)
	}
	for _, c := range modelComments {
		if !bytes.Contains(data, []byte(c+"\n")) {
			r.fail("the comment %q is gone:\n%s", c, data)
		}
	}
}

// checkDecision compares explain and an exchange for a sampled user with
// the model's decision.
func (r *modelRun) checkDecision() {
	r.t.Helper()
	u := r.anyUser()
	q := url.Values{"user": {u.name}, "client": {"mcp-client"}, "audience": {"https://as.files.example"}}
	code, body, _ := r.do("GET", "/admin/api/explain?"+q.Encode(), nil)
	var ex struct {
		Allowed bool   `json:"allowed"`
		Reason  string `json:"reason"`
	}
	if code != 200 || json.Unmarshal(body, &ex) != nil {
		r.fail("explain %q: %d %s", u.name, code, body)
	}
	now := r.now()
	if ex.Allowed != r.m.allowed(u.name, now) {
		r.fail("explain %q: allowed %v (%s), the model says %v", u.name, ex.Allowed, ex.Reason, !ex.Allowed)
	}
	r.logf("  check %q: allowed %v", u.name, ex.Allowed)
	// The user's page of the admin API, and the user as SCIM shows it.
	code, body, _ = r.do("GET", userPath(u.name), nil)
	var view struct {
		Username string
		Access   []struct {
			Server  string
			Allowed bool
		}
	}
	if code != 200 || json.Unmarshal(body, &view) != nil || view.Username != u.name || len(view.Access) != 1 || view.Access[0].Allowed != r.m.allowed(u.name, now) {
		r.fail("GET user %q: %d %s, the model says allowed %v", u.name, code, body, r.m.allowed(u.name, now))
	}
	code, su := r.scim("GET", "/Users/"+url.PathEscape(u.sub), "")
	var groups []string
	list, _ := su["groups"].([]any)
	for _, g := range list {
		m, _ := g.(map[string]any)
		d, _ := m["display"].(string)
		v, _ := m["value"].(string)
		if v != r.m.groupID(d) {
			r.fail("SCIM GET user %q: group %q has the id %q, the model %q", u.name, d, v, r.m.groupID(d))
		}
		groups = append(groups, d)
	}
	if code != 200 || su["userName"] != u.name || su["active"] != !u.disabled || setOf(groups) != setOf(u.groups) {
		r.fail("SCIM GET user %q (%s): %d %v", u.name, u.sub, code, su)
	}
	if u.pw == "" {
		return // provisioned without a password: no login
	}
	if r.m.faulted(u.name) && !u.disabled {
		if code := r.exchangeError(u); code != "temporarily_unavailable" {
			r.fail("exchange for %q, whom a fault matches: %q, want temporarily_unavailable", u.name, code)
		}
		return
	}
	if got := r.exchange(u); got != r.m.allowed(u.name, now) {
		r.fail("exchange for %q: allowed %v, the model says %v", u.name, got, !got)
	}
}

func (r *modelRun) exchange(u *mUser) bool {
	switch code := r.exchangeError(u); code {
	case "":
		return true
	case "access_denied", "login_failed":
		return false
	default:
		r.fail("exchange %q: %s", u.name, code)
		return false
	}
}

// exchangeError logs the user in and asks for an ID-JAG for the files
// server: "" when granted, "login_failed" when the login is refused, else
// the error code.
func (r *modelRun) exchangeError(u *mUser) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tokens, err := idpclient.Login(ctx, idpclient.LoginOptions{
		Issuer: r.p.base, ClientID: "mcp-client", ClientSecret: "s1", Username: u.name, Password: u.pw,
	})
	if err != nil {
		if !u.disabled {
			r.fail("login %q: %v", u.name, err)
		}
		return "login_failed"
	}
	if u.disabled {
		r.fail("login %q succeeded though the user is disabled", u.name)
	}
	_, err = idpclient.Exchange(ctx, idpclient.ExchangeOptions{
		Issuer: r.p.base, ClientID: "mcp-client", ClientSecret: "s1", SubjectToken: tokens.IDToken(),
		Audience: "https://as.files.example", Resource: "https://mcp.files.example/mcp",
	})
	var e *idpclient.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	r.fail("exchange %q: %v", u.name, err)
	return ""
}

func TestStateModel(t *testing.T) {
	steps := 300
	if testing.Short() {
		steps = 60
	}
	if s, err := strconv.Atoi(os.Getenv("XAA_STATEMODEL_STEPS")); err == nil {
		steps = s
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("XAA_STATEMODEL_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d, %d steps", seed, steps)
	p := editableYAML(t, modelConfig)
	r := &modelRun{t: t, p: p, rng: rand.New(rand.NewPCG(seed, seed)), seed: seed, outcomes: map[string]int{}, m: &model{
		users:  []*mUser{{name: "alice", pw: "alice-pw", sub: "u-alice", groups: []string{"eng"}, admin: true}},
		groups: []string{"eng", "mkt"},
		gid:    map[string]string{},
		faults: map[string]string{},
		access: []mEntry{{groups: []string{"eng"}}},
	}}
	r.check()
	others := []func(){r.opPutUser, r.opPatchUser, r.opDeleteUser, r.opPutGroup, r.opDeleteGroup,
		func() { r.opPutAccess(true) }, func() { r.opPutAccess(false) }, r.opSCIMDelete, r.opSCIMMembers, r.opEditFile, r.opAccessRequest, r.opSCIMRenameUser, r.opSCIMGroup, r.opConsole}
	ops := []struct {
		weight int
		run    func()
	}{
		{6, r.opPutUser}, {4, r.opPatchUser}, {3, r.opDeleteUser},
		{4, r.opPutGroup}, {2, r.opDeleteGroup},
		{4, func() { r.opPutAccess(true) }}, {2, func() { r.opPutAccess(false) }},
		{3, r.opSCIMCreate}, {2, r.opSCIMActive}, {1, r.opSCIMDelete}, {3, r.opSCIMMembers},
		{2, r.opEditFile}, {1, r.opStale}, {2, r.opRace},
		{3, r.opAccessRequest}, {1, r.opClock},
		{2, func() { r.opServerETag(others) }}, {2, r.opEditRace},
		{2, r.opSCIMRenameUser}, {3, r.opSCIMGroup}, {3, r.opConsole}, {2, r.opFault}, {2, r.opRaceMembers}, {2, r.opEditRename},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	for range steps {
		n := r.rng.IntN(total)
		for _, o := range ops {
			if n -= o.weight; n < 0 {
				o.run()
				break
			}
		}
		r.check()
	}
	var lines []string
	for k, n := range r.outcomes {
		lines = append(lines, fmt.Sprintf("%5d %s", n, k))
	}
	slices.Sort(lines)
	t.Logf("seed %d, %d steps, %d users, %d groups at the end; changes:\n%s", seed, steps, len(r.m.users), len(r.m.groups), strings.Join(lines, "\n"))
}
