package policy

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// MaxMappingKeys bounds the keys of any one mapping of a configuration
// (a user's claims, a client's jwks, an MCP server's clients, ...).
// yaml.v3 checks a mapping's keys for duplicates against each other, in
// time that grows with the square of their number, and a configuration is
// decoded several times per change: one user given 20,000 claims made
// every later change of the file take seconds. At 1,000 keys that check
// costs about what reading the mapping's text does, and no real mapping
// of a configuration comes near it.
const MaxMappingKeys = 1000

// bigMappings reports every mapping under n with more than MaxMappingKeys
// keys, at its line (0 for a mapping not read from the file, such as one
// an edit adds), named by its path from the root ("users[3].claims").
// It does not follow aliases: the mapping an alias names is reported
// where it is written.
func bigMappings(n *yaml.Node, path, file string) Problems {
	if !hasBigMapping(n) {
		return nil // without building a path for every node
	}
	var out Problems
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		case yaml.MappingNode:
			if keys := len(n.Content) / 2; keys > MaxMappingKeys {
				name := path
				if name == "" {
					name = "the top level"
				}
				out = append(out, Problem{File: file, Line: n.Line, Msg: fmt.Sprintf(
					"%s: %d keys; a mapping may have at most %d (see \"Bounds\" in docs/configuration.md)", name, keys, MaxMappingKeys)})
				return // its values are not looked at: the file is refused anyway
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				if path != "" {
					key = path + "." + key
				}
				walk(n.Content[i+1], key)
			}
		}
	}
	walk(n, path)
	return out
}

// hasBigMapping reports whether some mapping under n has more than
// MaxMappingKeys keys.
func hasBigMapping(n *yaml.Node) bool {
	if n.Kind == yaml.MappingNode && len(n.Content)/2 > MaxMappingKeys {
		return true
	}
	if n.Kind == yaml.AliasNode {
		return false
	}
	for _, c := range n.Content {
		if hasBigMapping(c) {
			return true
		}
	}
	return false
}
