package policy

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Line returns the line of data, a configuration file, that holds the
// value at path ("tenants[1].users[0].sub", "mcp_servers[2].issuer"), or
// of the nearest enclosing value when that one is not written (a default
// sub, say); 0 when data is not YAML. It lets a check made outside
// Parse, such as the demo's, name the line to change as Parse does.
func Line(data []byte, path string) int {
	line, _ := locate(data, path)
	return line
}

// Written reports whether data, a configuration file, writes the value at
// path, rather than leaving it to its default.
func Written(data []byte, path string) bool {
	_, written := locate(data, path)
	return written
}

// locate is Line, and whether the value at path itself is written.
func locate(data []byte, path string) (line int, written bool) {
	return locateIn(root(data), path)
}

// root is the top node of data, a configuration file, or nil when data
// is not YAML.
func root(data []byte) *yaml.Node {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

// lineIndex is Line over one file for many paths: it parses the file
// once, at the first path, where Line parses it at each call. A check
// that names the lines of many users (Warnings) would otherwise parse a
// company's file once per warning.
type lineIndex struct {
	data   []byte
	top    *yaml.Node
	parsed bool
}

// root is the file's top node (resolved), or nil when it is not YAML.
func (l *lineIndex) root() *yaml.Node {
	if !l.parsed {
		l.top, l.parsed = root(l.data), true
	}
	return resolve(l.top)
}

// line is Line(l.data, path).
func (l *lineIndex) line(path string) int {
	if !l.parsed {
		l.top, l.parsed = root(l.data), true
	}
	line, _ := locateIn(l.top, path)
	return line
}

// locateIn is locate in the parsed file whose top node is top.
func locateIn(top *yaml.Node, path string) (line int, written bool) {
	if top == nil {
		return 0, false
	}
	n := resolve(top)
	line = n.Line
	for _, seg := range splitPath(path) {
		var next *yaml.Node
		switch i, err := strconv.Atoi(seg); {
		case err == nil && n.Kind == yaml.SequenceNode && i >= 0 && i < len(n.Content):
			next = n.Content[i]
		case err != nil && n.Kind == yaml.MappingNode:
			for k := 0; k+1 < len(n.Content); k += 2 {
				if n.Content[k].Value == seg {
					next = n.Content[k+1]
					break
				}
			}
		}
		if next = resolve(next); next == nil {
			return line, false
		}
		n, line = next, next.Line
	}
	return line, true
}

// splitPath splits "a.b[1].c" into "a", "b", "1", "c".
func splitPath(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			out = append(out, name)
		}
		for rest != "" {
			var idx string
			idx, rest, _ = strings.Cut(rest, "]")
			out = append(out, idx)
			rest = strings.TrimPrefix(rest, "[")
		}
	}
	return out
}
