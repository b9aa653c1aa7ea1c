package yamlpatch_test

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestEdit_KeepsLayout")

// document is the schema of testdata/layout.yaml: lists of entries under
// top-level keys, as in an identity provider's configuration.
type document struct {
	Issuer  string   `yaml:"issuer"`
	Groups  []group  `yaml:"groups"`
	Users   []user   `yaml:"users"`
	Clients []client `yaml:"clients"`
	Servers []server `yaml:"mcp_servers"`
}

type group struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}

type user struct {
	Username       string         `yaml:"username"`
	Password       string         `yaml:"password"`
	PasswordBcrypt string         `yaml:"password_bcrypt"`
	Sub            string         `yaml:"sub"`
	Email          string         `yaml:"email"`
	Name           string         `yaml:"name"`
	Groups         []string       `yaml:"groups"`
	Admin          bool           `yaml:"admin"`
	Disabled       bool           `yaml:"disabled"`
	Claims         map[string]any `yaml:"claims"`
}

type client struct {
	ClientID      string         `yaml:"client_id"`
	Name          string         `yaml:"name"`
	ClientSecret  string         `yaml:"client_secret"`
	RedirectURIs  []string       `yaml:"redirect_uris"`
	TokenExchange bool           `yaml:"token_exchange"`
	JWKS          map[string]any `yaml:"jwks"`
}

type server struct {
	ID        string            `yaml:"id"`
	Name      string            `yaml:"name"`
	Issuer    string            `yaml:"issuer"`
	Aliases   []string          `yaml:"aliases"`
	Resources []string          `yaml:"resources"`
	Scopes    []string          `yaml:"scopes"`
	Clients   map[string]string `yaml:"clients"`
	Access    []access          `yaml:"access"`
	Deny      []deny            `yaml:"deny"`
}

type access struct {
	Groups     []string `yaml:"groups"`
	Users      []string `yaml:"users"`
	Scopes     []string `yaml:"scopes"`
	Clients    []string `yaml:"clients"`
	MaxAuthAge duration `yaml:"max_auth_age"`
}

type deny struct {
	Groups  []string `yaml:"groups"`
	Users   []string `yaml:"users"`
	Clients []string `yaml:"clients"`
}

// duration writes itself as text, as a configuration's durations do.
type duration time.Duration

func (d duration) MarshalText() ([]byte, error) {
	return []byte(strings.TrimSuffix(time.Duration(d).String(), "0s")), nil
}

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = duration(v)
	return err
}

func decode(n *yaml.Node, v reflect.Value) bool { return n.Decode(v.Addr().Interface()) == nil }

var schema = reflect.TypeFor[document]()

func read(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edited is the text of src after edit, made on the document Edit reads
// from it; an edit refused, or a text not read or not written, fails t.
func edited(t *testing.T, src []byte, edit func(*yamlpatch.Doc) error) string {
	t.Helper()
	d, err := yamlpatch.Edit(src, schema, decode)
	if err != nil {
		t.Fatal(err)
	}
	if err := edit(d); err != nil {
		t.Fatalf("change refused: %v", err)
	}
	out, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// commentLines are the comment lines of a YAML text, and the line comments.
func commentLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "# "); i >= 0 && !strings.Contains(line, "\"") {
			out = append(out, strings.TrimSpace(line[i:]))
		}
	}
	return out
}

