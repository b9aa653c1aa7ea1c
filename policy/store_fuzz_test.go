package policy_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// FuzzStore_UpdateServerAccess feeds access lists, as the admin API
// decodes them from a request body, to the Store: an accepted edit must
// run exactly the list asked for and leave every line outside the edited
// list as it was; a refused one must change nothing.
func FuzzStore_UpdateServerAccess(f *testing.F) {
	f.Add(`[{"groups":["engineering"],"scopes":["chat.read"]}]`)
	f.Add(`[{"users":["bob"],"scopes":["chat.read","chat.write"],"clients":["mcp-client"],"max_auth_age":"15m"},{"groups":["sales"]}]`)
	f.Add(`[]`)
	f.Add(`[{"groups":["nope"]}]`)
	f.Add(`[{"users":["bob"],"scopes":["chat.read"],"max_auth_age":"15m"},{"groups":["engineering"],"scopes":["chat.read","chat.write"]}]`)
	src, err := os.ReadFile("testdata/store/layout.yaml")
	if err != nil {
		f.Fatal(err)
	}
	head, _, _ := strings.Cut(string(src), "    access:   # who may connect\n")
	_, tail, _ := strings.Cut(string(src), "    # end of chat\n")
	f.Fuzz(func(t *testing.T, body string) {
		var access []policy.Access
		if json.Unmarshal([]byte(body), &access) != nil {
			return
		}
		s, err := policy.NewStore(src, "layout.yaml")
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.Config()
		if _, err := s.UpdateServerAccess("chat", access, s.Version()); err != nil {
			var ps policy.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("refused with %T: %v", err, err)
			}
			if s.Config() != cfg || string(s.YAML()) != string(src) {
				t.Fatal("a refused edit changed the configuration")
			}
			return
		}
		got := s.Config().Server("chat").Access
		if len(got) != len(access) {
			t.Fatalf("%d entries running, %d sent", len(got), len(access))
		}
		for i := range access {
			g, _ := json.Marshal(got[i])
			w, _ := json.Marshal(access[i])
			if string(g) != string(w) {
				t.Fatalf("entry %d: running %s, sent %s", i, g, w)
			}
		}
		out := string(s.YAML())
		if !strings.HasPrefix(out, head) || !strings.HasSuffix(out, "    # end of chat\n"+tail) {
			t.Fatalf("lines outside the access list changed:\n%s", out)
		}
	})
}
