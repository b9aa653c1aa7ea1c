package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// The SCIM Groups endpoints (docs/http.md, "SCIM provisioning"): a
// group's members are the users that list it, so a change of members is
// one edit of those users (policy.EditBatch).

// groupMatcher is a filter's comparisons as a test of groups, as
// userMatcher is of users; cfg says who the members are.
func groupMatcher(cfg *policy.Config, terms []scimFilter) (func(*policy.Group) bool, error) {
	tests := make([]func(*policy.Group) bool, len(terms))
	for i, f := range terms {
		s, isString := f.value.(string)
		switch {
		case f.attr == "displayname" && isString:
			// caseExact false (RFC 7643 section 4.2)
			tests[i] = func(g *policy.Group) bool { return policy.EqualASCIIFold(g.Name, s) }
		case f.attr == "id" && isString:
			tests[i] = func(g *policy.Group) bool { return g.SCIMID() == s }
		case f.attr == "externalid" && isString:
			// caseExact true (RFC 7643 section 3.1)
			tests[i] = func(g *policy.Group) bool { return g.ExternalID != "" && g.ExternalID == s }
		case (f.attr == "members" || f.attr == "members.value") && isString:
			// Entra asks whether a user is a member so.
			tests[i] = func(g *policy.Group) bool { u := cfg.UserBySub(s); return u != nil && u.InGroup(g.Name) }
		default:
			return nil, scimFail(http.StatusBadRequest, "invalidFilter", "cannot filter groups on %s; filter on displayName, id, externalId or members (strings)", f.attr)
		}
	}
	return allOf(tests), nil
}

func (a *API) scimListGroups(w http.ResponseWriter, r *http.Request) {
	cfg, tag := a.view()
	matcher := func(terms []scimFilter) (func(*policy.Group) bool, error) { return groupMatcher(cfg, terms) }
	answerQuery(w, r, scimGroupSchema, cfg.Groups, matcher, func(g *policy.Group) any { return a.scimGroupOf(cfg, g, tag) })
}

func (a *API) scimGetGroup(w http.ResponseWriter, r *http.Request) {
	cfg, tag := a.view()
	g := cfg.GroupBySCIMID(r.PathValue("id"))
	if g == nil {
		scimError(w, http.StatusNotFound, "", fmt.Sprintf("there is no group with id %q", r.PathValue("id")))
		return
	}
	if tag != "" {
		w.Header().Set("ETag", tag)
	}
	writeSCIM(w, http.StatusOK, projection(r, scimGroupSchema)(a.scimGroupOf(cfg, g, tag)))
}

// memberSubs reads a members value: a list of {"value": <user id>}.
func memberSubs(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, scimFail(http.StatusBadRequest, "invalidValue", "members must be a list of {\"value\": <user id>}")
	}
	subs := make([]string, 0, len(list))
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "members[%d] must be an object with value", i)
		}
		mm := scimAttrs(obj, "")
		if err := unknownAttr(mm, scimMultiAttrs, fmt.Sprintf("members[%d]", i)); err != nil {
			return nil, err
		}
		s, err := scimString(mm, "value", fmt.Sprintf("members[%d].value", i))
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "members[%d].value must be a user's id", i)
		}
		// RFC 7643 section 4.2: a member's type is User or Group. The
		// value of a Group is a group's id, which may be a user's sub too.
		typ, err := scimString(mm, "type", fmt.Sprintf("members[%d].type", i))
		if err != nil {
			return nil, err
		}
		if typ != "" && !strings.EqualFold(typ, "User") {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "members[%d].type is %q: a group here holds users only (type User), not groups", i, typ)
		}
		subs = append(subs, s)
	}
	return subs, nil
}

// membership is a group's members being changed: users' subs.
type membership map[string]bool

func membersOf(cur *policy.Config, group string) membership {
	m := membership{}
	for i := range cur.Users {
		if cur.Users[i].InGroup(group) {
			m[cur.Users[i].Sub] = true
		}
	}
	return m
}

// noteMembers puts into details, for the admin_change, the usernames of
// the users of cur whose membership changes from was to now, sorted:
// "users", and the event's user when there is one (editAs), so that the
// audit's ?user= finds what gave or took a user's access.
func noteMembers(details map[string]any, cur *policy.Config, was, now membership) {
	var names []string
	for _, m := range []struct{ from, to membership }{{was, now}, {now, was}} {
		for sub := range m.from {
			if !m.to[sub] {
				if u := cur.UserBySub(sub); u != nil {
					names = append(names, u.Username)
				}
			}
		}
	}
	slices.Sort(names)
	delete(details, "users")
	if len(names) > 0 {
		details["users"] = names
	}
}

