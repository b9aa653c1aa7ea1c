package policy

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
)

// Problem is one thing wrong with a configuration file, at a line (0 when
// it concerns the whole file).
type Problem struct {
	File string
	Line int
	Msg  string
	// between, for a problem between two tenants (a client_id at a shared
	// authorization server that both map with other secrets, a path or id
	// both give), is what each of them is told of it alone: forTenant.
	between *[2]tenantSide
	// tenant is the id of the tenant whose key the problem is at, when
	// parse knew it (tenantIDs).
	tenant string
}

// tenantSide is one tenant's part in a problem between two tenants: its
// index in tenants:, and the line and message that name its keys alone.
type tenantSide struct {
	tenant int
	id     string // the tenant's id, when parse knew it
	line   int
	msg    string
}

// OtherTenant is what a tenant's admin is told of a problem that another
// tenant's configuration has a part in: nothing of that tenant.
const OtherTenant = "conflicts with another tenant's configuration (ask the operator)"

// forTenant is what the admin of the tenant with the id id is told of ps,
// a check of the whole file (after an edit of that tenant, or a file
// changed on disk): its own problems as they are, its side of a problem
// between it and another tenant, and, for any problem of another tenant
// alone, one problem without a line saying that it conflicts with another
// tenant's configuration. A problem is the tenant's when parse found it
// at a key of the tenant with this id, or, when parse did not know whose
// it is (bigMappings), when it is at a key of tenants[index] (-1: the
// index in that file is not known). A problem of the file as a whole
// (a YAML syntax error) is everyone's. The file's own check and the
// operator are told ps.
func (ps Problems) forTenant(id string, index int) Problems {
	own := ""
	if index >= 0 {
		own = fmt.Sprintf("tenants[%d].", index)
	}
	var out Problems
	other := false
	for _, p := range ps {
		switch {
		case p.between != nil:
			side := -1
			for j, s := range p.between {
				if s.id == id || s.id == "" && s.tenant == index {
					side = j
				}
			}
			if side < 0 {
				other = true
				continue
			}
			out = append(out, Problem{File: p.File, Line: p.between[side].line, Msg: p.between[side].msg, tenant: p.between[side].id})
		case p.tenant != "":
			if p.tenant != id {
				other = true
				continue
			}
			out = append(out, p)
		case own != "" && strings.HasPrefix(p.Msg, own) || !strings.HasPrefix(p.Msg, "tenants["):
			out = append(out, p)
		default:
			other = true
		}
	}
	if other {
		file := ""
		if len(ps) > 0 {
			file = ps[0].File
		}
		out = append(out, Problem{File: file, Msg: "this configuration " + OtherTenant})
	}
	return out
}

// String formats the problem as "file:line: msg" (or "file: msg" without a
// line), the form editors and CI logs link to; a problem of no file (of
// faults built in Go, CheckFaults) is msg alone, which names its place.
// One line: a control or invisible formatting character is escaped
// (\u000a, \u001b, \u202e), as %q escapes the name a message quotes; the
// lists of names a message gives (a server's scopes, the known groups)
// hold the refused ones as they are written, which would forge a line of
// their own or drive the terminal.
func (p Problem) String() string {
	switch {
	case p.Line > 0:
		return visible(fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg))
	case p.File == "":
		return visible(p.Msg)
	}
	return visible(fmt.Sprintf("%s: %s", p.File, p.Msg))
}

// visible returns s with its control characters and invisible formatting
// characters (jsonstr.Invisible) escaped; s itself when it has none.
func visible(s string) string {
	hidden := func(r rune) bool { return unicode.IsControl(r) || jsonstr.Invisible(r) }
	if strings.IndexFunc(s, hidden) < 0 {
		return s
	}
	var b []byte
	for _, r := range s {
		if hidden(r) {
			b = jsonstr.AppendEscape(b, r)
		} else {
			b = utf8.AppendRune(b, r)
		}
	}
	return string(b)
}

// Problems is every problem found in a configuration. As an error it lists
// them one per line, sorted by line.
type Problems []Problem

// Error implements error.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps.sorted() {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sorted returns the problems ordered by line; problems on the same line
// keep the order in which they were found.
func (ps Problems) sorted() Problems {
	out := append(Problems(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}
