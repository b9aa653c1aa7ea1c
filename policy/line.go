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

// node is the value at path ("" for the top), resolved, or nil when the
// file does not write it or is not YAML.
func (l *lineIndex) node(path string) *yaml.Node {
	n, _, written := nodeIn(l.parsedTop(), path)
	if !written {
		return nil
	}
	return n
}

// line is Line(l.data, path).
func (l *lineIndex) line(path string) int {
	line, _ := locateIn(l.parsedTop(), path)
	return line
}

// parsedTop is the file's top node, parsed at the first call.
func (l *lineIndex) parsedTop() *yaml.Node {
	if !l.parsed {
		l.top, l.parsed = root(l.data), true
	}
	return l.top
}

// locateIn is locate in the parsed file whose top node is top.
func locateIn(top *yaml.Node, path string) (line int, written bool) {
	_, line, written = nodeIn(top, path)
	return line, written
}

// nodeIn is locateIn with the node of that line: the value at path
// (resolved) when written, else the nearest enclosing one.
func nodeIn(top *yaml.Node, path string) (n *yaml.Node, line int, written bool) {
	if top == nil {
		return nil, 0, false
	}
	n = resolve(top)
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
			return n, line, false
		}
		n, line = next, next.Line
	}
	return n, line, true
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
