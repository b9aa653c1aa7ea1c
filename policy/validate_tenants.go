package policy

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
	"github.com/xaa-idp/xaa-idp/internal/yamlpatch"
)

// tenants checks a file with tenants: the top level holds nothing but
// the list, and each tenant is checked like a file of its own, plus its
// id and path (docs/configuration.md, "Tenants").
func (v *validator) tenants() {
	for _, key := range yamlpatch.Fields(reflect.TypeFor[Config]()).Names {
		switch {
		case key == "tenants" || !v.given(key):
		case key == "issuer":
			v.atKey(key, "with tenants:, each tenant's issuer is the base URL (--issuer) followed by the tenant's path; remove it and set the base URL with --issuer")
		default:
			v.atKey(key, "with tenants:, each tenant holds its own %s; move it into the tenants that need it", key)
		}
	}
	if len(v.cfg.Tenants) == 0 && !v.failedNear("tenants") {
		v.at("tenants", "an empty list; give at least one tenant, or remove tenants: for a single IdP")
	}
	ids := map[string]int{}
	paths := map[string]tenantKey{} // path -> the tenant path key that has it
	keys := map[string]tenantKey{}  // key thumbprint -> the first key_files entry that holds it
	for i, t := range v.cfg.Tenants {
		if t == nil {
			// Not a mapping, which the decoder reported, or an empty
			// entry ("-" alone, null), which keeps the nil it was.
			v.at(fmt.Sprintf("tenants[%d]", i), "an empty tenant; give its id and its configuration, or remove the entry")
			continue
		}
		tv := &validator{decoder: v.decoder, cfg: t, prefix: fmt.Sprintf("tenants[%d].", i)}
		tv.tenant(ids, paths, i)
		tv.validate()
		tv.ownKeys(keys, i)
	}
	v.sharedServers()
}

// ownKeys checks that no key file of the tenant at index i holds a key of
// an earlier tenant's key files (keys: by thumbprint, the first entry
// holding each), whatever its path or form: each issuer signs with keys
// of its own (README, "Several issuers"), and two tenants sharing one
// would publish one kid, so that a resource server that picks the key by
// kid would take one tenant's tokens for the other's.
func (v *validator) ownKeys(keys map[string]tenantKey, i int) {
	thumbprint := v.files.KeyThumbprint
	if thumbprint == nil {
		return
	}
	for j, f := range v.cfg.Signing.KeyFiles {
		tp := thumbprint(f)
		if tp == "" {
			continue // refused by the KeyFile check, or no key at all
		}
		first, seen := keys[tp]
		switch {
		case !seen:
			keys[tp] = tenantKey{i, fmt.Sprintf("tenants[%d].signing.key_files[%d]", i, j)}
		case first.tenant != i:
			path := fmt.Sprintf("signing.key_files[%d]", j)
			v.between(i, path, fmt.Sprintf("%s holds the same key as %s (line %d), another tenant's: each tenant signs with keys of its own, or a resource server that trusts one would take the other's tokens; give this tenant a key file of its own (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)", f, first.path, lineOf(v.decoder.node(first.path))),
				first.tenant, first.path, fmt.Sprintf("this key file's key %s: give this tenant a key file of its own", OtherTenant))
		}
	}
}

