package policy_test

import (
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestWarnings_UsersThatLookAlike: two users whose emails are one address
// for a mail system (ASCII case), or whose emails or usernames differ only
// by case, Unicode compatibility or composition forms (fullwidth letters,
// ligatures, NFD accents) or the spelling of an international domain name
// (Unicode or punycode), are warned of at the second user's line, naming
// the first: a resource server that maps users by email, or compares
// names so folded, takes one for the other. Distinct names are not.
func TestWarnings_UsersThatLookAlike(t *testing.T) {
	data := []byte(`users:
  - {username: alice, password: p, sub: s1, email: alice@acme.example}
  - {username: alice2, password: p, sub: s2, email: ALICE@ACME.EXAMPLE}
  - {username: Alice, password: p, sub: s3, email: a3@acme.example}
  - {username: "\uff41lice", password: p, sub: s4, email: a4@acme.example}
  - {username: "jos\u00e9", password: p, sub: s5, email: "jos\u00e9@acme.example"}
  - {username: "jose\u0301", password: p, sub: s6, email: "jose\u0301@acme.example"}
  - {username: carol, password: p, sub: s7, email: "carol@caf\u00e9.example"}
  - {username: carol2, password: p, sub: s8, email: "carol@xn--caf-dma.example"}
  - {username: "\ufb01na", password: p, sub: s9, email: fina@acme.example}
  - {username: fina, password: p, sub: s10, email: "\ufb01na@acme.example"}
  - {username: bob, password: p, sub: s11, email: bob@acme.example}
  - {username: bobby, password: p, sub: s12, email: bob+mcp@acme.example}
`)
	nfc, nfd := "jos\u00e9", "jose\u0301"
	got := warningsOf(t, data, "u.yaml")
	want := []string{
		`u.yaml:3: warning: user alice2: email "ALICE@ACME.EXAMPLE" is the address of user alice too (line 2): mail systems and resource servers that map users by email (subject: email) take them for one user, and the demo authorization servers map that address to neither; give each user their own address`,
		`u.yaml:4: warning: user Alice: username "Alice" looks the same as user alice's "alice" (line 2) once case and Unicode compatibility forms are folded: people, and systems that compare names so, take one for the other; rename one`,
		`u.yaml:5: warning: user ａlice: username "ａlice" looks the same as user alice's "alice" (line 2) once case and Unicode compatibility forms are folded: people, and systems that compare names so, take one for the other; rename one`,
		"u.yaml:7: warning: user " + nfd + ": username \"" + nfd + "\" looks the same as user " + nfc + "'s \"" + nfc + "\" (line 6) once case and Unicode compatibility forms are folded: people, and systems that compare names so, take one for the other; rename one",
		"u.yaml:7: warning: user " + nfd + ": email \"" + nfd + "@acme.example\" looks the same as user " + nfc + "'s \"" + nfc + "@acme.example\" (line 6) once case, Unicode compatibility forms and international domain names are folded: resource servers that map users by email and fold addresses so take them for one user; give each user their own address",
		`u.yaml:9: warning: user carol2: email "carol@xn--caf-dma.example" looks the same as user carol's "carol@café.example" (line 8) once case, Unicode compatibility forms and international domain names are folded: resource servers that map users by email and fold addresses so take them for one user; give each user their own address`,
		`u.yaml:11: warning: user fina: username "fina" looks the same as user ﬁna's "ﬁna" (line 10) once case and Unicode compatibility forms are folded: people, and systems that compare names so, take one for the other; rename one`,
		`u.yaml:11: warning: user fina: email "ﬁna@acme.example" looks the same as user ﬁna's "fina@acme.example" (line 10) once case, Unicode compatibility forms and international domain names are folded: resource servers that map users by email and fold addresses so take them for one user; give each user their own address`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestWarnings_MixedScripts: a username, or a part of an email (the local
// part, each label of the domain), that mixes Latin, Cyrillic and Greek
// letters is warned of, alone or beside the user it imitates: "\u0430lice"
// (a Cyrillic a) reads as alice, which no folding makes it. One script
// alone, accents included, is not.
func TestWarnings_MixedScripts(t *testing.T) {
	data := []byte(`users:
  - {username: alice, password: p, email: alice@acme.example}
  - {username: "\u0430lice", password: p, email: a2@acme.example}
  - {username: bob, password: p, email: "b\u043eb@acme.example"}
  - {username: carol, password: p, email: "carol@\u0430cme.example"}
  - {username: "\u0434\u043c\u0438\u0442\u0440\u0438\u0439", password: p, email: "dmitri@acme.example"}
  - {username: "jos\u00e9", password: p, email: "\u03b1\u03b2@acme.\u03b5\u03bb"}
`)
	got := warningsOf(t, data, "m.yaml")
	want := []string{
		"m.yaml:3: warning: user \u0430lice: username \"\u0430lice\" mixes Cyrillic and Latin letters, which is how one name imitates another (a Cyrillic \u0430 for a Latin a); write it in one script",
		"m.yaml:4: warning: user bob: email \"b\u043eb@acme.example\" mixes Cyrillic and Latin letters in \"b\u043eb\", which is how one name imitates another (a Cyrillic \u0430 for a Latin a); write each part in one script",
		"m.yaml:5: warning: user carol: email \"carol@\u0430cme.example\" mixes Cyrillic and Latin letters in \"\u0430cme\", which is how one name imitates another (a Cyrillic \u0430 for a Latin a); write each part in one script",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// warningsOf is what policy.Warnings says of the configuration data, read
// as file, one warning a line as check prints it.
func warningsOf(t *testing.T, data []byte, file string) []string {
	t.Helper()
	cfg, err := policy.Parse(data, file)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range policy.Warnings(cfg, data, file) {
		got = append(got, w.String())
	}
	return got
}

// TestWarnings_LookAlikeDefaultSubAtItsUsername: a sub that looks like
// another user's is warned of at the line of its own sub key, or, when
// the user has none (its sub is the default, from its username), at the
// username's line: after loading every user has a sub, and the warning
// named the line of a sub key the entry did not have, which is the
// entry's first line (here its password's).
func TestWarnings_LookAlikeDefaultSubAtItsUsername(t *testing.T) {
	data := []byte(`users:
  - username: bob
    password: p
    sub: U-ALICE
  - password: p
    username: alice
`)
	cfg, err := policy.Parse(data, "u.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ws := policy.Warnings(cfg, data, "u.yaml")
	if len(ws) != 1 || ws[0].Line != 6 || !strings.Contains(ws[0].Msg, `user alice: sub "u-alice" looks the same as user bob's "U-ALICE"`) {
		t.Errorf("warnings %v, want one of alice's sub at line 6, its username's", ws)
	}
}
