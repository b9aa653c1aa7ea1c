package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck_WarnsOfYAML11Booleans: YAML 1.1's booleans (yes, no, on,
// off) are text to xaa-idp, which reads YAML 1.2, and were taken without
// a word: a user named no, a client id off, a claim verified: yes sent as
// the string "yes" where the file most likely meant true. A YAML 1.1
// reader of the same file (PyYAML, Go's yaml.v2, Ansible) reads each as a
// boolean. check now warns of each at its line, in the tenants: form
// too, without printing a value that may be a secret, and still accepts
// the file; quoted, none is warned of.
func TestCheck_WarnsOfYAML11Booleans(t *testing.T) {
	idp := "users:\n" +
		"  - username: no\n" +
		"    password: Yes\n" +
		"    claims: {verified: yes, quoted: \"on\", t: true}\n" +
		"  - username: \"off\"\n" +
		"    password: off-duty\n" +
		"clients:\n" +
		"  - client_id: OFF\n" +
		"    redirect_uris: [\"http://127.0.0.1/cb\"]\n"
	tenants := "tenants:\n  - id: acme\n" + indent(idp, "    ")
	for _, c := range []struct {
		name, config string
		want         []string
	}{
		{"top", idp, []string{
			":2: warning: users[0].username: written plain, this value is a boolean to YAML 1.1 readers",
			":3: warning: users[0].password: written plain, this value is a boolean to YAML 1.1 readers",
			`:4: warning: users[0].claims.verified: yes is sent as the text "yes"`,
			":8: warning: clients[0].client_id: written plain, this value is a boolean to YAML 1.1 readers",
		}},
		{"tenants", tenants, []string{
			":4: warning: tenants[0].users[0].username: written plain",
			":5: warning: tenants[0].users[0].password: written plain",
			`:6: warning: tenants[0].users[0].claims.verified: yes is sent as the text "yes"`,
			":10: warning: tenants[0].clients[0].client_id: written plain",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "idp.yaml")
			if err := os.WriteFile(file, []byte(c.config), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, stderr := runCLI(t, "check", "--config", file)
			if code != 0 || !strings.Contains(out, ": ok (") {
				t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
			}
			for _, want := range c.want {
				if !strings.Contains(stderr, file+want) {
					t.Errorf("check's stderr lacks\n%s%s\n---\n%s", file, want, stderr)
				}
			}
			if n := strings.Count(stderr, "YAML 1.1"); n != 4 {
				t.Errorf("%d warnings of YAML 1.1, want 4:\n%s", n, stderr)
			}
			if strings.Contains(stderr, "Yes") {
				t.Errorf("check's stderr shows the password:\n%s", stderr)
			}
		})
	}
}

func indent(s, by string) string {
	return by + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+by) + "\n"
}
