package policy_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestParse_StringsAreBounded: a string of the configuration outside
// claims is refused at its line past its bound, saying the bound, and
// passes at it: only the 16 MiB bound of the file held a username, a
// secret or a URL, so that a value pasted where another belongs (a
// certificate as a client_secret) was taken, and a username or password
// longer than the login form takes (256 and 1024 bytes) could never sign
// in. Each line of a case is the file; {} marks the value that is made
// too long.
func TestParse_StringsAreBounded(t *testing.T) {
	base := "issuer: http://127.0.0.1:8080\n" +
		"groups:\n  - {name: eng, description: D}\n" +
		"users:\n  - {username: a, password: pw, sub: s, email: a@example.com, name: A, groups: [eng]}\n" +
		"clients:\n  - {client_id: c, name: C, client_secret: x, redirect_uris: ['http://127.0.0.1/cb']}\n" +
		"mcp_servers:\n  - id: s1\n    name: S\n    issuer: https://as.example.com\n    aliases: [aud1]\n" +
		"    resources: ['https://mcp.example.com/mcp']\n    scopes: [read]\n    clients: {c: c-at-s1}\n" +
		"    events_endpoint: https://as.example.com/events\n    aud_tenant: t1\n" +
		"    access:\n      - {users: [a], groups: [eng], scopes: [read], clients: [c]}\n" +
		"    deny:\n      - {users: [a], clients: [c]}\n" +
		"signing: {id_token_alg: ES256, key_files: [k.pem]}\n" +
		"faults:\n  - {id: f1, match: {user: a, client: c}, error: {code: invalid_grant, description: D}}\n"
	if _, err := policy.Parse([]byte(base), "x.yaml"); err != nil {
		t.Fatalf("the base configuration: %v", err)
	}
	for _, c := range []struct {
		old, new string // new holds {} for the long value
		limit    int
		line     int
		path     string
	}{
		{"issuer: http://127.0.0.1:8080", "issuer: http://127.0.0.1:8080/{}", 2048, 1, "issuer"},
		{"name: eng,", "name: {},", 256, 3, "groups[0].name"},
		{"description: D}\nusers", "description: {}}\nusers", 64 << 10, 3, "groups[0].description"},
		{"username: a,", "username: {},", 256, 5, "users[0].username"},
		{"password: pw,", "password: {},", 1024, 5, "users[0].password"},
		{"sub: s,", "sub: {},", 255, 5, "users[0].sub"},
		{"email: a@example.com", "email: {}@example.com", 254, 5, "users[0].email"},
		{"name: A,", "name: {},", 256, 5, "users[0].name"},
		{"groups: [eng]}\nclients", "groups: [eng, {}]}\nclients", 256, 5, "users[0].groups[1]"},
		{"client_id: c,", "client_id: {},", 2048, 7, "clients[0].client_id"},
		{"name: C,", "name: {},", 256, 7, "clients[0].name"},
		{"client_secret: x,", "client_secret: {},", 1024, 7, "clients[0].client_secret"},
		{"'http://127.0.0.1/cb'", "'http://127.0.0.1/{}'", 2048, 7, "clients[0].redirect_uris[0]"},
		{"id: s1", "id: {}", 256, 9, "mcp_servers[0].id"},
		{"name: S", "name: {}", 256, 10, "mcp_servers[0].name"},
		{"issuer: https://as.example.com\n", "issuer: https://as.example.com/{}\n", 2048, 11, "mcp_servers[0].issuer"},
		{"aliases: [aud1]", "aliases: [{}]", 2048, 12, "mcp_servers[0].aliases[0]"},
		{"'https://mcp.example.com/mcp'", "'https://mcp.example.com/{}'", 2048, 13, "mcp_servers[0].resources[0]"},
		{"scopes: [read]\n    clients", "scopes: [read, {}]\n    clients", 1024, 14, "mcp_servers[0].scopes[1]"},
		{"clients: {c: c-at-s1}", "clients: {c: {}}", 2048, 15, "mcp_servers[0].clients.c"},
		{"https://as.example.com/events", "https://as.example.com/{}", 2048, 16, "mcp_servers[0].events_endpoint"},
		{"aud_tenant: t1", "aud_tenant: {}", 256, 17, "mcp_servers[0].aud_tenant"},
		{"scopes: [read], clients: [c]}", "scopes: [read, {}], clients: [c]}", 1024, 19, "mcp_servers[0].access[0].scopes[1]"},
		{"{users: [a], clients: [c]}", "{users: [a, {}], clients: [c]}", 256, 21, "mcp_servers[0].deny[0].users[1]"},
		{"key_files: [k.pem]", "key_files: [{}]", 4096, 22, "signing.key_files[0]"},
		{"id_token_alg: ES256", "id_token_alg: {}", 256, 22, "signing.id_token_alg"},
		{"id: f1", "id: {}", 256, 24, "faults[0].id"},
		{"description: D}}", "description: {}}}", 1024, 24, "faults[0].error.description"},
	} {
		if !strings.Contains(base, c.old) {
			t.Fatalf("%s: %q is not in the base", c.path, c.old)
		}
		for _, over := range []bool{false, true} {
			// The value is the text between the key and the end of the
			// scalar; make it exactly limit bytes long, or one more.
			value := valueOf(c.new)
			n := c.limit - (len(value) - 2)
			if over {
				n++
			}
			src := strings.Replace(base, c.old, strings.Replace(c.new, "{}", strings.Repeat("v", n), 1), 1)
			_, err := policy.Parse([]byte(src), "x.yaml")
			want := "x.yaml:" + strconv.Itoa(c.line) + ": " + c.path + ": " + strconv.Itoa(c.limit+1) + " bytes; "
			switch {
			case over && (err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "at most "+strconv.Itoa(c.limit)+" bytes")):
				t.Errorf("%s over its bound: got %v, want %s... at most %d bytes", c.path, err, want, c.limit)
			case !over && err != nil && strings.Contains(err.Error(), " bytes; "):
				t.Errorf("%s at its bound: %v", c.path, err)
			}
		}
	}
}