// TestEdit_KeepsLayout applies one change to testdata/layout.yaml
// (comments, blank lines, aligned comments, quoting, flow and block style)
// and compares the text with testdata/<case>.golden: the changed part in
// the style of its neighbours, everything else byte for byte. Run with
// -update after a change to the printer, and read the diff.
func TestEdit_KeepsLayout(t *testing.T) {
	src := read(t, "testdata/layout.yaml")
	var orig document
	if err := yaml.Unmarshal(src, &orig); err != nil {
		t.Fatal(err)
	}
	// serverAt returns a copy of server i with its own lists.
	serverAt := func(i int) server {
		s := orig.Servers[i]
		s.Access = append([]access(nil), s.Access...)
		return s
	}
	cases := []struct {
		name string
		edit func(d *yamlpatch.Doc) error
		// gone are comments that go with what the change removed.
		gone []string
	}{
		{"access_add_entry", func(d *yamlpatch.Doc) error {
			s := serverAt(0)
			s.Access = append(s.Access, access{Groups: []string{"sales"}, Scopes: []string{"chat.read"}, Clients: []string{"mcp-client"}})
			return d.Put("mcp_servers", 0, s)
		}, nil},
		{"access_change_one_entry", func(d *yamlpatch.Doc) error {
			s := serverAt(0)
			s.Access[1].Scopes = []string{"chat.read", "chat.write"}
			return d.Put("mcp_servers", 0, s)
		}, nil},
		{"access_remove_first_entry", func(d *yamlpatch.Doc) error {
			s := serverAt(0)
			s.Access = s.Access[1:]
			return d.Put("mcp_servers", 0, s)
		}, []string{"# engineers do everything"}},
		{"access_flow_style", func(d *yamlpatch.Doc) error {
			s := serverAt(1)
			s.Access = append(s.Access, access{Users: []string{"bob"}, Scopes: []string{"files.read"}})
			return d.Put("mcp_servers", 1, s)
		}, nil},
		{"deny_add_to_server_without_deny", func(d *yamlpatch.Doc) error {
			s := serverAt(0)
			s.Deny = []deny{{Users: []string{"bob"}, Clients: []string{"mcp-public"}}}
			return d.Put("mcp_servers", 0, s)
		}, nil},
		{"deny_remove", func(d *yamlpatch.Doc) error {
			s := serverAt(1)
			s.Deny = nil
			return d.Put("mcp_servers", 1, s)
		}, nil},
		{"user_create", func(d *yamlpatch.Doc) error {
			return d.Put("users", -1, user{Username: "carol", Password: "yes", Name: "Carol: the \"new\" one", Groups: []string{"engineering", "sales"}, Claims: map[string]any{"level": 3.0}})
		}, nil},
		{"user_replace_keeps_unchanged_lines", func(d *yamlpatch.Doc) error {
			u := orig.Users[1]
			u.Groups = []string{"sales", "engineering"}
			u.Email = "bob@acme.example"
			return d.Put("users", 1, u)
		}, nil},
		{"user_delete", func(d *yamlpatch.Doc) error {
			s := serverAt(0)
			s.Access = s.Access[:1]
			if err := d.Put("mcp_servers", 0, s); err != nil {
				return err
			}
			return d.Delete("users", 1)
		}, []string{"# Bob joined in June.", "# back from leave", "# step-up for bob"}},
		{"group_create", func(d *yamlpatch.Doc) error {
			return d.Put("groups", -1, group{Name: "legal", Description: "Reads the contracts"})
		}, nil},
		{"group_delete", func(d *yamlpatch.Doc) error {
			return d.Delete("groups", 2)
		}, nil},
		{"client_create", func(d *yamlpatch.Doc) error {
			return d.Put("clients", -1, client{ClientID: "cli", Name: "CLI", RedirectURIs: []string{"http://127.0.0.1/cb"}, TokenExchange: true})
		}, nil},
		{"server_create", func(d *yamlpatch.Doc) error {
			return d.Put("mcp_servers", -1, server{
				ID: "wiki", Name: "Wiki", Issuer: "https://as.wiki.example", Scopes: []string{"wiki.read"},
				Clients: map[string]string{"mcp-client": "mcp-client-at-wiki"},
				Access:  []access{{Groups: []string{"engineering"}, Scopes: []string{"wiki.read"}}},
			})
		}, nil},
		{"server_delete", func(d *yamlpatch.Doc) error {
			return d.Delete("mcp_servers", 0)
		}, []string{"# The chat server is the main one.", "# aligned", "# who may connect", "# engineers do everything", "# step-up for bob", "# end of chat"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := edited(t, src, c.edit)
			if got == string(src) {
				t.Fatal("the change changed nothing")
			}
			var again document
			if err := yaml.Unmarshal([]byte(got), &again); err != nil {
				t.Fatalf("the text does not parse:\n%v", err)
			}
			want := commentLines(string(src))
			for _, g := range c.gone {
				for i, w := range want {
					if w == g {
						want = append(want[:i], want[i+1:]...)
						break
					}
				}
			}
			if kept := commentLines(got); !reflect.DeepEqual(kept, want) {
				t.Errorf("comments changed:\n got %q\nwant %q", kept, want)
			}
			golden := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if wantText := read(t, golden); got != string(wantText) {
				t.Errorf("text differs from %s:\n%s", golden, got)
			}
		})
	}
}