// memberEdits are the edits of the users of cur that make want the
// members of group: one Batch, so that no half of them is made. A sub in
// want that no user has is invalidValue.
func memberEdits(cur *policy.Config, group string, want membership) ([]policy.UserEdit, error) {
	return renameEdits(cur, group, group, want)
}

// renameEdits is memberEdits of a group renamed from group to name: the
// members listed keep its place in their groups, under its new name.
func renameEdits(cur *policy.Config, group, name string, want membership) ([]policy.UserEdit, error) {
	for sub := range want {
		if cur.UserBySub(sub) == nil {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "members: there is no user with id %q", sub)
		}
	}
	var edits []policy.UserEdit
	for i := range cur.Users {
		u := &cur.Users[i]
		in := u.InGroup(group)
		if in == want[u.Sub] && (!in || name == group) {
			continue
		}
		nu := cloneUser(*u)
		switch {
		case in && want[u.Sub]:
			replaceGroup(nu.Groups, group, name)
		case want[u.Sub]:
			nu.Groups = append(nu.Groups, name)
		default:
			nu.Groups = slices.DeleteFunc(nu.Groups, func(g string) bool { return g == group })
		}
		edits = append(edits, policy.UserEdit{Username: u.Username, User: nu})
	}
	return edits, nil
}

// replaceGroup makes each group of groups named group name, in place.
func replaceGroup(groups []string, group, name string) {
	for i, g := range groups {
		if g == group {
			groups[i] = name
		}
	}
}

// renameInServers are the edits of the MCP servers of cur whose access
// or deny entries name group: each names name instead.
func renameInServers(cur *policy.Config, group, name string) []policy.ServerEdit {
	return renameRefs(cur, false, group, name)
}

// renameUserInServers is renameInServers of a user's username.
func renameUserInServers(cur *policy.Config, username, name string) []policy.ServerEdit {
	return renameRefs(cur, true, username, name)
}

// renameRefs is renameInServers of a group (users false) or a user.
func renameRefs(cur *policy.Config, users bool, group, name string) []policy.ServerEdit {
	rename := func(groups []string) ([]string, bool) {
		if !slices.Contains(groups, group) {
			return groups, false
		}
		out := slices.Clone(groups)
		replaceGroup(out, group, name)
		return out, true
	}
	var edits []policy.ServerEdit
	for i := range cur.MCPServers {
		s := cur.MCPServers[i]
		changed := false
		s.Access = slices.Clone(s.Access)
		for j := range s.Access {
			list := &s.Access[j].Groups
			if users {
				list = &s.Access[j].Users
			}
			var c bool
			if *list, c = rename(*list); c {
				changed = true
			}
		}
		s.Deny = slices.Clone(s.Deny)
		for j := range s.Deny {
			list := &s.Deny[j].Groups
			if users {
				list = &s.Deny[j].Users
			}
			var c bool
			if *list, c = rename(*list); c {
				changed = true
			}
		}
		if changed {
			edits = append(edits, policy.ServerEdit{ID: s.ID, Server: s})
		}
	}
	return edits
}

// pruneServers are the edits of the MCP servers of cur whose access or
// deny entries name the user username or the group group (either may be
// ""): each leaves it out. An entry that then names no user and no group
// is removed: an access entry so would match nobody (the file's check
// refuses it), and a deny entry so would deny everyone through its
// clients, or everyone. removed says what went, for the audit, as
// "<server>.access[i].users" (or "... (entry removed)").
func pruneServers(cur *policy.Config, username, group string) (edits []policy.ServerEdit, removed []string) {
	drop := func(list []string, name string) ([]string, bool) {
		if name == "" || !slices.Contains(list, name) {
			return list, false
		}
		return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == name }), true
	}
	for i := range cur.MCPServers {
		s := cur.MCPServers[i]
		changed := false
		prune := func(kind string, j int, users, groups *[]string) (keep bool) {
			var u, g bool
			*users, u = drop(*users, username)
			*groups, g = drop(*groups, group)
			if !u && !g {
				return true
			}
			changed = true
			at := fmt.Sprintf("%s.%s[%d]", s.ID, kind, j)
			if len(*users) == 0 && len(*groups) == 0 {
				removed = append(removed, at+" (entry removed: it named no one else)")
				return false
			}
			if u {
				removed = append(removed, at+".users")
			}
			if g {
				removed = append(removed, at+".groups")
			}
			return true
		}
		var access []policy.Access
		for j, e := range s.Access {
			if prune("access", j, &e.Users, &e.Groups) {
				access = append(access, e)
			}
		}
		var deny []policy.Deny
		for j, e := range s.Deny {
			if prune("deny", j, &e.Users, &e.Groups) {
				deny = append(deny, e)
			}
		}
		if changed {
			s.Access, s.Deny = access, deny
			edits = append(edits, policy.ServerEdit{ID: s.ID, Server: s})
		}
	}
	return edits, removed
}