// tenant checks the id and path of the tenant at index i; ids and paths
// collect those of the tenants before it.
func (v *validator) tenant(ids map[string]int, paths map[string]tenantKey, i int) {
	t := v.cfg
	if v.required("id", t.ID, "the tenant's id, such as acme") {
		if !tenantIDPattern.MatchString(t.ID) {
			v.at("id", "%q is not a valid tenant id; use 1 to 63 lowercase letters, digits and '-', starting with a letter or digit", t.ID)
		} else if first, dup := ids[t.ID]; dup {
			firstPath := fmt.Sprintf("tenants[%d].id", first)
			v.between(i, "id", fmt.Sprintf("duplicate tenant id %q (first at line %d); each must be unique", t.ID, v.decoder.node(firstPath).Line),
				first, firstPath, fmt.Sprintf("tenant id %q %s: each must be unique", t.ID, OtherTenant))
			return
		} else {
			ids[t.ID] = i
		}
	}
	for _, key := range []string{"issuer", "tenants"} {
		if v.given(key) {
			hint := map[string]string{
				"issuer":  "a tenant's issuer is the base URL followed by its path; set path: instead",
				"tenants": "tenants do not nest; list every tenant at the top level",
			}[key]
			v.atKey(key, "not allowed in a tenant: %s", hint)
		}
	}
	path := t.Path
	if !v.given("path") {
		if !tenantIDPattern.MatchString(t.ID) {
			return
		}
		path = DefaultTenantPath(t.ID)
	} else if msg := badTenantPath(path); msg != "" {
		v.at("path", "%q %s", path, msg)
		return
	}
	if first, dup := paths[path]; dup {
		v.between(i, pathKey(v, "path"), fmt.Sprintf("path %q is already the issuer path of %s (line %d); give each tenant its own", path, first.path, v.decoder.node(first.path).Line),
			first.tenant, first.path, fmt.Sprintf("path %q %s: give each tenant its own", path, OtherTenant))
		return
	}
	// Routes are matched by the longest path: a tenant inside another's
	// path would answer part of the other's URLs (/t/acme/oauth would take
	// /t/acme/oauth/token).
	for _, other := range slices.Sorted(maps.Keys(paths)) {
		if strings.HasPrefix(path, other+"/") || strings.HasPrefix(other, path+"/") {
			first := paths[other]
			v.between(i, pathKey(v, "path"), fmt.Sprintf("path %q nests with %q, the issuer path of %s (line %d): the inner tenant would answer part of the outer one's URLs; give paths where neither is inside the other", path, other, first.path, v.decoder.node(first.path).Line),
				first.tenant, first.path, fmt.Sprintf("path %q %s: one tenant's path inside another's would answer part of its URLs; give another path", path, OtherTenant))
			return
		}
	}
	paths[path] = tenantKey{tenant: i, path: v.prefix + pathKey(v, "path")}
}

// tenantKey is a key of the tenant at index tenant, by its path in the
// file (tenants[1].path).
type tenantKey struct {
	tenant int
	path   string
}

// between reports a problem between the tenant being checked, at its key
// path, and the tenant at index other, at otherPath (the full path of its
// key): msg, naming both, is the file's; scoped, naming neither key, is
// what each tenant's admin is told after its own key's path
// (Problem.between).
func (v *validator) between(self int, path, msg string, other int, otherPath, scoped string) {
	if v.failedNear(path) {
		return
	}
	v.addBetween(v.node(path), v.prefix+path+": "+msg, [2]tenantSide{
		{tenant: self, line: lineOf(v.node(path)), msg: v.prefix + path + ": " + scoped},
		{tenant: other, line: lineOf(v.decoder.node(otherPath)), msg: otherPath + ": " + scoped},
	})
}

// lineOf is the line of n, 0 for none.
func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// pathKey is the key whose line names the tenant's path: path when given,
// else id (the default path comes from it).
func pathKey(v *validator, key string) string {
	if v.given(key) {
		return key
	}
	return "id"
}

// badTenantPath says what is wrong with a tenant's path, or "".
func badTenantPath(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "does not start with /; write it as /t/acme"
	case p == "/":
		return "is the root, which lists the tenants; give a path such as /t/acme"
	case strings.HasSuffix(p, "/"):
		return "ends with /; remove the trailing slash (the issuer must not end with one)"
	case strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/.."):
		return "is not a clean URL path; use letters, digits, '-', '.', '_', '~' and single slashes"
	}
	if i := strings.IndexFunc(p, func(r rune) bool { return r != '/' && !unreserved(r) }); i >= 0 {
		return fmt.Sprintf("has %q, which a tenant path cannot hold; use letters, digits, '-', '.', '_', '~' and single slashes", []rune(p[i:])[0])
	}
	for _, r := range reservedPaths {
		if p == r || strings.HasPrefix(p, r+"/") {
			return fmt.Sprintf("is under %s, one of the root's own routes (%s); choose another path", r, strings.Join(reservedPaths, ", "))
		}
	}
	return ""
}

// unreserved reports whether r is one of RFC 3986 section 2.3's
// unreserved characters, the only ones a tenant path may hold besides
// "/". The path is the issuer's and the SSO and console cookies' Path,
// and the root's mux pattern: "{" is a wildcard there (a start that
// panics, or a tenant answering every path), ";" ends a cookie's Path (so
// the login never completes), a character outside ASCII makes an issuer
// that is no URL and that clients percent-encode in lower case, which
// http.StripPrefix does not match, and the rest are not allowed in a URL
// or need quoting in the shell commands the banner and / print.
func unreserved(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)
}

