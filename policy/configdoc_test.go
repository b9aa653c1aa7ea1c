package policy_test

import (
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
	"github.com/xaa-idp/xaa-idp/policy"
)

// schemaKeys lists the keys the decoder takes, as paths
// ("mcp_servers[].access[].max_auth_age"), walking the yaml tags of the
// configuration's types as the decoder does (yamlpatch.Fields). tenants is
// a leaf: a tenant's keys are the file's.
func schemaKeys(t reflect.Type, prefix string, keys map[string]bool) {
	for _, name := range yamlpatch.Fields(t).Names {
		path := prefix + name
		keys[path] = true
		ft := t.Field(yamlpatch.Fields(t).Index[name]).Type
		list := ""
		for ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer {
			if ft.Kind() == reflect.Slice {
				list = "[]"
			}
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[policy.Config]() {
			schemaKeys(ft, path+list+".", keys)
		}
	}
}

// docSections maps a heading of docs/configuration.md to the path of the
// keys its "| key |" tables list; headings not named here hold none.
var docSections = map[string]string{
	"Top level":     "",
	"signing":       "signing.",
	"lifetimes":     "lifetimes.",
	"exchange":      "exchange.",
	"security":      "security.",
	"scim":          "scim.",
	"cimd":          "cimd.",
	"groups[]":      "groups[].",
	"users[]":       "users[].",
	"clients[]":     "clients[].",
	"mcp_servers[]": "mcp_servers[].",
	"access[]":      "mcp_servers[].access[].",
	"deny[]":        "mcp_servers[].deny[].",
	"faults[]":      "faults[].",
	"Tenants":       "",
}

// documentedKeys reads the keys that the "| key |" tables of
// docs/configuration.md list, as paths, with the line of each.
func documentedKeys(t *testing.T) map[string]int {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile("^#+ `?([^`:]+)`?")
	code := regexp.MustCompile("`([^`]+)`")
	keys := map[string]int{}
	prefix, inSection, keyTable, inTable := "", false, false, false
	for i, line := range strings.Split(string(doc), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			prefix, inSection = docSections[strings.TrimSpace(m[1])]
			continue
		}
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cell := strings.Split(line, "|")[1]
		if !inTable { // the header row
			inTable, keyTable = true, strings.TrimSpace(cell) == "key"
			continue
		}
		if !inSection || !keyTable {
			continue
		}
		for _, m := range code.FindAllStringSubmatch(cell, -1) {
			keys[prefix+m[1]] = i + 1
		}
	}
	return keys
}

// TestConfigurationDoc_ListsEveryKey: docs/configuration.md promises to
// list every key the code accepts. Every key of the configuration's types
// has a row in the table of its section (a key of the top level that only
// a tenant may use, such as id or id_jag's, under Tenants as
// tenants[].KEY), and every row names a key the code accepts, so that a
// key added, renamed or removed in the code cannot leave the reference
// behind.
func TestConfigurationDoc_ListsEveryKey(t *testing.T) {
	inCode := map[string]bool{}
	schemaKeys(reflect.TypeFor[policy.Config](), "", inCode)
	inDoc := documentedKeys(t)
	if len(inDoc) < 50 {
		t.Fatalf("found %d keys in docs/configuration.md's tables; the test no longer reads them", len(inDoc))
	}
	var missing []string
	for key := range inCode {
		if _, ok := inDoc[key]; ok {
			continue
		}
		if _, ok := inDoc["tenants[]."+key]; ok {
			continue
		}
		// A mapping or list of mappings is documented by its keys
		// (faults[].match by match.client, ...).
		if slices.ContainsFunc(slices.Collect(maps.Keys(inDoc)), func(d string) bool {
			return strings.HasPrefix(strings.TrimPrefix(d, "tenants[]."), key+".") || strings.HasPrefix(strings.TrimPrefix(d, "tenants[]."), key+"[].")
		}) {
			continue
		}
		missing = append(missing, key)
	}
	slices.Sort(missing)
	for _, key := range missing {
		t.Errorf("the configuration key %s has no row in docs/configuration.md", key)
	}
	for key, line := range inDoc {
		if !inCode[key] && !inCode[strings.TrimPrefix(key, "tenants[].")] {
			t.Errorf("docs/configuration.md:%d lists the key %s, which the configuration does not have", line, key)
		}
	}
}
