package policy

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a configuration file, at a line (0 when
// it concerns the whole file).
type Problem struct {
	File string
	Line int
	Msg  string
}

// String formats the problem as "file:line: msg" (or "file: msg" without a
// line), the form editors and CI logs link to; a problem of no file (of
// faults built in Go, CheckFaults) is msg alone, which names its place.
func (p Problem) String() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	case p.File == "":
		return p.Msg
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
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
