package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/filelock"
	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
)

// Store holds the running configuration and the YAML document it comes
// from, and is the one way to change them while xaa-idp runs. An edit
//
//   - names the version it was based on (ifMatch), and is refused with a
//     *StaleError when the configuration has changed since, so that two
//     admins never silently overwrite each other;
//   - is applied to a copy of the YAML document, keeping the comments and
//     layout of everything it does not touch;
//   - is validated as a whole with Parse, and refused with the Problems
//     when it is invalid, changing nothing;
//   - is recorded by its Journal, when it has one, before anything
//     changes, so that no change reaches the file unrecorded;
//   - is written back to the file, when there is one, atomically (a
//     temporary file in the same directory, fsync, rename, fsync of the
//     directory), so that a crash leaves either the old or the new file;
//   - and only then becomes the running configuration: the OnChange
//     functions are called with it, in the order of the versions.
//
// Without a file (the embedded demo configuration), edits live in memory:
// InMemory says so, and YAML returns the document for safekeeping.
//
// With a file, Watch picks up changes made by someone else (an editor, a
// deployment): a valid file becomes the running configuration, an invalid
// one is reported and the running configuration kept. Edits check the file
// first, so an edit never overwrites a change on disk that was not loaded.
//
// A Store is safe for concurrent use; edits are serialized.
type Store struct {
	edits // the edit methods, of the whole file

	file string // "" when the configuration lives in memory
	name string // the file name problems refer to

	mu            sync.Mutex // held by every edit and file check, for its whole length
	cur           atomic.Pointer[snapshot]
	onChange      []func(*Config)
	onReload      []func(Reload) error
	stamp         fileStamp    // the file as last read
	pending       string       // the file as last looked at, while it settles (see checkFileLocked)
	bad           string       // what the last failed reload read, not reported again
	badUnrecorded bool         // bad's refusal is not in the audit log yet (a full disk): the checks read the file again until it is
	checks        FileChecks   // the start's checks of the files the configuration names
	served        servedIssuer // set by ServesIssuer

	statusMu   sync.Mutex
	lastReload *Reload
	watching   bool
}

// snapshot is one version of the configuration.
type snapshot struct {
	data    []byte
	cfg     *Config
	version string
}

func newSnapshot(data []byte, cfg *Config) *snapshot {
	return &snapshot{data: data, cfg: cfg, version: Version(data)}
}

// Version is the version of a configuration document: a hash of its bytes,
// used as the ETag of the admin API.
func Version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// ServerVersion is the version of one MCP server's settings: edits of a
// server accept it as well as the document's Version, so that an admin
// editing one server is not stopped by changes to others.
func ServerVersion(s *MCPServer) string {
	b, err := json.Marshal(s)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "s" + hex.EncodeToString(sum[:15])
}

// OpenStore loads a configuration file into a Store that writes every edit
// back to it. Problems in the file are returned as Problems. Temporary files
// that an earlier process left behind when it was killed while writing are
// removed.
func OpenStore(file string) (*Store, error) { return OpenStoreChecked(file, FileChecks{}) }

// OpenStoreChecked is OpenStore, making the checks of fc as well: serve
// and demo open their file so, so that a key file they cannot use is
// reported at its line, as check reports it. Later reloads make no file
// checks (a key is read at start).
func OpenStoreChecked(file string, fc FileChecks) (*Store, error) {
	data, fi, err := readFile(file)
	if err != nil {
		return nil, Problems{{File: file, Msg: "cannot read the file: " + unwrapPathError(err).Error()}}
	}
	s := &Store{file: file, name: file, stamp: stampOf(fi), checks: fc}
	cfg, err := parse(s.viewOf(data), file, fc)
	if err != nil {
		return nil, err
	}
	RemoveTemporaries(file)
	s.edits = edits{s: s}
	s.cur.Store(newSnapshot(data, cfg))
	return s, nil
}

// viewOf is what the running configuration reads of data, the document
// as written (FileChecks.View).
func (s *Store) viewOf(data []byte) []byte {
	if s.checks.View == nil {
		return data
	}
	return s.checks.View(data)(data)
}

// NewStore returns a Store whose configuration, data, lives in memory only;
// name is the file name problems refer to.
func NewStore(data []byte, name string) (*Store, error) {
	cfg, err := Parse(data, name)
	if err != nil {
		return nil, err
	}
	s := &Store{name: name}
	s.edits = edits{s: s}
	s.cur.Store(newSnapshot(append([]byte(nil), data...), cfg))
	return s, nil
}

// Config returns the running configuration.
func (s *Store) Config() *Config { return s.cur.Load().cfg }

// Version returns the running configuration's version.
func (s *Store) Version() string { return s.cur.Load().version }

// YAML returns the running configuration's document, as the file holds it
// (passwords and secrets included).
func (s *Store) YAML() []byte { return s.Snapshot().YAML() }

// Snapshot is one version of the running configuration. Config, Version
// and YAML called one after the other may each see another version while
// edits run; a Snapshot's are all of the same one, so that what an admin
// reads and the version (ETag) an edit of it names agree.
type Snapshot struct {
	Config  *Config // the configuration (a TenantStore's: the tenant's)
	Version string  // the file's version
	sn      *snapshot
	tenant  string
	name    string // the file name problems refer to (Store.Name)
}