// deleteUserBatch is the edit that deletes the user old of cur and takes
// it out of the access and deny entries that name it (pruneServers), and,
// with faults (SCIM's), deletes the faults that match it (a fault without
// its match.user would match everyone); details gets what was taken
// (references_removed), for the admin_change, with the faults of active
// (added at runtime) that go with the user (runtimeUserFaults). The admin
// API's ?prune=true leaves the file's faults, which an admin changes first.
func deleteUserBatch(cur *policy.Config, old *policy.User, details map[string]any, withFaults bool, active []idp.FaultStatus) (policy.Batch, *policy.Change) {
	servers, removed := pruneServers(cur, old.Username, "")
	var faults []policy.FaultEdit
	if withFaults {
		var gone []string
		faults, gone = userFaults(cur, old.Username, "")
		removed = append(removed, gone...)
	}
	removed = append(removed, runtimeUserFaults(active, old.Username)...)
	noteRemoved(details, removed)
	return policy.Batch{Users: []policy.UserEdit{{Username: old.Username, Delete: true}}, Servers: servers, Faults: faults},
		&policy.Change{Kind: "user", Op: "delete", Name: old.Username, Before: *old}
}

// userFaults are the edits of the faults of cur (the file's faults:
// section) whose match.user is username: each matches name instead, or,
// when name is "" (a deletion), is deleted. changed says which, for the
// audit: "faults[<i>] (id <id>) (fault deleted: ...)".
func userFaults(cur *policy.Config, username, name string) (edits []policy.FaultEdit, changed []string) {
	for i, f := range cur.Faults {
		if f.Match.User != username {
			continue
		}
		at := fmt.Sprintf("faults[%d]", i)
		if f.ID != "" {
			at += " (id " + f.ID + ")"
		}
		if name == "" {
			at += " (fault deleted: its match.user named the user)"
		}
		changed = append(changed, at)
		if name == "" {
			edits = append(edits, policy.FaultEdit{Index: i, Delete: true})
			continue
		}
		f.Match.User = name
		edits = append(edits, policy.FaultEdit{Index: i, Fault: f})
	}
	return edits, changed
}

// runtimeUserFaults names, for the audit, the faults of active added at
// runtime whose match.user is username, which the IdP deletes with the
// user (idp.Server.SetConfig): "fault <id> (added at runtime) (fault
// deleted: ...)".
func runtimeUserFaults(active []idp.FaultStatus, username string) (gone []string) {
	for _, f := range active {
		if f.Source == idp.FaultFromAdmin && f.Match.User == username {
			gone = append(gone, "fault "+f.ID+" (added at runtime) (fault deleted: its match.user named the user)")
		}
	}
	return gone
}

// deleteGroupBatch is deleteUserBatch of the group g: it also leaves its
// members' groups, whom details names (noteMembers).
func deleteGroupBatch(cur *policy.Config, g *policy.Group, details map[string]any) (policy.Batch, *policy.Change) {
	noteMembers(details, cur, membersOf(cur, g.Name), membership{})
	edits, _ := memberEdits(cur, g.Name, membership{}) // no unknown sub in an empty want
	servers, removed := pruneServers(cur, "", g.Name)
	noteRemoved(details, removed)
	return policy.Batch{Users: edits, Groups: []policy.GroupEdit{{Name: g.Name, Delete: true}}, Servers: servers},
		&policy.Change{Kind: "group", Op: "delete", Name: g.Name, Before: groupView(cur, g)}
}

func noteRemoved(details map[string]any, removed []string) {
	delete(details, "references_removed")
	if len(removed) > 0 {
		details["references_removed"] = removed
	}
}

