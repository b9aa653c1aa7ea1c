package policy

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
)

// edits are the Store's edit methods (PutUser, UpdateServerAccess, ...),
// applied to the whole file or, in a TenantStore, to one tenant's entry of
// tenants:.
type edits struct {
	s      *Store
	tenant string // "" for the whole file
}

// commit runs one edit of the file or of the tenant: apply and after see
// the tenant's Config and a Doc of its mapping, and the Change carries the
// tenant's Config.
func (e edits) commit(ifMatch, server string, opts []EditOption, apply func(cur *Config, doc *yamlpatch.Doc) (*Change, error), after func(*Config) any) (*Change, error) {
	if e.tenant == "" {
		return e.s.commit("", ifMatch, server, opts, apply, after)
	}
	index := -1
	ch, err := e.s.commit(e.tenant, ifMatch, server, opts, func(cur *Config, doc *yamlpatch.Doc) (*Change, error) {
		i := tenantIndex(cur, e.tenant)
		index = i
		if i < 0 {
			return nil, &NotFoundError{Kind: "tenant", Name: e.tenant}
		}
		sub, err := doc.Within("tenants", i)
		if err != nil {
			return nil, err
		}
		return apply(cur.Tenants[i], sub)
	}, func(next *Config) any {
		if after == nil {
			return nil
		}
		return after(next.Tenant(e.tenant))
	})
	if ch != nil && ch.Config != nil {
		ch.Config = ch.Config.Tenant(e.tenant)
		ch.tenant = e.tenant
	}
	return ch, tenantsOwn(err, index, e.s.Config(), e.tenant)
}

// tenantsOwn is err as the admin of a tenant is told it: the problems of
// the file it makes, or that someone else left on disk (ConflictError),
// name that tenant's keys and lines alone (Problems.forTenant). index is
// the tenant's index in the file the edit checked, -1 if it never ran;
// then its index in the running configuration, cfg.
func tenantsOwn(err error, index int, cfg *Config, tenant string) error {
	if err == nil {
		return nil
	}
	if index < 0 && cfg != nil {
		index = tenantIndex(cfg, tenant)
	}
	var ps Problems
	var conflict *ConflictError
	switch {
	case errors.As(err, &conflict):
		// The file on disk, which may list the tenants otherwise.
		return &ConflictError{File: conflict.File, Err: scopedTo(conflict.Err, tenant, -1)}
	case errors.As(err, &ps):
		return ps.forTenant(tenant, index)
	}
	return err
}

// scopedTo is err, when it is Problems, as the admin of tenant is told it
// (Problems.forTenant).
func scopedTo(err error, tenant string, index int) error {
	var ps Problems
	if errors.As(err, &ps) {
		return ps.forTenant(tenant, index)
	}
	return err
}

// newSharedClientIDs refuses an edit by tenant's admin that maps one of
// the tenant's clients to a client_id that another tenant maps at the
// same MCP server (by issuer), where cur did not. Parse refuses such a
// mapping only when the two clients' secrets differ (the demo's
// authorization server registers the client_id once), so that the
// answer told the admin, who sets its own client's secret, whether it
// had guessed the other tenant's. Refused as Parse refuses it whatever
// the secrets, the answer tells nothing of them. Clients without a
// secret on both sides (metadata document clients) have none to tell,
// and may share a client_id, as the file may give them.
func newSharedClientIDs(cur, next *Config, data []byte, file, tenant string) error {
	i := tenantIndex(next, tenant)
	if tenant == "" || i < 0 {
		return nil
	}
	// others is, per key of serverClientIDs that another tenant maps,
	// whether a client with a secret is mapped there.
	others := func(c *Config) map[string]bool {
		m := map[string]bool{}
		for _, t := range c.Tenants {
			if t != nil && t.ID != tenant {
				serverClientIDs(t, func(_ int, _ *MCPServer, _, secret, key string) { m[key] = m[key] || secret != "" })
			}
		}
		return m
	}
	had := map[string]bool{}
	if j := tenantIndex(cur, tenant); j >= 0 {
		o := others(cur)
		serverClientIDs(cur.Tenants[j], func(_ int, _ *MCPServer, _, _, key string) {
			if _, ok := o[key]; ok {
				had[key] = true
			}
		})
	}
	o := others(next)
	var ps Problems
	serverClientIDs(next.Tenants[i], func(j int, s *MCPServer, id, secret, key string) {
		withSecret, ok := o[key]
		if !ok || had[key] || secret == "" && !withSecret {
			return
		}
		path := fmt.Sprintf("tenants[%d].mcp_servers[%d].clients.%s", i, j, id)
		ps = append(ps, Problem{File: file, Line: Line(data, path), Msg: otherTenantsClientID(path, s.Clients[id], s.Issuer), tenant: tenant})
	})
	if ps != nil {
		return ps
	}
	return nil
}