// YAML returns the Snapshot's document as Store.YAML (or TenantStore.YAML)
// does.
func (v Snapshot) YAML() []byte {
	if v.tenant != "" {
		return tenantYAML(v.sn, v.tenant)
	}
	return append([]byte(nil), v.sn.data...)
}

// Snapshot returns the running configuration, its version and document.
func (s *Store) Snapshot() Snapshot {
	sn := s.cur.Load()
	return Snapshot{Config: sn.cfg, Version: sn.version, sn: sn, name: s.name}
}

// Warnings returns the Warnings of the Snapshot's configuration at the
// lines of the whole file; a TenantStore's, those of its tenant alone.
func (v Snapshot) Warnings() Problems {
	return warnings(v.sn.cfg, v.sn.data, v.name, v.tenant)
}

// ServesIssuer tells s the issuer the process serves, issuer, when that
// is the file's issuer: or, without one, the address's; serve calls it
// unless --issuer, which overrides the key, gives the issuer. A file
// changed on disk whose issuer: names another issuer is then refused, as
// one that changes the tenants is: the process cannot move its endpoints,
// keys and every token's iss while it runs.
func (s *Store) ServesIssuer(issuer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.served = servedIssuer{issuer: issuer, file: s.Config().Issuer}
}

// File returns the configuration file, or "" when the configuration lives in
// memory.
func (s *Store) File() string { return s.file }

// Name returns the file name that problems refer to.
func (s *Store) Name() string { return s.name }

// InMemory reports whether edits live in memory only, lost at exit.
func (s *Store) InMemory() bool { return s.file == "" }

// OnChange registers f to be called with every new running configuration,
// after an edit or a reload of the file. Calls are serialized and in the
// order of the versions; f must not edit the Store.
func (s *Store) OnChange(f func(*Config)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onChange = append(s.onChange, f)
}

// OnReload registers f to be called when the file, changed by someone else,
// is reloaded or refused. A reload is recorded before it takes effect: when
// f returns an error for it (Err nil), the file is not loaded, and the
// next check tries again. f must not edit the Store.
func (s *Store) OnReload(f func(Reload) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onReload = append(s.onReload, f)
}

// Reload is what happened when the Store found the file changed by someone
// else.
type Reload struct {
	Time time.Time
	File string
	// PreviousVersion was running before; Version is what the file holds,
	// running when Err is nil.
	PreviousVersion, Version string
	// Err is nil when the file is the running configuration now. Otherwise
	// the running configuration was kept, and Err says why: Problems, or
	// why the file could not be read.
	Err error
}

// Status is the Store's state, for the console's banner and the admin API.
type Status struct {
	File     string // "" when the configuration lives in memory
	Name     string // the name problems refer to
	InMemory bool
	Version  string
	Watching bool    // the file is being watched for changes
	Reload   *Reload // the last reload or refused reload; nil before any
	// ReadOnly is why an edit would be refused now, the file or its
	// directory being read-only (ReadOnlyError); "" when it may be changed.
	ReadOnly string
	// Missing says that the file is gone (deleted or moved) while the
	// running configuration is kept, and what an edit does then: writes
	// it again, or, its directory gone too, is refused; "" when the file
	// is there.
	Missing string
	// MissingDir: the file's directory is gone too, so an edit is refused.
	MissingDir bool
}

// Status returns the Store's state.
func (s *Store) Status() Status {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	st := Status{File: s.file, Name: s.name, InMemory: s.file == "", Version: s.Version(), Watching: s.watching}
	if s.lastReload != nil {
		r := *s.lastReload
		st.Reload = &r
	}
	var ro *ReadOnlyError
	if errors.As(s.checkWritable(), &ro) {
		st.ReadOnly = ro.Err.Error()
	}
	if s.file != "" {
		if _, err := os.Lstat(s.file); errors.Is(err, fs.ErrNotExist) {
			st.Missing = s.name + " is missing (deleted or moved); the IdP keeps running the configuration it had, and the next change made here writes the file again with it"
			if dir := filepath.Dir(atomicfile.Target(s.file)); !isDir(dir) {
				st.Missing, st.MissingDir = s.name+" is missing, and so is its directory "+dir+"; the IdP keeps running the configuration it had, and changes here are refused until the directory is back", true
			}
		}
	}
	return st
}

func isDir(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.IsDir()
}

// Change describes a successful edit, for the audit log.
type Change struct {
	Kind string // "user", "group", "client", "server", "server access", "server deny" or "access approval"
	Op   string // "create", "replace" or "delete"
	Name string // the username, group name, client_id or server id
	// Before and After are the value (User, Group, Client, MCPServer,
	// []Access or []Deny) before and after the edit; nil when it did not
	// exist. They include passwords and secrets.
	Before, After any
	// PreviousVersion and Version are the configuration's versions before
	// and after.
	PreviousVersion, Version string
	// Unchanged is set when the edit made no difference: nothing was written.
	Unchanged bool
	// Removed names what the edit removed besides its object, for the
	// audit's references_removed: the expired entries an approval took
	// out (ApproveServerAccess).
	Removed []string
	// Config is the running configuration after the edit.
	Config *Config

	// made is the version the edit made (or found, when Unchanged), whose
	// warnings Warnings reports: those of the whole file, or with tenant
	// set of that tenant alone.
	made   *snapshot
	file   string // the file name problems refer to (Store.Name)
	tenant string
}

