package admin

import (
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// Store is where an editable configuration lives: a *policy.Store for a
// file without tenants, a tenant's *policy.TenantStore otherwise.
type Store interface {
	Config() *policy.Config
	Version() string
	// Snapshot is Config, Version and YAML of one version: what a GET
	// answers with its ETag.
	Snapshot() policy.Snapshot
	YAML() []byte
	File() string
	Name() string
	InMemory() bool
	Status() policy.Status
	UpdateServerAccess(id string, access []policy.Access, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	UpdateServerDeny(id string, deny []policy.Deny, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	ApproveServerAccess(id string, entry policy.Access, now time.Time, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	PutUser(u policy.User, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	DeleteUser(username, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	PutGroup(g policy.Group, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	DeleteGroup(name, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	PutClient(c policy.Client, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	DeleteClient(clientID, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	PutServer(srv policy.MCPServer, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	DeleteServer(id, ifMatch string, opts ...policy.EditOption) (*policy.Change, error)
	EditBatch(ifMatch string, plan func(cur *policy.Config) (policy.Batch, *policy.Change, error), after func(*policy.Config) any, opts ...policy.EditOption) (*policy.Change, error)
}

var (
	_ Store = (*policy.Store)(nil)
	_ Store = (*policy.TenantStore)(nil)
)
