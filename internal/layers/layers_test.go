// Package layers holds the test that keeps the product's layering honest:
// data flows one way (HTTP → idp or web → policy decides → idp signs →
// audit records), and the resource side knows the IdP only through its
// metadata and JWKS, as any MCP authorization server would.
package layers

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/xaa-idp/xaa-idp/"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := make(map[string]pkg)
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	return pkgs
}

// under reports whether the package path is dir or inside it.
func under(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

func TestLayering(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; is the test run from the module?", len(pkgs))
	}
	idpSide := []string{"idp", "policy", "audit", "admin", "web", "app", "demo", "fixtures", "idptest", "push"}
	rules := []struct {
		name   string
		direct bool // only the package's own imports, not what they import
		from   func(string) bool
		banned func(dep string) bool
	}{
		{
			"the resource side knows the IdP only through metadata and JWKS",
			false,
			func(p string) bool { return under(p, "resource") },
			func(d string) bool {
				for _, s := range idpSide {
					if under(strings.TrimPrefix(d, module), s) && strings.HasPrefix(d, module) {
						return true
					}
				}
				return false
			},
		},
		{
			"policy and audit know nothing of HTTP",
			false,
			func(p string) bool { return under(p, "policy") && p != "policy/policytest" || under(p, "audit") },
			func(d string) bool { return d == "net/http" },
		},
		{
			"idp is used by the console and admin API, never the other way",
			false,
			func(p string) bool { return under(p, "idp") },
			func(d string) bool {
				return under(d, module+"admin") || under(d, module+"web") || under(d, module+"app")
			},
		},
		{
			"zitadel's op package is imported only inside idp",
			true,
			func(p string) bool { return !under(p, "idp") },
			func(d string) bool { return d == "github.com/zitadel/oidc/v3/pkg/op" },
		},
	}
	for _, r := range rules {
		for path, p := range pkgs {
			if !r.from(path) {
				continue
			}
			deps := p.Deps
			if r.direct {
				deps = p.Imports
			}
			for _, d := range deps {
				if r.banned(d) {
					t.Errorf("%s: %s depends on %s", r.name, path, d)
				}
			}
		}
	}
}

// TestREADME_LayoutNamesEveryPackage: the README's "## Layout" block,
// where a newcomer looks for the package that does something, has an
// entry for every package of the module (a nested one under its parent's,
// indented, or named in its parent's entry), and no entry for a directory
// that does not exist.
func TestREADME_LayoutNamesEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal(`README.md has no "## Layout" section`)
	}
	_, block, _ = strings.Cut(block, "\n```\n")
	block, _, _ = strings.Cut(block, "\n```")
	entries := map[string]string{} // directory -> its entry's text
	top, last := "", ""
	for _, line := range strings.Split(block, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch {
		case strings.HasPrefix(line, "    "): // the entry's text goes on
			entries[last] += " " + strings.TrimSpace(line)
			continue
		case strings.HasPrefix(line, "  "):
			last = top + "/" + strings.TrimSuffix(name, "/")
		default:
			last = strings.TrimSuffix(name, "/")
			top = last
		}
		entries[last] = line
	}
	pkgs := listPackages(t)
	for path := range pkgs {
		if _, ok := entries[path]; ok {
			continue
		}
		parent, base := path[:max(strings.LastIndex(path, "/"), 0)], path[strings.LastIndex(path, "/")+1:]
		if strings.Contains(entries[parent], " "+base+"/") {
			continue
		}
		t.Errorf("README's Layout has no entry for the package %s", path)
	}
	for dir := range entries {
		if _, err := os.Stat("../../" + dir); err != nil {
			t.Errorf("README's Layout names %s/, which does not exist", dir)
		}
	}
}
