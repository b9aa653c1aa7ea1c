package policy

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
)

// Batch is an edit of several users and groups that EditBatch makes as
// one: one version of the configuration, one write of the file and one
// Journal record, or nothing at all. A change that touches several users,
// such as a group's members (which the users list: User.Groups), is never
// left half made.
type Batch struct {
	Users  []UserEdit
	Groups []GroupEdit
	// Servers are MCP servers replaced whole: a group's rename rewrites
	// the access and deny lists that name it.
	Servers []ServerEdit
	// Faults are faults of the file's faults: section replaced or
	// deleted: a user's rename or deletion takes the faults that match
	// it (match.user) along.
	Faults []FaultEdit
}

// FaultEdit is one fault's part of a Batch: the fault at Index in the
// faults: section becomes Fault, in its place, or is deleted. Faults are
// found by their place: one written without an id has none in the file.
type FaultEdit struct {
	Index  int
	Fault  Fault
	Delete bool
}

// ServerEdit is one MCP server's part of a Batch: the server with id ID
// becomes Server, in its place in the file.
type ServerEdit struct {
	ID     string
	Server MCPServer
}

// UserEdit is one user's part of a Batch: the user now named Username
// ("" for a new user, appended) becomes User, in its place in the file
// (User.Username may differ: a rename), or is deleted. A user whose sub is
// the default one of its new username, and whose entry does not spell a
// sub out, is written without one, as PutUser does; a renamed user keeps
// the sub it had, so its subject in tokens stays the same.
type UserEdit struct {
	Username string
	User     User
	Delete   bool
}

// GroupEdit is one group's part of a Batch, as UserEdit is a user's.
type GroupEdit struct {
	Name   string
	Group  Group
	Delete bool
}

// EditBatch runs plan with the running configuration (a TenantStore's:
// the tenant's) under the edit's lock, so that what it reads is what the
// batch is applied to, and makes the Batch it returns; the Change it
// returns names the edit (Kind, Op, Name, Before) for the Journal. after,
// when not nil, reads the Change's After from the new configuration.
// ifMatch is as for PutUser. A Username or Name that names nothing is
// refused with a *NotFoundError, and the same entry edited twice with an
// error; an error of plan is returned as it is, nothing changed.
func (e edits) EditBatch(ifMatch string, plan func(cur *Config) (Batch, *Change, error), after func(*Config) any, opts ...EditOption) (*Change, error) {
	return e.commit(ifMatch, "", opts, func(cur *Config, doc *yamlpatch.Doc) (*Change, error) {
		b, ch, err := plan(cur)
		if err != nil {
			return nil, err
		}
		users := make([]batchEntry[User], len(b.Users))
		for i, u := range b.Users {
			users[i] = batchEntry[User]{name: u.Username, v: u.User, del: u.Delete}
		}
		if err := applyBatch(doc, cur, "user", "users", usersOf, users, implicitSub); err != nil {
			return nil, err
		}
		groups := make([]batchEntry[Group], len(b.Groups))
		for i, g := range b.Groups {
			groups[i] = batchEntry[Group]{name: g.Name, v: g.Group, del: g.Delete}
		}
		if err := applyBatch(doc, cur, "group", "groups", groupsOf, groups, implicitGroupID); err != nil {
			return nil, err
		}
		servers := make([]batchEntry[MCPServer], len(b.Servers))
		for i, sv := range b.Servers {
			if sv.ID == "" {
				return nil, fmt.Errorf("policy: a batch's server edit names no server")
			}
			servers[i] = batchEntry[MCPServer]{name: sv.ID, v: sv.Server}
		}
		if err := applyBatch(doc, cur, "server", "mcp_servers", serversOf, servers, nil); err != nil {
			return nil, err
		}
		if err := applyFaults(doc, cur, b.Faults); err != nil {
			return nil, err
		}
		return ch, nil
	}, after)
}

// applyFaults makes a Batch's fault edits: puts, then deletes from the
// last place up.
func applyFaults(doc *yamlpatch.Doc, cur *Config, edits []FaultEdit) error {
	seen := map[int]bool{}
	var dels []int
	for _, f := range edits {
		if f.Index < 0 || f.Index >= len(cur.Faults) || seen[f.Index] {
			return fmt.Errorf("policy: a batch's fault edit names faults[%d], which is not there or edited twice", f.Index)
		}
		seen[f.Index] = true
		if f.Delete {
			dels = append(dels, f.Index)
			continue
		}
		if err := doc.Put("faults", f.Index, f.Fault); err != nil {
			return err
		}
	}
	slices.Sort(dels)
	for _, i := range slices.Backward(dels) {
		if err := doc.Delete("faults", i); err != nil {
			return err
		}
	}
	return nil
}

type batchEntry[T any] struct {
	name string
	v    T
	del  bool
}

// applyBatch puts and appends the entries of one list, then deletes, from
// the last place up, so that the places read from cur stay right. adjust,
// when not nil, sees each entry put with the entry it replaces in doc (nil
// for a new one), as put's does.
func applyBatch[T any](doc *yamlpatch.Doc, cur *Config, kind, key string, of keyed[T], entries []batchEntry[T], adjust func(v *T, orig *yaml.Node)) error {
	index := indexOf(cur, of, entries)
	seen := map[int]bool{}
	var dels []int
	for _, en := range entries {
		i := -1
		if en.name != "" {
			if i = index[en.name]; i < 0 {
				return &NotFoundError{Kind: kind, Name: en.name}
			}
			if seen[i] {
				return fmt.Errorf("policy: one edit changes %s %q twice", kind, en.name)
			}
			seen[i] = true
		}
		if en.del {
			if i >= 0 {
				dels = append(dels, i)
			}
			continue
		}
		v := en.v
		if adjust != nil {
			adjust(&v, doc.Entry(key, i))
		}
		if err := doc.Put(key, i, v); err != nil {
			return err
		}
	}
	slices.Sort(dels)
	for _, i := range slices.Backward(dels) {
		if err := doc.Delete(key, i); err != nil {
			return err
		}
	}
	return nil
}

// indexOf maps the names entries change to their places in cur's list
// (-1: not in it), in one pass over the list: a find per entry made a SCIM
// PATCH of a group's 1,000 members over 5,000 users read 5 million names.
// The first entry of a name wins, as find's.
func indexOf[T any](cur *Config, of keyed[T], entries []batchEntry[T]) map[string]int {
	index := make(map[string]int, len(entries))
	for _, en := range entries {
		if en.name != "" {
			index[en.name] = -1
		}
	}
	if len(index) == 0 {
		return index
	}
	list, name := of(cur)
	for i := range list {
		n := name(&list[i])
		if at, ok := index[n]; ok && at < 0 {
			index[n] = i
		}
	}
	return index
}