// sameNameGroup is the group of cur other than self whose name is name
// but for the case of ASCII letters, nil when none: SCIM compares
// displayName so (RFC 7643 section 4.2, caseExact false;
// policy.EqualASCIIFold), and two such groups would be one to a filter.
func sameNameGroup(cur *policy.Config, name, self string) *policy.Group {
	for i := range cur.Groups {
		if g := &cur.Groups[i]; g.Name != self && policy.EqualASCIIFold(g.Name, name) {
			return g
		}
	}
	return nil
}

// groupName reads a new displayName (a PATCH's or a PUT's): a non-empty
// string.
func groupName(v any, what string) (string, error) {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return "", scimFail(http.StatusBadRequest, "invalidValue", "%s must be a non-empty string: the group's name", what)
	}
	return s, nil
}

// groupChange is what a PATCH or PUT of a group makes of it: its members
// (m, its current ones to change), its name (rename, to set to another)
// and its externalId (ext).
type groupChange func(m membership, rename, ext *string) error

// scimChangeMembers changes the members of the group with this SCIM id
// (which change makes of its current ones, under the edit's lock), its
// externalId, and its name when change sets rename to another, in one
// edit, and answers the group (200). A rename is of the group, of its
// members' groups and of every access and deny entry that names it; the
// group keeps its id (RFC 7643 section 3.1), which the file then spells
// out (groups[].id); a name another group has, but for case, is 409
// uniqueness.
func (a *API) scimChangeMembers(w http.ResponseWriter, r *http.Request, id string, change groupChange) {
	details := map[string]any{}
	group := "" // the group's name before the change, if only its members change
	ch := a.scimEditWith(w, r, details, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		g := cur.GroupBySCIMID(id)
		if g == nil {
			return policy.Batch{}, nil, scimFail(http.StatusNotFound, "", "there is no group with id %q", id)
		}
		group = g.Name
		m := membersOf(cur, group)
		name, ext := group, g.ExternalID
		if err := change(m, &name, &ext); err != nil {
			return policy.Batch{}, nil, err
		}
		noteMembers(details, cur, membersOf(cur, group), m)
		if name == group && ext == g.ExternalID {
			edits, err := memberEdits(cur, group, m)
			if err != nil {
				return policy.Batch{}, nil, err
			}
			return policy.Batch{Users: edits}, &policy.Change{Kind: "group members", Op: "replace", Name: group, Before: memberNames(cur, group)}, nil
		}
		var servers []policy.ServerEdit
		if name != group {
			servers = renameInServers(cur, group, name)
		}
		if other := sameNameGroup(cur, name, group); other != nil {
			return policy.Batch{}, nil, scimFail(http.StatusConflict, "uniqueness", "displayName %q is taken by the group %q (names are compared without the case of ASCII letters)", name, other.Name)
		}
		if err := takenGroupExternalID(cur, ext, id); err != nil {
			return policy.Batch{}, nil, err
		}
		edits, err := renameEdits(cur, group, name, m)
		if err != nil {
			return policy.Batch{}, nil, err
		}
		changed := *g
		changed.Name, changed.ID, changed.ExternalID = name, id, ext
		group = ""
		return policy.Batch{Users: edits, Groups: []policy.GroupEdit{{Name: g.Name, Group: changed}}, Servers: servers},
			&policy.Change{Kind: "group", Op: "replace", Name: name, Before: groupView(cur, g)}, nil
	}, func(next *policy.Config) any {
		if group != "" {
			return memberNames(next, group)
		}
		if g := next.GroupBySCIMID(id); g != nil {
			return groupView(next, g)
		}
		return nil
	})
	if ch == nil {
		return
	}
	g := ch.Config.GroupBySCIMID(id)
	if g == nil {
		scimError(w, http.StatusNotFound, "", fmt.Sprintf("there is no group with id %q", id))
		return
	}
	w.Header().Set("ETag", etag(ch.Version))
	writeSCIM(w, http.StatusOK, a.scimGroupOf(ch.Config, g, etag(ch.Version)))
}

// sameGroupID refuses an id other than the group's: id is read-only.
func sameGroupID(id string, v any) error {
	if s, ok := v.(string); !ok || s != id {
		return scimFail(http.StatusBadRequest, "mutability", "id is read-only: the group's is %q (a new displayName renames the group; its id stays)", id)
	}
	return nil
}