// TestEdit_UnchangedEntryKeepsItsText puts back entries as they were, one
// change after another on the same list: the text must not change at all,
// although yaml.v3 would write the values differently (quotes, alignment,
// a duration's spelling).
func TestEdit_UnchangedEntryKeepsItsText(t *testing.T) {
	src := read(t, "testdata/layout.yaml")
	var orig document
	if err := yaml.Unmarshal(src, &orig); err != nil {
		t.Fatal(err)
	}
	d, err := yamlpatch.Edit(src, schema, decode)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range orig.Users {
		if err := d.Put("users", i, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Put("mcp_servers", 0, orig.Servers[0]); err != nil {
		t.Fatal(err)
	}
	if out, err := d.Bytes(); err != nil || string(out) != string(src) {
		t.Errorf("err = %v, text:\n%s", err, out)
	}
}

func TestEdit_Refusals(t *testing.T) {
	cases := []struct {
		name, src string
		edit      func(d *yamlpatch.Doc) error
	}{
		{"entry past the end", "groups:\n  - name: a\n", func(d *yamlpatch.Doc) error {
			return d.Put("groups", 1, group{Name: "b"})
		}},
		{"delete past the end", "groups:\n  - name: a\n", func(d *yamlpatch.Doc) error { return d.Delete("groups", 3) }},
		{"list written as an alias", "x: &l [{name: a}]\ngroups: *l\n", func(d *yamlpatch.Doc) error {
			return d.Put("groups", -1, group{Name: "b"})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := yamlpatch.Edit([]byte(c.src), schema, decode)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.edit(d); err == nil {
				t.Error("the change was accepted")
			}
		})
	}
	for _, src := range []string{"- a\n- b\n", "key: [unclosed\n"} {
		if _, err := yamlpatch.Edit([]byte(src), schema, decode); err == nil {
			t.Errorf("Edit(%q) accepted", src)
		}
	}
}

func TestEdit_NewListLandsInSchemaOrder(t *testing.T) {
	out := edited(t, []byte("# top\nissuer: https://idp.example\n\nmcp_servers: []\n"), func(d *yamlpatch.Doc) error {
		return d.Put("users", -1, user{Username: "u"})
	})
	// The new key is separated from its neighbours as they are from each
	// other.
	if want := "# top\nissuer: https://idp.example\n\nusers:\n  - username: u\n\nmcp_servers: []\n"; out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestHasKey(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("a: 1\nb: &m {c: 2}\nd: *m\n"), &n); err != nil {
		t.Fatal(err)
	}
	root := n.Content[0]
	for _, c := range []struct {
		node *yaml.Node
		key  string
		want bool
	}{
		{root, "a", true},
		{root, "c", false},
		{root.Content[5], "c", true}, // through the alias
		{root.Content[1], "a", false},
		{nil, "a", false},
	} {
		if got := yamlpatch.HasKey(c.node, c.key); got != c.want {
			t.Errorf("HasKey(%v, %q) = %v", c.node, c.key, got)
		}
	}
}

// Every string an edit writes reads back as it was. yaml.v3 writes a
// multi-line string as a literal block, and one that starts with a line
// break loses it when read back ("\nx" reads as "x").
func TestEdit_StringsReadBackAsWritten(t *testing.T) {
	src := read(t, "testdata/layout.yaml")
	for _, s := range []string{"\nx", "\n  - name: evil\n", "\n\nx\n", "a\nb", "a\n\nb\n\n", " a\n b", "a \nb", "\t\nx", "x\n ", "\r\nx", "a\rb"} {
		d, err := yamlpatch.Edit(src, schema, decode)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Put("groups", -1, group{Name: "g", Description: s}); err != nil {
			t.Fatal(err)
		}
		out, err := d.Bytes()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var doc document
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%q: %v\n%s", s, err, out)
		}
		if got := doc.Groups[len(doc.Groups)-1].Description; got != s {
			t.Errorf("description %q reads back as %q", s, got)
		}
	}
}