// tenantOnly reports the keys that only a tenant may have, given at the
// top level of a file without tenants.
func (v *validator) tenantOnly() {
	if v.prefix != "" {
		return
	}
	for _, key := range []string{"id", "path"} {
		if v.given(key) {
			v.at(key, "only a tenant has %s:; list the IdP under tenants: to give it one, or remove the key", key)
		}
	}
}

// sharedServers checks the client_ids at each MCP server (by issuer),
// whether one tenant maps them or several list the server: a client_id
// at a server must belong to clients with one secret, so that the demo's
// authorization server (`xaa-idp demo`) can register it with one secret.
// A metadata document client has none there. Without this check the demo
// registered whichever mapping came last in map order, which could leave
// a confidential client's client_id public.
func (v *validator) sharedServers() {
	type owner struct {
		secret string
		path   string
		tenant int
	}
	seen := map[string]owner{} // server issuer + "\x00" + client_id there -> first mapping
	for i, t := range v.cfg.IdPs() {
		if t == nil {
			continue
		}
		prefix := v.cfg.keyPrefix(i)
		serverClientIDs(t, func(j int, s *MCPServer, id, secret, key string) {
			path := fmt.Sprintf("%smcp_servers[%d].clients.%s", prefix, j, id)
			first, dup := seen[key]
			switch {
			case !dup:
				seen[key] = owner{secret: secret, path: path, tenant: i}
			case first.secret != secret:
				msg := fmt.Sprintf("maps to client_id %q at %s, which %s (line %d) maps too with another client_secret; one client_id at one server has one set of credentials, so give both the same secret or map them to different client_ids", s.Clients[id], s.Issuer, first.path, v.decoder.node(first.path).Line)
				if first.tenant == i || prefix == "" {
					v.at(path, "%s", msg)
					return
				}
				// Each tenant's admin is told its own key alone.
				side := func(tenant int, path string) tenantSide {
					return tenantSide{tenant: tenant, line: lineOf(v.decoder.node(path)), msg: otherTenantsClientID(path, s.Clients[id], s.Issuer)}
				}
				if !v.failedNear(path) {
					v.addBetween(v.node(path), path+": "+msg, [2]tenantSide{side(i, path), side(first.tenant, first.path)})
				}
			}
		})
	}
}

// serverClientIDs calls f with each client of t that an MCP server of t
// maps to a client_id there, as sharedServers checks them: j is the
// server's index, id the client's at the IdP, secret its client_secret
// ("" for a metadata document client), key the server's issuer and the
// client_id there. A client t does not know, and a server without an
// issuer, are reported where they are written.
func serverClientIDs(t *Config, f func(j int, s *MCPServer, id, secret, key string)) {
	for j := range t.MCPServers {
		s := &t.MCPServers[j]
		if s.Issuer == "" {
			continue
		}
		for _, id := range sortedKeys(s.Clients) {
			secret := ""
			if c := t.Client(id); c != nil {
				secret = c.ClientSecret
			} else if !urlpattern.IsURL(id) {
				continue
			}
			f(j, s, id, secret, strings.TrimSuffix(s.Issuer, "/")+"\x00"+s.Clients[id])
		}
	}
}

// otherTenantsClientID is what a tenant's admin is told of its key at
// path, a client mapped to client_id at at the server issuer, which
// another tenant maps there too.
func otherTenantsClientID(path, at, issuer string) string {
	return fmt.Sprintf("%s: maps to client_id %q at %s, which %s: one client_id at one server has one set of credentials, so map it to another client_id", path, at, issuer, OtherTenant)
}

// tenantIDs notes in each problem at a tenant's key (tenants[1].users...)
// the id of that tenant, and in each side of a problem between two
// tenants each one's id, as the file gives them: Problems.forTenant tells
// a tenant's admin its own by id, wherever the file lists the tenant.
func (d *decoder) tenantIDs() {
	idOf := func(i int) string {
		if n := resolve(d.nodes[fmt.Sprintf("tenants[%d].id", i)]); n != nil && n.Kind == yaml.ScalarNode {
			return n.Value
		}
		return ""
	}
	for k := range d.problems {
		p := &d.problems[k]
		if p.between != nil {
			for j := range p.between {
				p.between[j].id = idOf(p.between[j].tenant)
			}
			continue
		}
		var i int
		if rest, ok := strings.CutPrefix(p.Msg, "tenants["); ok {
			if n, err := fmt.Sscanf(rest, "%d].", &i); n == 1 && err == nil {
				p.tenant = idOf(i)
			}
		}
	}
}