func tenantIndex(c *Config, id string) int {
	for i, t := range c.Tenants {
		if t.ID == id {
			return i
		}
	}
	return -1
}

// TenantStore is one tenant's view of a Store whose file has tenants: its
// Config is the tenant's, its edits change the tenant's entry of tenants:
// (keeping the rest of the file as it was), and its YAML is the tenant's
// alone, so that a tenant's admin sees and edits only that tenant. Version
// and the ETags are the whole file's.
type TenantStore struct {
	edits
}

// Tenant returns the view of the tenant with this id. The tenant must be
// in the file; a view whose tenant an edit of the file removed answers
// its edits with a NotFoundError and its Config with nil.
func (s *Store) Tenant(id string) *TenantStore {
	return &TenantStore{edits{s: s, tenant: id}}
}

// ID returns the tenant's id.
func (t *TenantStore) ID() string { return t.tenant }

// Config returns the tenant's running configuration.
func (t *TenantStore) Config() *Config { return t.s.Config().Tenant(t.tenant) }

// Version returns the running file's version.
func (t *TenantStore) Version() string { return t.s.Version() }

// YAML returns the tenant's entry of the running file as a document of its
// own (comments inside it kept).
func (t *TenantStore) YAML() []byte { return t.Snapshot().YAML() }

// Snapshot returns the tenant's running configuration, the file's version
// and the tenant's YAML, all of one version (see Store.Snapshot).
func (t *TenantStore) Snapshot() Snapshot {
	sn := t.s.cur.Load()
	return Snapshot{Config: sn.cfg.Tenant(t.tenant), Version: sn.version, sn: sn, tenant: t.tenant, name: t.s.name}
}

// tenantYAML is the entry of tenant in the file of sn.
func tenantYAML(sn *snapshot, tenant string) []byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(sn.data, &doc); err != nil || len(doc.Content) != 1 {
		return nil
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "tenants" {
			continue
		}
		seq := root.Content[i+1]
		if j := tenantIndex(sn.cfg, tenant); j >= 0 && j < len(seq.Content) {
			out, err := yaml.Marshal(seq.Content[j])
			if err == nil {
				return out
			}
		}
	}
	return nil
}

// File, Name, InMemory and Status are the Store's.
func (t *TenantStore) File() string   { return t.s.File() }
func (t *TenantStore) Name() string   { return fmt.Sprintf("%s (tenant %s)", t.s.Name(), t.tenant) }
func (t *TenantStore) InMemory() bool { return t.s.InMemory() }

// Status is the Store's, with the problems of a refused reload as the
// tenant's admin is told them (Problems.forTenant).
func (t *TenantStore) Status() Status {
	st := t.s.Status()
	if st.Reload != nil && st.Reload.Err != nil {
		r := *st.Reload
		r.Err = scopedTo(r.Err, t.tenant, -1)
		st.Reload = &r
	}
	return st
}

// OnChange registers f to be called with the tenant's new configuration
// after every change of the file, as Store.OnChange.
func (t *TenantStore) OnChange(f func(*Config)) {
	t.s.OnChange(func(c *Config) {
		if tc := c.Tenant(t.tenant); tc != nil {
			f(tc)
		}
	})
}

// OnReload is the Store's OnReload, f given the problems of a refused
// reload as the tenant's admin is told them (Problems.forTenant): f
// records it in the tenant's audit.
func (t *TenantStore) OnReload(f func(Reload) error) {
	t.s.OnReload(func(r Reload) error {
		r.Err = scopedTo(r.Err, t.tenant, -1)
		return f(r)
	})
}