// takenGroupExternalID refuses an externalId (not "") that another group
// than the one with SCIM id self ("" for none) has, compared byte for
// byte (caseExact), as takenExternalID does a user's.
func takenGroupExternalID(cur *policy.Config, ext, self string) error {
	if ext == "" {
		return nil
	}
	for i := range cur.Groups {
		if g := &cur.Groups[i]; g.SCIMID() != self && g.ExternalID == ext {
			return scimFail(http.StatusConflict, "uniqueness", "externalId %q is taken by the group with id %q", ext, g.SCIMID())
		}
	}
	return nil
}

func (a *API) scimPatchGroup(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	ops, err := readPatch(body)
	if err != nil {
		scimEditError(w, err)
		return
	}
	id := r.PathValue("id")
	a.scimChangeMembers(w, r, id, func(m membership, rename, ext *string) error {
		for _, op := range ops {
			path := op.path
			if path == "" {
				if op.op == "remove" {
					return scimFail(http.StatusBadRequest, "noTarget", "remove needs a path")
				}
				obj, ok := op.value.(map[string]any)
				if !ok {
					return scimFail(http.StatusBadRequest, "invalidValue", "an add or replace without a path needs an object value")
				}
				attrs, err := schemaAttrs(obj, scimGroupSchema, "the value of "+op.op)
				if err != nil {
					return err
				}
				if err := unknownAttr(attrs, scimGroupAttrs, "the value of "+op.op); err != nil {
					return err
				}
				for k, v := range attrs {
					if err := patchGroupAttr(m, id, rename, ext, op.op, k, v, true); err != nil {
						return err
					}
				}
				continue
			}
			if len(path) > len(scimGroupSchema) && strings.EqualFold(path[:len(scimGroupSchema)+1], scimGroupSchema+":") {
				path = path[len(scimGroupSchema)+1:]
			}
			if !knownAttr(strings.ToLower(path), scimGroupAttrs) {
				return scimFail(http.StatusBadRequest, "invalidPath", "path %q names no attribute of the Group schema (RFC 7643); nothing was changed", op.path)
			}
			if err := metaPath(strings.ToLower(path)); err != nil {
				return err
			}
			if err := patchGroupAttr(m, id, rename, ext, op.op, path, op.value, op.hasValue); err != nil {
				return err
			}
		}
		return nil
	})
}

// patchGroupAttr applies one operation on a group's attribute to its
// members m: members (add, remove with a value or without one for all,
// replace), members[value eq "<id>"] (remove); displayName (add or
// replace) sets the name the group is renamed to; externalId (ext) is
// set or removed; id only as it is.
func patchGroupAttr(m membership, id string, rename, ext *string, op, path string, v any, hasValue bool) error {
	lower := strings.ToLower(path)
	switch {
	case lower == "members":
		if op == "remove" && !hasValue {
			clear(m)
			return nil
		}
		subs, err := memberSubs(v)
		if err != nil {
			return err
		}
		if op == "replace" {
			clear(m)
		}
		for _, s := range subs {
			if op == "remove" {
				delete(m, s)
			} else {
				m[s] = true
			}
		}
	case strings.HasPrefix(lower, "members."):
		// members.value is no list of members nor one of them: a
		// client would take its 200 for a change made.
		return scimFail(http.StatusBadRequest, "invalidPath", "%s: members are changed at the path members (a list of {\"value\": <user id>}) or, to remove one, members[value eq \"<user id>\"]", path)
	case strings.HasPrefix(lower, "members["):
		if op != "remove" {
			return scimFail(http.StatusBadRequest, "invalidPath", "%s: only remove takes a filtered members path", path)
		}
		f, err := parseSCIMFilter(path, "")
		if err != nil || len(f) != 1 || f[0].attr != "members.value" || !strings.HasSuffix(path, "]") {
			return scimFail(http.StatusBadRequest, "invalidPath", "%s: the members path takes [value eq \"<user id>\"]", path)
		}
		// A user who is no member is not there to remove: done, as a
		// remove by value list does (Okta sends it beside an add).
		s, _ := f[0].value.(string)
		delete(m, s)
	case lower == "displayname" || lower == "id":
		if op == "remove" {
			return scimFail(http.StatusBadRequest, "mutability", "%s cannot be removed", path)
		}
		if lower == "id" {
			return sameGroupID(id, v)
		}
		name, err := groupName(v, path)
		if err != nil {
			return err
		}
		*rename = name
	case lower == "externalid":
		if op == "remove" {
			*ext = ""
			return nil
		}
		e, err := externalID(v)
		if err != nil {
			return err
		}
		*ext = e
	}
	// schemas, meta and the like: not kept.
	return nil
}