// Warnings returns the warnings (see Snapshot.Warnings) of the
// configuration this edit made, not of whatever runs by the time it is
// called: another edit may have followed.
func (c *Change) Warnings() Problems {
	if c.made == nil {
		return nil
	}
	return warnings(c.made.cfg, c.made.data, c.file, c.tenant)
}

// LastAdminError refuses an edit that would leave an IdP (a tenant, with
// tenants) that has an admin with none: nobody could then use its console
// or admin API, and only an edit of the file by hand would let anyone in.
type LastAdminError struct {
	Tenant string // "" for a file without tenants
}

func (e *LastAdminError) Error() string {
	where := "the IdP"
	if e.Tenant != "" {
		where = "tenant " + e.Tenant
	}
	return fmt.Sprintf("policy: the change would leave %s without an enabled admin, and nobody could use its console or admin API; make another user an admin first", where)
}

// keepsAnAdmin refuses next when an IdP of cur has an enabled admin and
// the same IdP of next has none.
func keepsAnAdmin(cur, next *Config) error {
	had := map[string]bool{}
	for _, idp := range cur.IdPs() {
		had[idp.ID] = slices.ContainsFunc(idp.Users, func(u User) bool { return u.MayAdminister() })
	}
	for _, idp := range next.IdPs() {
		if had[idp.ID] && !slices.ContainsFunc(idp.Users, func(u User) bool { return u.MayAdminister() }) {
			return &LastAdminError{Tenant: idp.ID}
		}
	}
	return nil
}

// ErrPreconditionRequired refuses an edit that does not say which version
// it was based on.
var ErrPreconditionRequired = errors.New("policy: an edit must name the version it is based on (If-Match)")

// StaleError refuses an edit based on a version that is no longer running.
type StaleError struct {
	Version string // the running version
}

func (e *StaleError) Error() string {
	return "policy: the configuration has changed since this edit's version was read; the running version is " + e.Version + ": reload, check the change, and edit again"
}

// NotFoundError refuses an edit of something that does not exist.
type NotFoundError struct {
	Kind, Name string // "user", "bob"
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("policy: no %s %q", e.Kind, e.Name) }

// ConflictError refuses an edit while the file on disk, changed by someone
// else, cannot be loaded: writing would overwrite their change.
type ConflictError struct {
	File string
	Err  error // Problems, or why the file could not be read
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("policy: %s was changed on disk and cannot be loaded; fix it before editing here:\n%v", e.File, e.Err)
}

func (e *ConflictError) Unwrap() error { return e.Err }

// ChangedOnDiskError refuses an edit because someone else saved the file
// (an editor, which takes no lock) while the edit was being made: writing
// would overwrite their change. The file keeps it, and the Store loads it
// at its next look (Watch, or the next edit).
type ChangedOnDiskError struct {
	File string
}

// AliasEditError is an edit refused because it changes a value the file
// shares through an anchor and an alias (&name, *name), which the file
// must write out before the admin API can change one place of it.
type AliasEditError struct {
	File string
	Line int // of an alias (*name) in the file, 0 if unknown
}

