package policy_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// The scim: section's tokens: a hashed and a plain one are matched by
// the token presented, nothing else is; each mistake is named with the
// file and the line.
func TestParse_SCIMTokens(t *testing.T) {
	sum := sha256.Sum256([]byte("entra-secret-token-0123456789"))
	cfg, err := policy.Parse([]byte(`users: []
scim:
  tokens:
    - name: entra
      token_sha256: `+hex.EncodeToString(sum[:])+`
    - name: okta
      token: okta-plain-token-0123456789
`), "scim.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for presented, want := range map[string]string{
		"entra-secret-token-0123456789": "entra", "okta-plain-token-0123456789": "okta",
		"entra-secret-token-012345678": "", "": "", hex.EncodeToString(sum[:]): "",
	} {
		got := ""
		if tok := cfg.SCIM.Match(presented); tok != nil {
			got = tok.Name
		}
		if got != want {
			t.Errorf("Match(%q) = %q, want %q", presented, got, want)
		}
	}

	for _, c := range []struct{ tokens, want string }{
		{"    - name: a\n      token: short\n", "scim.yaml:5: scim.tokens[0].token: a token is 16 to"},
		{"    - name: a\n      token_sha256: abcd\n", "scim.yaml:5: scim.tokens[0].token_sha256: not a hex SHA-256"},
		{"    - name: a\n", "scim.yaml:4: scim.tokens[0]: no token"},
		{"    - name: a\n      token: okta-plain-token-0123456789\n      token_sha256: " + hex.EncodeToString(sum[:]) + "\n", "scim.yaml:4: scim.tokens[0]: both token and token_sha256"},
		{"    - token: okta-plain-token-0123456789\n", "scim.yaml:4: scim.tokens[0].name: missing"},
		{"    - name: 'has space'\n      token: okta-plain-token-0123456789\n", "scim.yaml:4: scim.tokens[0].name: \"has space\" is not a token name"},
		{"    - name: a\n      token: okta-plain-token-0123456789\n    - name: a\n      token: okta-plain-token-abcdefghij\n", "scim.yaml:6: scim.tokens[1].name: duplicate token name \"a\" (first at line 4)"},
		{"    - name: a\n      token: entra-secret-token-0123456789\n    - name: b\n      token_sha256: " + hex.EncodeToString(sum[:]) + "\n", "scim.yaml:6: scim.tokens[1]: the same token as scim.tokens[0] (line 4)"},
		{strings.Repeat("    - name: a\n      token: okta-plain-token-0123456789\n", 17), "scim.yaml:4: scim.tokens: 17 tokens; give at most 16"},
		{"    - name: a\n      token: okta plain token 0123456789\n", "scim.tokens[0].token: a token is"},
	} {
		_, err := policy.Parse([]byte("users: []\nscim:\n  tokens:\n"+c.tokens), "scim.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.tokens, err, c.want)
		}
	}
	// With tenants, each tenant holds its own.
	if _, err := policy.Parse([]byte("scim:\n  tokens: []\ntenants:\n  - id: a\n"), "scim.yaml"); err == nil || !strings.Contains(err.Error(), "each tenant holds its own scim") {
		t.Errorf("scim: beside tenants: %v", err)
	}
}

// users[].external_id: kept as written, unique when set, bounded.
func TestParse_UserExternalID(t *testing.T) {
	cfg, err := policy.Parse([]byte("users:\n  - {username: a, password: a, external_id: 00u-A}\n  - {username: b, password: b, external_id: 00u-a}\n  - {username: c, password: c}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User("a").ExternalID != "00u-A" || cfg.User("b").ExternalID != "00u-a" || cfg.User("c").ExternalID != "" {
		t.Errorf("external ids: %q %q %q", cfg.User("a").ExternalID, cfg.User("b").ExternalID, cfg.User("c").ExternalID)
	}
	for _, c := range []struct{ users, want string }{
		{"  - {username: a, password: a, external_id: e1}\n  - {username: b, password: b, external_id: e1}\n", `x.yaml:3: users[1].external_id: duplicate external_id "e1" (first at line 2)`},
		{"  - {username: a, password: a, external_id: ' '}\n", "x.yaml:2: users[0].external_id: \" \" is blank"},
		{"  - {username: a, password: a, external_id: " + strings.Repeat("e", 257) + "}\n", "x.yaml:2: users[0].external_id: 257 bytes; it may have at most 256"},
	} {
		_, err := policy.Parse([]byte("users:\n"+c.users), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.users, err, c.want)
		}
	}
}

// groups[].id and groups[].external_id: a group's SCIM id (its id, else
// its name: a group SCIM renamed keeps its id) is unique, an id is a name
// without control or invisible characters; external_id as a user's.
func TestParse_GroupIDs(t *testing.T) {
	cfg, err := policy.Parse([]byte("groups:\n  - {name: engineering, id: eng, external_id: 00g-A}\n  - {name: mkt}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if g := cfg.GroupBySCIMID("eng"); g == nil || g.Name != "engineering" || g.ExternalID != "00g-A" || cfg.GroupBySCIMID("mkt") == nil || cfg.GroupBySCIMID("engineering") != nil {
		t.Errorf("groups by SCIM id: %+v", g)
	}
	for _, c := range []struct{ groups, want string }{
		{"  - {name: engineering, id: eng}\n  - {name: eng}\n", `x.yaml:3: groups[1]: the SCIM id "eng" (a group's id, else its name) is already that of groups[0] (line 2`},
		{"  - {name: a, id: x}\n  - {name: b, id: x}\n", `x.yaml:3: groups[1]: the SCIM id "x"`},
		{"  - {name: a, id: \"x\\u202ey\"}\n", `x.yaml:2: groups[0].id: "x\u202ey" holds U+202E`},
		{"  - {name: a, external_id: e1}\n  - {name: b, external_id: e1}\n", `x.yaml:3: groups[1].external_id: duplicate external_id "e1" (first at line 2)`},
		{"  - {name: a, external_id: ' '}\n", "x.yaml:2: groups[0].external_id: \" \" is blank"},
	} {
		_, err := policy.Parse([]byte("groups:\n"+c.groups), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.groups, err, c.want)
		}
	}
}

// A display name (users[].name, clients[].name, mcp_servers[].name) holding
// a control character or a bidi override is refused with its line; other
// scripts and emoji joiners are names.
func TestParse_DisplayNames(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"users:\n  - {username: a, password: a, name: \"A\\e[2J\"}\n", `x.yaml:2: users[0].name: "A\x1b[2J" holds U+001B, a control or bidi override character`},
		{"users:\n  - {username: a, password: a, name: \"A\\u202eB\"}\n", `x.yaml:2: users[0].name: "A\u202eB" holds U+202E`},
		{"clients:\n  - {client_id: c, name: \"C\\x85\"}\n", `x.yaml:2: clients[0].name: "C\u0085" holds U+0085`},
		{"mcp_servers:\n  - {id: s, name: \"S\\u2067\", issuer: \"https://as.example\", resources: [\"https://s.example/mcp\"]}\n", `x.yaml:2: mcp_servers[0].name: "S\u2067" holds U+2067`},
	} {
		_, err := policy.Parse([]byte(c.yaml), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.yaml, err, c.want)
		}
	}
	if _, err := policy.Parse([]byte("users:\n  - {username: a, password: a, name: \"Бо́б بوب 👩\u200d💻 می\u200cخواهم\"}\n"), "x.yaml"); err != nil {
		t.Errorf("a name in several scripts: %v", err)
	}
}