// scimCreateGroup is POST /Groups: the group, and its members if any, in
// one edit; 201. A name taken is 409 uniqueness.
func (a *API) scimCreateGroup(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	m, err := schemaAttrs(body, scimGroupSchema, "the Group")
	if err == nil {
		err = unknownAttr(m, scimGroupAttrs, "the Group")
	}
	name := ""
	if err == nil {
		name, err = scimString(m, "displayname", "displayName")
	}
	if err == nil && strings.TrimSpace(name) == "" {
		err = scimFail(http.StatusBadRequest, "invalidValue", "displayName is required: the group's name")
	}
	var subs []string
	if v, ok := m["members"]; ok && err == nil {
		subs, err = memberSubs(v)
	}
	ext := ""
	if v, ok := m["externalid"]; ok && err == nil {
		ext, err = externalID(v)
	}
	if err != nil {
		scimEditError(w, err)
		return
	}
	id := name
	details := map[string]any{}
	ch := a.scimEditWith(w, r, details, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		if g := sameNameGroup(cur, name, ""); g != nil {
			return policy.Batch{}, nil, scimFail(http.StatusConflict, "uniqueness", "there is a group %q already (names are compared without the case of ASCII letters)", g.Name)
		}
		want := membership{}
		for _, s := range subs {
			want[s] = true
		}
		if err := takenGroupExternalID(cur, ext, ""); err != nil {
			return policy.Batch{}, nil, err
		}
		noteMembers(details, cur, membership{}, want)
		edits, err := memberEdits(cur, name, want)
		if err != nil {
			return policy.Batch{}, nil, err
		}
		g := policy.Group{Name: name, ExternalID: ext}
		id = name
		if cur.GroupBySCIMID(id) != nil {
			// A renamed group keeps its id, which may be this name:
			// the new group gets another, as a new user does a sub.
			id = policy.NewGroupID()
			g.ID = id
		}
		return policy.Batch{Users: edits, Groups: []policy.GroupEdit{{Group: g}}},
			&policy.Change{Kind: "group", Op: "create", Name: name}, nil
	}, func(next *policy.Config) any {
		if g := next.Group(name); g != nil {
			return groupView(next, g)
		}
		return nil
	})
	if ch == nil {
		return
	}
	sg := a.scimGroupOf(ch.Config, ch.Config.GroupBySCIMID(id), etag(ch.Version))
	w.Header().Set("Location", sg.Meta.Location)
	w.Header().Set("ETag", etag(ch.Version))
	writeSCIM(w, http.StatusCreated, sg)
}

// scimReplaceGroup is PUT /Groups/{id}: the members become those sent
// (none when left out); another displayName renames the group.
func (a *API) scimReplaceGroup(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	m, err := schemaAttrs(body, scimGroupSchema, "the Group")
	if err == nil {
		err = unknownAttr(m, scimGroupAttrs, "the Group")
	}
	name := ""
	if v, ok := m["displayname"]; ok && err == nil {
		name, err = groupName(v, "displayName")
	}
	var subs []string
	if v, ok := m["members"]; ok && err == nil {
		subs, err = memberSubs(v)
	}
	// externalId: kept when left out, cleared by null, as a User's.
	var ext *string
	if v, ok := m["externalid"]; ok && err == nil {
		var e string
		e, err = externalID(v)
		ext = &e
	} else if nullAttr(body, scimGroupSchema, "externalid") {
		ext = new(string)
	}
	if err != nil {
		scimEditError(w, err)
		return
	}
	a.scimChangeMembers(w, r, id, func(m membership, rename, e *string) error {
		clear(m)
		for _, s := range subs {
			m[s] = true
		}
		if name != "" {
			*rename = name
		}
		if ext != nil {
			*e = *ext
		}
		return nil
	})
}

// scimDeleteGroup is DELETE /Groups/{id}: the group, its place in its
// members' groups, and in the access and deny entries that name it
// (pruneServers), in one edit.
func (a *API) scimDeleteGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	details := map[string]any{}
	ch := a.scimEditWith(w, r, details, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		g := cur.GroupBySCIMID(id)
		if g == nil {
			return policy.Batch{}, nil, scimFail(http.StatusNotFound, "", "there is no group with id %q", id)
		}
		b, c := deleteGroupBatch(cur, g, details)
		return b, c, nil
	}, nil)
	if ch != nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}
