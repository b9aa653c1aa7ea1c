package yamlpatch_test

import (
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
)

// TestDelete_FirstItemKeepsTheListsComments deletes the first item of a
// list: the comments of the structure around it (above the list's key,
// on the key's line, at the head of the list apart from the item, at its
// foot, of the next key) stay; those of the item itself (its head
// comment, its line comments, its foot comment) go with it.
func TestDelete_FirstItemKeepsTheListsComments(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"comment above the key and the item's own",
			"issuer: x\n# The groups of the company.\ngroups:\n  # first group\n  - name: a # line a\n    description: A\n  # after a\n  - name: b\n    description: B\n# tail\nusers: []\n",
			"issuer: x\n# The groups of the company.\ngroups:\n  # after a\n  - name: b\n    description: B\n# tail\nusers: []\n"},
		{"key first in the document",
			"# The groups of the company.\ngroups:\n  # first group\n  - name: a\n    description: A\n  - name: b\nusers: []\n",
			"# The groups of the company.\ngroups:\n  - name: b\nusers: []\n"},
		{"document's head comment apart",
			"# head of the document\n\n# The groups of the company.\ngroups:\n  # first\n  - name: a\n  - name: b\nusers: []\n",
			"# head of the document\n\n# The groups of the company.\ngroups:\n  - name: b\nusers: []\n"},
		{"line comment of the key",
			"issuer: x\ngroups: # line of the key\n  # first group\n  - name: a\n    description: A\n  - name: b\n",
			"issuer: x\ngroups: # line of the key\n  - name: b\n"},
		{"item at the key's column",
			"issuer: x\n# The groups of the company.\ngroups:\n# first group\n- name: a\n  description: A\n- name: b\n",
			"issuer: x\n# The groups of the company.\ngroups:\n- name: b\n"},
		{"foot comments of the item and of the list",
			"issuer: x\n# The groups of the company.\ngroups:\n  - name: a\n    description: A\n    # foot of a\n  - name: b\n    description: B\n  # foot of the list\nusers: []\n",
			"issuer: x\n# The groups of the company.\ngroups:\n  - name: b\n    description: B\n  # foot of the list\nusers: []\n"},
		{"list's head comment apart from the item",
			"issuer: x\ngroups:\n  # The groups of the company.\n\n  # first\n  - name: a\n    description: A\n  - name: b\n",
			"issuer: x\ngroups:\n  # The groups of the company.\n\n  - name: b\n"},
		{"only item",
			"issuer: x\n# The groups of the company.\ngroups:\n  # only group\n  - name: a\n    description: A\n# users\nusers: []\n",
			"issuer: x\n# The groups of the company.\ngroups: []\n# users\nusers: []\n"},
		{"flow items",
			"issuer: x\n# The groups of the company.\ngroups:\n  - {name: a, description: A}\n  - {name: b}\n",
			"issuer: x\n# The groups of the company.\ngroups:\n  - {name: b}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := edited(t, []byte(c.src), func(d *yamlpatch.Doc) error { return d.Delete("groups", 0) })
			if out != c.want {
				t.Errorf("deleting groups[0] of\n%s\ngave\n%s\nwant\n%s", c.src, out, c.want)
			}
		})
	}
}

// TestPut_EmptiedListKeepsItsKeysComments removes the only entry of a
// server's list (a Put without it, as the console's editor and the admin
// API's PUT of the list send): a list whose key has comments of its own
// (above the key, on its line) stays as an empty list with them, rather
// than going with its comments; the entry's own comments go, and so does
// one below the last entry, which yaml.v3 reads as that entry's. A list
// without comments of its own goes as before.
func TestPut_EmptiedListKeepsItsKeysComments(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"comment above the key",
			"mcp_servers:\n  - id: chat\n    issuer: x\n    # who may connect\n    access:\n      # engineers\n      - groups: [eng]\n        scopes: [a]\n    # deny\n    deny:\n      - users: [bob]\n",
			"mcp_servers:\n  - id: chat\n    issuer: x\n    # who may connect\n    access: []\n    # deny\n    deny:\n      - users: [bob]\n"},
		{"comment on the key's line",
			"mcp_servers:\n  - id: chat\n    issuer: x\n    access: # who may connect\n      - groups: [eng] # engineers\n        scopes: [a]\n    deny:\n      - users: [bob]\n",
			"mcp_servers:\n  - id: chat\n    issuer: x\n    access: [] # who may connect\n    deny:\n      - users: [bob]\n"},
		{"no comment of its own",
			"mcp_servers:\n  - id: chat\n    issuer: x\n    access:\n      # engineers\n      - groups: [eng]\n        scopes: [a]\n    # deny\n    deny:\n      - users: [bob]\n",
			"mcp_servers:\n  - id: chat\n    issuer: x\n    # deny\n    deny:\n      - users: [bob]\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var orig document
			if err := yaml.Unmarshal([]byte(c.src), &orig); err != nil {
				t.Fatal(err)
			}
			s := orig.Servers[0]
			s.Access = nil
			out := edited(t, []byte(c.src), func(d *yamlpatch.Doc) error { return d.Put("mcp_servers", 0, s) })
			if out != c.want {
				t.Errorf("removing the only access entry of\n%s\ngave\n%s\nwant\n%s", c.src, out, c.want)
			}
		})
	}
}