func (e *AliasEditError) Error() string {
	at := e.File
	if e.Line > 0 {
		at = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return fmt.Sprintf("%s: this change edits a value the file shares through an anchor (&name) and an alias (*name); write the value out at each place in the file to change it here (nothing was changed)", at)
}

// ReadOnlyError refuses an edit because the file, or its directory, is
// read-only (atomicfile.CheckWritable): its operator means it not to be
// changed, though a rename could replace it. Nothing was changed.
type ReadOnlyError struct {
	File string
	Err  error // which file or directory, and why
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("policy: %s is read-only, so the edit was not made: %v", e.File, e.Err)
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// WriteError refuses an edit because the file could not be replaced: a
// full disk, a quota or a file size limit, a failing disk. The file and
// the running configuration are as they were, and no temporary file is
// left beside the file.
type WriteError struct {
	File string
	Err  error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("policy: %s could not be written, so the edit was not made: %v", e.File, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

func (e *ChangedOnDiskError) Error() string {
	return fmt.Sprintf("policy: %s was changed on disk while this edit was being made; the edit was not made, so as not to overwrite that change: look at it and edit again", e.File)
}

// An EditOption changes how one edit is made.
type EditOption func(*editOptions)

type editOptions struct {
	journal     func(*Change) error
	keepSecrets bool
	idp         *idpIssuers // NotAtIdP
}

func optionsOf(opts []EditOption) editOptions {
	var o editOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Journal has the edit call j with its Change, complete (Version and
// After included), once it is validated and before the file is replaced
// or the running configuration changes; an edit that changes nothing
// calls no j. j records the change durably (the audit log's admin_change
// event): a crash then never leaves a change on disk that was not
// recorded. If j fails, the edit is refused with a *JournalError and
// nothing changes. If j succeeds and the file is then not replaced, the
// edit returns the error, and the record must be followed by one that says
// so; a process that dies in between leaves the file at the
// PreviousVersion, which the next start can tell.
func Journal(j func(*Change) error) EditOption {
	return func(o *editOptions) { o.journal = j }
}

// KeepSecrets has PutUser keep the user's current password (or password
// hash) instead of the value's, and PutClient the client's current secret:
// for a change whose sender does not know them (the admin API shows
// neither). The current ones are those of the version the edit is made
// on, read under the same lock, so that a password or secret changed
// meanwhile is not put back to what it was. An edit that creates the user
// or client has nothing to keep: the user gets no password (an invalid
// configuration), the client no secret.
func KeepSecrets() EditOption {
	return func(o *editOptions) { o.keepSecrets = true }
}

// NotAtIdP has PutServer refuse a server whose issuer or alias is the
// IdP's issuer (own) or another tenant's (others), as the token exchange
// refuses it as an audience (Request.IdPIssuer, OtherTenants): Parse
// refuses the file's issuer: alone, as one from --issuer or --addr is
// not in the file. The Problem is at the key, as Parse's are.
func NotAtIdP(own string, others []TenantIssuer) EditOption {
	return func(o *editOptions) { o.idp = &idpIssuers{own: own, others: others} }
}

// idpIssuers are NotAtIdP's issuers.
type idpIssuers struct {
	own    string
	others []TenantIssuer
}

// check returns the Problems of server id of tenant ("" for the whole
// file) in next, which was parsed from data, the file named name.
func (is *idpIssuers) check(next *Config, data []byte, name, tenant, id string) error {
	c, prefix := next, ""
	if tenant != "" {
		i := tenantIndex(next, tenant)
		if i < 0 {
			return nil
		}
		c, prefix = next.Tenants[i], fmt.Sprintf("tenants[%d].", i)
	}
	i := serverIndex(c, id)
	if i < 0 {
		return nil
	}
	s := &c.MCPServers[i]
	lines := &lineIndex{data: data}
	var ps Problems
	at := func(path, v string) {
		path = prefix + fmt.Sprintf("mcp_servers[%d].", i) + path
		switch t, at := IdPIssuerOf(v, is.own, is.others); {
		case at && t == "":
			ps = append(ps, Problem{File: name, Line: lines.line(path), tenant: tenant,
				Msg: fmt.Sprintf("%s: %q is the IdP's own issuer (%s): its ID-JAGs would name the IdP as aud, and the IdP redeems no ID-JAG; give the issuer of the MCP server's own authorization server", path, v, is.own)})
		case at:
			ps = append(ps, Problem{File: name, Line: lines.line(path), tenant: tenant,
				Msg: fmt.Sprintf("%s: %q is the issuer of tenant %s, another IdP served beside this one: its ID-JAGs would name that tenant as aud, and no tenant redeems an ID-JAG; give the issuer of the MCP server's own authorization server", path, v, t)})
		}
	}
	at("issuer", s.Issuer)
	for j, a := range s.Aliases {
		at(fmt.Sprintf("aliases[%d]", j), a)
	}
	if ps != nil {
		return ps
	}
	return nil
}

// JournalError refuses an edit whose Journal failed: nothing changed.
type JournalError struct{ Err error }

func (e *JournalError) Error() string {
	return "policy: the change was not recorded, so it was not made: " + e.Err.Error()
}

func (e *JournalError) Unwrap() error { return e.Err }

// UpdateServerAccess replaces the access list of the MCP server with this
// id. ifMatch is the Version the edit is based on, the server's
// ServerVersion, or "*" for any.
func (e edits) UpdateServerAccess(id string, access []Access, ifMatch string, opts ...EditOption) (*Change, error) {
	return e.updateServer(id, "server access", ifMatch, opts, func(srv *MCPServer) (before any) {
		before, srv.Access = srv.Access, access
		return before
	}, func(srv *MCPServer) any { return srv.Access })
}

// UpdateServerDeny replaces the deny list of the MCP server with this id,
// with the same ifMatch as UpdateServerAccess.
func (e edits) UpdateServerDeny(id string, deny []Deny, ifMatch string, opts ...EditOption) (*Change, error) {
	return e.updateServer(id, "server deny", ifMatch, opts, func(srv *MCPServer) (before any) {
		before, srv.Deny = srv.Deny, deny
		return before
	}, func(srv *MCPServer) any { return srv.Deny })
}

// ApproveServerAccess adds entry to the access list of the MCP server
// with this id for an access request's approval, with the same ifMatch
// as UpdateServerAccess: unlike a read followed by UpdateServerAccess, no
// edit between the two can be lost. entry names one user and no group,
// client or max_auth_age. So that approvals do not grow the list without
// end, in the same edit the entries whose expires is past at now (they
// grant nothing) are removed, and entry replaces each entry that names
// only the same user, expires, and grants no scope entry lacks, for no
// longer than entry: entry grants all it did. When an entry naming only
// that user already grants entry's scopes as long or longer, entry is not
// added. An entry without expires is never removed or replaced. The
// Change's Kind is "access approval"; its Before and After hold only the
// entries touched, by their place in the list before and after
// ("access[2]"): an entry of Before that expired at now was removed as
// expired. At most MaxRemoved entries go in one approval, so that its
// audit event stays small; the rest go with the next ones.
func (e edits) ApproveServerAccess(id string, entry Access, now time.Time, ifMatch string, opts ...EditOption) (*Change, error) {
	at := -1 // entry's index in the list after; -1: not added
	return e.commit(ifMatch, id, opts, func(cur *Config, doc *yamlpatch.Doc) (*Change, error) {
		i := serverIndex(cur, id)
		if i < 0 {
			return nil, &NotFoundError{Kind: "MCP server", Name: id}
		}
		srv := cloneServer(cur.MCPServers[i])
		covered := slices.ContainsFunc(srv.Access, func(a Access) bool { return !a.Expired(now) && coversAccess(a, entry) })
		ch := &Change{Kind: "access approval", Op: "replace", Name: id}
		before := map[string]Access{}
		var kept []Access
		for j, a := range srv.Access {
			gone := a.Expired(now) || (!covered && !a.Expires.IsZero() && coversAccess(entry, a))
			if gone && len(before) < MaxRemoved {
				before[fmt.Sprintf("access[%d]", j)] = a
				if a.Expired(now) {
					ch.Removed = append(ch.Removed, fmt.Sprintf("access[%d] (%s) (expired at %s, removed)", j, names(a), a.Expires.T().Format(time.RFC3339)))
				}
				continue
			}
			kept = append(kept, a)
		}
		if !covered {
			at, kept = len(kept), append(kept, entry)
		}
		srv.Access, ch.Before = kept, before
		if err := doc.Put("mcp_servers", i, srv); err != nil {
			return nil, err
		}
		return ch, nil
	}, func(next *Config) any {
		srv := next.Server(id)
		if at < 0 || srv == nil || at >= len(srv.Access) {
			return map[string]Access{}
		}
		return map[string]Access{fmt.Sprintf("access[%d]", at): srv.Access[at]}
	})
}

// names says whom an access entry names, for Change.Removed.
func names(a Access) string {
	var out []string
	if len(a.Users) > 0 {
		out = append(out, "users: "+strings.Join(a.Users, ", "))
	}
	if len(a.Groups) > 0 {
		out = append(out, "groups: "+strings.Join(a.Groups, ", "))
	}
	if len(out) == 0 {
		return "everyone"
	}
	return strings.Join(out, "; ")
}

// MaxRemoved is the most entries ApproveServerAccess removes or replaces
// in one approval.
const MaxRemoved = 10

// coversAccess reports whether a and entry name the same user alone (and
// no group, client or max_auth_age), and a grants entry's scopes for at
// least as long.
func coversAccess(a, entry Access) bool {
	oneUser := func(x Access) bool {
		return len(x.Users) == 1 && len(x.Groups) == 0 && len(x.Clients) == 0 && x.MaxAuthAge == 0
	}
	return oneUser(a) && oneUser(entry) && a.Users[0] == entry.Users[0] &&
		!slices.ContainsFunc(entry.Scopes, func(s string) bool { return !slices.Contains(a.Scopes, s) }) &&
		(a.Expires.IsZero() || (!entry.Expires.IsZero() && a.Expires >= entry.Expires))
}

// updateServer replaces one part of a server: change sets it on a copy and
// returns the old value, result reads the new one.
func (e edits) updateServer(id, kind, ifMatch string, opts []EditOption, change func(*MCPServer) any, result func(*MCPServer) any) (*Change, error) {
	return e.commit(ifMatch, id, opts, func(cur *Config, doc *yamlpatch.Doc) (*Change, error) {
		i := serverIndex(cur, id)
		if i < 0 {
			return nil, &NotFoundError{Kind: "MCP server", Name: id}
		}
		srv := cloneServer(cur.MCPServers[i])
		before := change(&srv)
		if err := doc.Put("mcp_servers", i, srv); err != nil {
			return nil, err
		}
		return &Change{Kind: kind, Op: "replace", Name: id, Before: before}, nil
	}, func(next *Config) any { return result(next.Server(id)) })
}

// PutUser creates the user or replaces the user with the same username.
// Its ifMatch is the Version the edit is based on, or "*".
func (e edits) PutUser(u User, ifMatch string, opts ...EditOption) (*Change, error) {
	keep := optionsOf(opts).keepSecrets
	return put(e, "user", "users", u.Username, ifMatch, "", opts, u, usersOf, func(cur *Config, u *User, old *User, orig *yaml.Node) {
		switch {
		case u.Sub != "":
		case old != nil:
			// The sub stays when the entry leaves it out, as a
			// group's id does: it is who the user is to every token
			// and to the provisioning client (SCIM's id).
			u.Sub = old.Sub
		case cur.UserBySub(DefaultSub(u.Username)) != nil:
			// A user SCIM renamed keeps its sub, which may be this
			// name's default one: the new user gets another, as
			// SCIM's POST gives it.
			u.Sub = NewUserSub()
		}
		if keep {
			u.Password, u.PasswordBcrypt = "", ""
			if old != nil {
				u.Password, u.PasswordBcrypt = old.Password, old.PasswordBcrypt
			}
		}
		implicitSub(u, orig)
	})
}

// implicitSub leaves the default sub of u's username implicit unless the
// file spelt it out in u's entry (orig; nil for a new user), as PutUser
// and EditBatch write a user.
func implicitSub(u *User, orig *yaml.Node) {
	if u.Sub == DefaultSub(u.Username) && !yamlpatch.HasKey(orig, "sub") {
		u.Sub = ""
	}
}

// DeleteUser deletes the user; ifMatch as for PutUser.
func (e edits) DeleteUser(username, ifMatch string, opts ...EditOption) (*Change, error) {
	return del(e, "user", "users", username, ifMatch, "", opts, usersOf)
}

// PutGroup creates the group or replaces the group with the same name;
// ifMatch as for PutUser. A new group without an id whose name another
// group keeps as its id (SCIM renamed it) gets another (NewGroupID), as
// SCIM's POST gives it.
func (e edits) PutGroup(g Group, ifMatch string, opts ...EditOption) (*Change, error) {
	return put(e, "group", "groups", g.Name, ifMatch, "", opts, g, groupsOf, func(cur *Config, g, old *Group, orig *yaml.Node) {
		switch {
		case g.ID != "":
		case old != nil:
			g.ID = old.ID // the SCIM id stays when the entry leaves it out
		case cur.GroupBySCIMID(g.Name) != nil:
			g.ID = NewGroupID()
		}
		implicitGroupID(g, orig)
	})
}

// implicitGroupID leaves a group's id out when it is its name (the
// default) and the file did not spell it out in g's entry (orig; nil for a
// new group), as implicitSub does a user's sub.
func implicitGroupID(g *Group, orig *yaml.Node) {
	if g.ID == g.Name && !yamlpatch.HasKey(orig, "id") {
		g.ID = ""
	}
}

// DeleteGroup deletes the group; ifMatch as for PutUser. A group that users
// or servers still name cannot be deleted: the edit is refused with their
// Problems.
func (e edits) DeleteGroup(name, ifMatch string, opts ...EditOption) (*Change, error) {
	return del(e, "group", "groups", name, ifMatch, "", opts, groupsOf)
}

// PutClient creates the client or replaces the client with the same
// client_id; ifMatch as for PutUser.
func (e edits) PutClient(c Client, ifMatch string, opts ...EditOption) (*Change, error) {
	keep := optionsOf(opts).keepSecrets
	return put(e, "client", "clients", c.ClientID, ifMatch, "", opts, c, clientsOf, func(_ *Config, c *Client, old *Client, _ *yaml.Node) {
		if keep {
			c.ClientSecret = ""
			if old != nil {
				c.ClientSecret = old.ClientSecret
			}
		}
	})
}

// DeleteClient deletes the client; ifMatch as for PutUser.
func (e edits) DeleteClient(clientID, ifMatch string, opts ...EditOption) (*Change, error) {
	return del(e, "client", "clients", clientID, ifMatch, "", opts, clientsOf)
}

// PutServer creates the MCP server or replaces the one with the same id;
// ifMatch as for UpdateServerAccess.
func (e edits) PutServer(srv MCPServer, ifMatch string, opts ...EditOption) (*Change, error) {
	return put(e, "server", "mcp_servers", srv.ID, ifMatch, srv.ID, opts, srv, serversOf, func(_ *Config, srv, old *MCPServer, _ *yaml.Node) {
		e.s.keepWritten(srv, old)
	})
}

// keepWritten gives back to srv, put in place of old (as written), the
// URLs that it sends as the view reads them: a server read from the admin
// API and put back changes nothing in the file (FileChecks.View).
func (s *Store) keepWritten(srv, old *MCPServer) {
	if s.checks.View == nil || old == nil {
		return
	}
	view := s.checks.View(s.cur.Load().data) // the document the edit changes (commit)
	written := map[string]string{}
	for _, u := range append(append([]string{old.Issuer, old.EventsEndpoint}, old.Aliases...), old.Resources...) {
		written[string(view([]byte(u)))] = u
	}
	keep := func(u *string) {
		if w, ok := written[*u]; ok {
			*u = w
		}
	}
	keep(&srv.Issuer)
	keep(&srv.EventsEndpoint)
	for i := range srv.Aliases {
		keep(&srv.Aliases[i])
	}
	for i := range srv.Resources {
		keep(&srv.Resources[i])
	}
}

// DeleteServer deletes the MCP server; ifMatch as for UpdateServerAccess.
func (e edits) DeleteServer(id, ifMatch string, opts ...EditOption) (*Change, error) {
	return del(e, "server", "mcp_servers", id, ifMatch, id, opts, serversOf)
}

// keyed is how put and del find an item in a configuration's lists.
type keyed[T any] func(*Config) ([]T, func(*T) string)

func usersOf(c *Config) ([]User, func(*User) string) {
	return c.Users, func(u *User) string { return u.Username }
}

func groupsOf(c *Config) ([]Group, func(*Group) string) {
	return c.Groups, func(g *Group) string { return g.Name }
}

func clientsOf(c *Config) ([]Client, func(*Client) string) {
	return c.Clients, func(cl *Client) string { return cl.ClientID }
}

func serversOf(c *Config) ([]MCPServer, func(*MCPServer) string) {
	return c.MCPServers, func(s *MCPServer) string { return s.ID }
}

func find[T any](c *Config, of keyed[T], name string) (int, *T) {
	list, key := of(c)
	for i := range list {
		if key(&list[i]) == name {
			return i, &list[i]
		}
	}
	return -1, nil
}

func put[T any](e edits, kind, key, name, ifMatch, server string, opts []EditOption, v T, of keyed[T], adjust func(cur *Config, v, old *T, orig *yaml.Node)) (*Change, error) {
	return e.commit(ifMatch, server, opts, func(cur *Config, doc *yamlpatch.Doc) (*Change, error) {
		i, old := find(cur, of, name)
		ch := &Change{Kind: kind, Op: "create", Name: name}
		if old != nil {
			ch.Op, ch.Before = "replace", runningOf(e, of, name, old)
		}
		if adjust != nil {
			adjust(cur, &v, old, doc.Entry(key, i))
		}
		if err := doc.Put(key, i, v); err != nil {
			return nil, err
		}
		return ch, nil
	}, func(next *Config) any {
		if _, after := find(next, of, name); after != nil {
			return *after
		}
		return nil
	})
}

func del[T any](e edits, kind, key, name, ifMatch, server string, opts []EditOption, of keyed[T]) (*Change, error) {
	return e.commit(ifMatch, server, opts, func(cur *Config, doc *yamlpatch.Doc) (*Change, error) {
		i, old := find(cur, of, name)
		if old == nil {
			return nil, &NotFoundError{Kind: kind, Name: name}
		}
		if err := doc.Delete(key, i); err != nil {
			return nil, err
		}
		return &Change{Kind: kind, Op: "delete", Name: name, Before: runningOf(e, of, name, old)}, nil
	}, nil)
}

// runningOf is the item named name, written as old in the file, as it runs:
// the Before of an edit is what the admin API showed (FileChecks.View).
func runningOf[T any](e edits, of keyed[T], name string, old *T) T {
	if e.s.checks.View == nil {
		return *old
	}
	cfg := e.s.Config()
	if e.tenant != "" {
		cfg = cfg.Tenant(e.tenant)
	}
	if cfg != nil {
		if _, v := find(cfg, of, name); v != nil {
			return *v
		}
	}
	return *old
}

func serverIndex(c *Config, id string) int {
	i, _ := find(c, serversOf, id)
	return i
}

func cloneServer(s MCPServer) MCPServer {
	s.Access = append([]Access(nil), s.Access...)
	s.Deny = append([]Deny(nil), s.Deny...)
	return s
}

// commit runs one edit: apply changes the running document (doc, which
// keeps the comments and layout of what it does not touch) and describes
// the change, with its Before; after, when not nil, reads the After from
// the new configuration. The edit is based on
// ifMatch (see UpdateServerAccess; server, when not "", is the MCP server
// whose ServerVersion also matches).
func (s *Store) commit(tenant, ifMatch, server string, opts []EditOption, apply func(cur *Config, doc *yamlpatch.Doc) (*Change, error), after func(*Config) any) (*Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != "" {
		unlock, err := lockFileDir(s.file)
		if errors.Is(err, fs.ErrNotExist) {
			// The file's directory is gone: there is nowhere to write.
			return nil, &ConflictError{File: s.name, Err: Problems{{File: s.name,
				Msg: "cannot write the file: its directory " + filepath.Dir(atomicfile.Target(s.file)) + " is missing (deleted or moved); create it again to change the configuration here"}}}
		}
		if err != nil {
			return nil, err
		}
		defer unlock()
		if err := s.checkFileLocked(true); err != nil {
			return nil, err
		}
	}
	cur := s.cur.Load()
	if err := cur.precondition(tenant, ifMatch, server); err != nil {
		return nil, err
	}
	doc, err := yamlpatch.Edit(cur.data, reflect.TypeFor[Config](), decodeLikeParse)
	if err != nil {
		return nil, fmt.Errorf("policy: re-reading the running configuration: %w", err)
	}
	// The edit sees the configuration as written: what it leaves alone
	// stays so in the file, not as the view reads it.
	written := cur.cfg
	if s.checks.View != nil {
		if written, err = Parse(cur.data, s.name); err != nil {
			return nil, fmt.Errorf("policy: re-reading the running configuration: %w", err)
		}
	}
	ch, err := apply(written, doc)
	if err != nil {
		return nil, s.aliasEdit(err)
	}
	// Before the changed document is printed and checked, which decodes
	// it: a mapping too large would make that take seconds.
	if problems := bigMappings(doc.Root(), "", s.name); problems != nil {
		return nil, problems
	}
	data, err := doc.Bytes()
	if err != nil {
		return nil, s.aliasEdit(err)
	}
	cfg, err := Parse(s.viewOf(data), s.name)
	if err != nil {
		return nil, err
	}
	if err := keepsAnAdmin(cur.cfg, cfg); err != nil {
		return nil, err
	}
	if err := newSharedClientIDs(cur.cfg, cfg, data, s.name, tenant); err != nil {
		return nil, err
	}
	o := optionsOf(opts)
	if o.idp != nil && server != "" {
		if err := o.idp.check(cfg, data, s.name, tenant, server); err != nil {
			return nil, err
		}
	}
	next := newSnapshot(data, cfg)
	ch.PreviousVersion, ch.Version, ch.Config = cur.version, next.version, cfg
	if after != nil {
		ch.After = after(cfg)
	}
	if bytes.Equal(data, cur.data) {
		ch.Unchanged, ch.Config, ch.made, ch.file = true, cur.cfg, cur, s.name
		return ch, nil
	}
	if err := s.checkWritable(); err != nil {
		return nil, err
	}
	if o.journal != nil {
		if err := o.journal(ch); err != nil {
			return nil, &JournalError{Err: err}
		}
	}
	if s.file != "" {
		fi, err := atomicfile.WriteIf(s.file, data, newFilePerm, func() error {
			if err := s.checkWritable(); err != nil {
				return err
			}
			if err := s.unchangedOnDisk(cur); err != nil {
				return err
			}
			if afterDiskCheck != nil {
				afterDiskCheck()
			}
			return nil
		}, func(old []byte) error {
			// Saved by someone else after that look.
			if Version(old) != cur.version {
				return &ChangedOnDiskError{File: s.file}
			}
			return nil
		})
		var changed *ChangedOnDiskError
		var readOnly *ReadOnlyError
		if errors.As(err, &changed) || errors.As(err, &readOnly) {
			return nil, err
		}
		if err != nil {
			return nil, &WriteError{File: s.name, Err: err}
		}
		s.stamp = stampOf(fi)
		if s.bad != "" {
			// The file was missing (any other refused reload refuses the
			// edit): written again, it is back to the running
			// configuration, and the status's reload error is over.
			s.endBadLocked(next.version)
		}
	}
	s.swapLocked(next)
	ch.made, ch.file = next, s.name
	return ch, nil
}

// afterDiskCheck, when not nil, runs right after an edit's last look at
// the file before replacing it (tests: export_test.go).
var afterDiskCheck func()

// aliasEdit names the file of a change that yamlpatch refused for the
// file's anchors and aliases; other errors are returned as they are.
func (s *Store) aliasEdit(err error) error {
	var ae *yamlpatch.AliasError
	if errors.As(err, &ae) {
		return &AliasEditError{File: s.name, Line: ae.Line}
	}
	return err
}

// checkWritable refuses an edit of a file that is read-only, before it is
// recorded and again just before the file is replaced.
func (s *Store) checkWritable() error {
	if s.file == "" {
		return nil
	}
	if err := atomicfile.CheckWritable(s.file); err != nil {
		return &ReadOnlyError{File: s.name, Err: err}
	}
	return nil
}

// unchangedOnDisk checks, just before an edit made on cur replaces the
// file, that the file still holds cur (or is gone, as the edit found it):
// an editor that saved the file since the edit read it, which takes no
// lock, would else be overwritten unseen.
func (s *Store) unchangedOnDisk(cur *snapshot) error {
	data, _, err := readFile(s.file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("policy: re-reading %s before replacing it: %w", s.file, err)
	case Version(data) != cur.version:
		return &ChangedOnDiskError{File: s.file}
	}
	return nil
}

// RemoveTemporaries deletes the temporary files that a writer of file
// killed before its rename left beside it, and returns their paths. It
// takes the lock that edits take (lockFileDir), so that the temporary file
// of an edit another process is making at that moment, which is no
// leftover, is not deleted under it (that edit's rename would fail); when
// the lock cannot be had, it deletes nothing: a leftover is harmless until
// the next start.
func RemoveTemporaries(file string) []string {
	unlock, err := lockFileDir(file)
	if err != nil {
		return nil
	}
	defer unlock()
	return atomicfile.RemoveTemporaries(file)
}

// lockFileDir locks the directory that file is written in (its symbolic
// link followed, as atomicfile.Write does, with atomicfile.Target) against the edits of other
// processes serving the same file, until unlock: an edit reads the file
// and writes it back, and without the lock another process's edit could
// write in between and be overwritten. The directory rather than the file,
// which every edit replaces with a new one.
func lockFileDir(file string) (unlock func(), err error) {
	d, err := os.Open(filepath.Dir(atomicfile.Target(file)))
	if err != nil {
		return nil, fmt.Errorf("policy: locking %s against other writers: %w", file, err)
	}
	if err := filelock.LockWait(d); err != nil {
		d.Close()
		if errors.Is(err, filelock.ErrLocked) {
			return nil, fmt.Errorf("policy: %s: another process has been writing it for %s; the edit was not made", file, filelock.Wait)
		}
		return nil, fmt.Errorf("policy: locking %s against other writers: %w", file, err)
	}
	return func() { d.Close() }, nil
}

// newFilePerm is the permission of a configuration file that an edit
// creates (one removed while xaa-idp ran): owner only, since a
// configuration holds passwords. A file that exists keeps its own.
const newFilePerm fs.FileMode = 0o600

// decodeLikeParse is the yamlpatch.Decoder of configurations: a node
// decodes as Parse decodes it, so that an edit keeps the text of every
// value it leaves as it was.
func decodeLikeParse(n *yaml.Node, v reflect.Value) bool {
	d := &decoder{nodes: map[string]*yaml.Node{}, failedAt: map[string]bool{}, failedIn: map[string]bool{}, budget: maxNodes}
	d.decode(n, "value", v)
	return len(d.problems) == 0
}

func (sn *snapshot) precondition(tenant, ifMatch, server string) error {
	cfg := sn.cfg
	if tenant != "" {
		if cfg = cfg.Tenant(tenant); cfg == nil {
			return &NotFoundError{Kind: "tenant", Name: tenant}
		}
	}
	switch {
	case ifMatch == "":
		return ErrPreconditionRequired
	case ifMatch == "*" || ifMatch == sn.version:
		return nil
	case server != "":
		if srv := cfg.Server(server); srv != nil && ServerVersion(srv) == ifMatch {
			return nil
		}
	}
	return &StaleError{Version: sn.version}
}

// swapLocked makes next the running configuration.
func (s *Store) swapLocked(next *snapshot) {
	s.cur.Store(next)
	for _, f := range s.onChange {
		f(next.cfg)
	}
}