// valueOf returns the scalar of new that holds {}: from after the key's
// ": " or the list's "[" / ", " to the next ",", "]", "}" or line end.
func valueOf(s string) string {
	i := strings.Index(s, "{}")
	start := strings.LastIndexAny(s[:i], " [")
	end := i + 2 + strings.IndexAny(s[i+2:]+"\n", ",]}\n")
	v := strings.Trim(s[start+1:end], "'")
	return v
}

// TestParse_DefaultSubIsBounded: a user without sub gets "u-" and the
// username; OpenID Connect Core section 2 allows a sub of at most 255
// ASCII characters, so a username of 254 bytes or more without a sub of
// its own is refused at the username.
func TestParse_DefaultSubIsBounded(t *testing.T) {
	for _, n := range []int{253, 254} {
		src := "users:\n  - password: pw\n    username: " + strings.Repeat("v", n) + "\n"
		_, err := policy.Parse([]byte(src), "x.yaml")
		want := "x.yaml:3: users[0].username: the default sub (u- and the username) would be 256 bytes; a sub may have at most 255 (OpenID Connect Core section 2); set a shorter sub"
		if n == 253 && err != nil {
			t.Errorf("a username of 253 bytes: %v", err)
		}
		if n == 254 && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("a username of 254 bytes: got %v, want %s", err, want)
		}
	}
}

// TestConfig_EveryStringHasABound: each string value of the configuration
// (a string, a list of strings, a mapping of strings) says its bound in a
// max tag, so that a field added later cannot go without one.
func TestConfig_EveryStringHasABound(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice && typ.Elem().Kind() != reflect.String {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if tag := f.Tag.Get("yaml"); tag == "" || tag == "-" {
				continue
			}
			ft := f.Type
			stringy := ft.Kind() == reflect.String || ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String ||
				ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.String
			if stringy {
				if policy.FieldBound(f) <= 0 {
					t.Errorf("%s.%s has no max tag", typ.Name(), f.Name)
				}
			}
			walk(ft)
		}
	}
	walk(reflect.TypeFor[policy.Config]())
}

// TestParse_JWKSStringsAreBounded: a client's jwks is free-form, but a
// string in it of more than 64 KiB is no key: it is refused at the jwks.
func TestParse_JWKSStringsAreBounded(t *testing.T) {
	src := "clients:\n  - client_id: c\n    jwks: {keys: [{kty: RSA, e: AQAB, n: " + strings.Repeat("A", 64<<10+1) + "}]}\n"
	_, err := policy.Parse([]byte(src), "x.yaml")
	if want := "x.yaml:3: clients[0].jwks: a string of 65537 bytes; a JWK Set's strings may have at most 65536"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %.300v, want %s", err, want)
	}
}
