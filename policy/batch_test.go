package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

const batchConfig = `groups:
  - name: eng
users:
  - username: alice
    password: a   # keep this comment
    admin: true
  - username: bob
    password: b
clients:
  - client_id: c
    client_secret: s
    redirect_uris: [http://127.0.0.1/cb]
`

// EditBatch makes several users' changes one version and one write, a
// rename keeps the sub (spelt out), and a batch with one bad entry
// changes nothing.
func TestEditBatch(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	if err := os.WriteFile(file, []byte(batchConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	journaled := 0
	j := policy.Journal(func(*policy.Change) error { journaled++; return nil })
	ch, err := s.EditBatch("*", func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		a, b := *cur.User("alice"), *cur.User("bob")
		a.Groups, b.Groups = []string{"eng"}, []string{"eng"}
		b.Username = "robert"
		return policy.Batch{Users: []policy.UserEdit{{Username: "alice", User: a}, {Username: "bob", User: b}}},
			&policy.Change{Kind: "group members", Op: "replace", Name: "eng"}, nil
	}, nil, j)
	if err != nil || journaled != 1 {
		t.Fatalf("EditBatch: %v, %d journal records", err, journaled)
	}
	cfg := ch.Config
	if !cfg.User("alice").InGroup("eng") || cfg.User("robert") == nil || cfg.User("robert").Sub != "u-bob" || cfg.User("bob") != nil {
		t.Errorf("after the batch: %+v", cfg.Users)
	}
	data, _ := os.ReadFile(file)
	if !strings.Contains(string(data), "sub: u-bob") || !strings.Contains(string(data), "# keep this comment") || strings.Contains(string(data), "sub: u-alice") {
		t.Errorf("the file:\n%s", data)
	}
	before := string(data)
	_, err = s.EditBatch("*", func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		a := *cur.User("alice")
		a.Disabled = true
		return policy.Batch{Users: []policy.UserEdit{{Username: "alice", User: a}, {Username: "nobody", Delete: true}}},
			&policy.Change{Kind: "user", Op: "replace", Name: "alice"}, nil
	}, nil, j)
	var nf *policy.NotFoundError
	if !errors.As(err, &nf) || nf.Name != "nobody" {
		t.Errorf("a batch naming no user: %v", err)
	}
	if data, _ := os.ReadFile(file); string(data) != before || s.Config().User("alice").Disabled || journaled != 1 {
		t.Error("a refused batch changed something")
	}
	_, err = s.EditBatch("*", func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		return policy.Batch{Users: []policy.UserEdit{{Username: "alice", User: *cur.User("alice")}, {Username: "alice", Delete: true}}},
			&policy.Change{Kind: "user", Op: "replace", Name: "alice"}, nil
	}, nil, j)
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a batch changing a user twice: %v", err)
	}
}

// A batch's server edits replace servers in their places, in the same
// version as its users' and groups' edits; one naming no server is a
// NotFoundError and changes nothing.
func TestEditBatch_Servers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	src := batchConfig + `mcp_servers:
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [read]
    clients: {c: c}
    access:
      - groups: [eng]   # engineers
        scopes: [read]
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.EditBatch("*", func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		srv := *cur.Server("files")
		return policy.Batch{Servers: []policy.ServerEdit{{ID: "nope", Server: srv}}}, &policy.Change{Kind: "server", Op: "replace", Name: "nope"}, nil
	}, nil)
	var nf *policy.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("a server edit of no server: %v", err)
	}
	if data, _ := os.ReadFile(file); string(data) != src {
		t.Errorf("the refused batch changed the file:\n%s", data)
	}
	ch, err := s.EditBatch("*", func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		g := *cur.Group("eng")
		g.Name = "engineering"
		srv := *cur.Server("files")
		srv.Access = []policy.Access{{Groups: []string{"engineering"}, Scopes: []string{"read"}}}
		return policy.Batch{Groups: []policy.GroupEdit{{Name: "eng", Group: g}}, Servers: []policy.ServerEdit{{ID: "files", Server: srv}}},
			&policy.Change{Kind: "group", Op: "replace", Name: "engineering"}, nil
	}, nil)
	if err != nil {
		t.Fatalf("a rename of a group with its access entry: %v", err)
	}
	if ch.Config.Group("engineering") == nil || ch.Config.Server("files").Access[0].Groups[0] != "engineering" {
		t.Errorf("after the batch: %+v %+v", ch.Config.Groups, ch.Config.Server("files").Access)
	}
}
