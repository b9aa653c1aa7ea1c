package policy

import (
	"fmt"
	"reflect"
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

// The bounds of the configuration's strings outside claims and jwks, each
// value in bytes; a field's bound is the one its max tag names (config.go,
// fieldBounds), and an untagged scalar (a duration, a time, a number) has
// maxScalarBytes. Only
// the 16 MiB of the file held them before: a certificate pasted as a
// client_secret, or a username or password longer than the login form
// takes, was a configuration that could never work.
const (
	// MaxNameBytes bounds ids, names and the values of a fixed set
	// (a username, a group, a server id, an algorithm).
	MaxNameBytes = 256
	// MaxUsernameBytes and MaxPasswordBytes are what the login form and
	// the admin API's HTTP Basic take (idp.MaxUsernameBytes): a longer
	// username or password could never sign in. A client_secret has
	// the password's bound.
	MaxUsernameBytes = MaxNameBytes
	MaxPasswordBytes = 1024
	// MaxBcryptCost bounds a password_bcrypt's cost: a check of cost 14
	// takes about a second of a core, and each one more doubles it. Every
	// failed login, of any username, is checked at the highest cost of the
	// users' hashes, so that one of cost 31 (bcrypt's most) made each take
	// hours and held the bcrypt slots: no one could sign in.
	MaxBcryptCost = 14
	// MaxSubBytes is OpenID Connect Core section 2's bound of sub: 255
	// ASCII characters.
	MaxSubBytes = 255
	// MaxEmailBytes is the longest address SMTP carries (RFC 5321
	// section 4.5.3.1.3: a path of 256 octets with its angle brackets).
	MaxEmailBytes = 254
	// MaxURLBytes bounds URLs (issuers, redirect URIs, resources, URL
	// patterns) and what may be one (a client_id, an audience): the
	// authorization request carries a redirect_uri and a client_id in 8
	// KiB, beside the other parameters, and browsers and proxies refuse
	// longer URLs.
	MaxURLBytes = 2048
	// MaxScopeBytes bounds one scope token.
	MaxScopeBytes = 1024
	// MaxFileNameBytes bounds a file's path (Linux's PATH_MAX).
	MaxFileNameBytes = 4096
	// MaxDescriptionBytes bounds a description shown in the console.
	MaxDescriptionBytes = 64 << 10
	// MaxErrorDescriptionBytes bounds a fault's error_description: the
	// IdP cuts an error_description at 1024 bytes.
	MaxErrorDescriptionBytes = 1024
	// maxScalarBytes bounds an untagged scalar (a duration, a time, a
	// number, a boolean).
	maxScalarBytes = MaxNameBytes
)

// fieldBounds are the bounds a field's max tag names: the tag says which
// bound, the constants above say how long, in one place.
var fieldBounds = map[string]int{
	"name":              MaxNameBytes,
	"username":          MaxUsernameBytes,
	"password":          MaxPasswordBytes,
	"sub":               MaxSubBytes,
	"email":             MaxEmailBytes,
	"url":               MaxURLBytes,
	"scope":             MaxScopeBytes,
	"file":              MaxFileNameBytes,
	"description":       MaxDescriptionBytes,
	"error_description": MaxErrorDescriptionBytes,
}

// fieldBound returns the bound of a struct field's strings, the one its
// max tag names; 0 when it has none.
func fieldBound(f reflect.StructField) int {
	return fieldBounds[f.Tag.Get("max")]
}

// tooLong refuses the scalar n of path when it is longer than the bound in
// force (d.max, or maxScalarBytes), and reports whether it did.
func (d *decoder) tooLong(n *yaml.Node, path, value string) bool {
	limit := d.max
	if limit == 0 {
		limit = maxScalarBytes
	}
	if len(value) <= limit {
		return false
	}
	d.fail(n, path, "%s: %d bytes; it may have at most %d bytes (see \"Bounds\" in docs/configuration.md)", path, len(value), limit)
	return true
}

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
