package policy

import (
	"errors"
	"fmt"
	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
	"github.com/xaa-idp/xaa-idp/internal/redact"
	"github.com/xaa-idp/xaa-idp/internal/urimatch"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// validator checks what the types cannot: required values, formats,
// uniqueness and that every name refers to something defined. It runs on a
// decoded Config before defaults are filled in, so that "omitted" and
// "given" can still be told apart.
type validator struct {
	*decoder
	cfg *Config
	// prefix is the path of the tenant being checked ("tenants[1]."),
	// "" at the top level.
	prefix string

	groups  map[string]int // group name -> index
	users   map[string]int // username -> index
	clients map[string]int // client_id -> index
}

// serverIDPattern keeps server ids usable in URL paths
// (/admin/api/servers/{id}) and in rule names ("chat access[1]").
var serverIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// reservedClaims are set by the IdP from the login and the user's fields;
// a "claims" entry must not override them.
var reservedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce",
	"azp", "at_hash", "c_hash", "sid", "acr", "amr", "email", "name",
}

// MaxClaimNameBytes bounds the name of a user's claim: names are short
// words (department, groups); a longer one is a mistake, such as a value
// written where the name goes.
const MaxClaimNameBytes = 256

// MaxClaimStringBytes bounds each string in a user's claim value. The
// claims go into every ID token and userinfo answer, which clients keep in
// cookies and headers that servers cap at 8 to 64 KiB: 64 KiB in one
// string is already more than an ID token should carry.
const MaxClaimStringBytes = 64 << 10

// claimBounds checks what JSON allows but a token should not carry: a claim
// without a name (a claim named "" reaches no client as meant), a name over
// MaxClaimNameBytes, a string over MaxClaimStringBytes.
func (v *validator) claimBounds(path string, claims map[string]any) {
	for _, name := range sortedKeys(claims) {
		p := path + "." + name
		switch {
		case name == "":
			if !v.failedNear(p) {
				v.add(v.node(p), v.prefix+path+`."": a claim has an empty name; give it one, or leave the entry out`)
			}
			continue
		case len(name) > MaxClaimNameBytes:
			if !v.failedNear(p) {
				// The path names the claim by its start: the whole name
				// would fill the message.
				v.add(v.node(p), fmt.Sprintf("%s%s.%.32s...: a claim name of %d bytes; a name may have at most %d", v.prefix, path, name, len(name), MaxClaimNameBytes))
			}
			continue
		}
		if n := longestString(claims[name]); n > MaxClaimStringBytes {
			v.at(p, "a string of %d bytes; a claim's strings may have at most %d (64 KiB), to keep ID tokens a sane size", n, MaxClaimStringBytes)
		}
	}
}

// longestString returns the length of the longest string in v, at any
// depth (v is decoded free-form data).
func longestString(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []any:
		m := 0
		for _, item := range x {
			m = max(m, longestString(item))
		}
		return m
	case map[string]any:
		m := 0
		for k, item := range x {
			m = max(m, len(k), longestString(item))
		}
		return m
	}
	return 0
}

func (v *validator) validate() {
	if v.prefix == "" && v.given("tenants") {
		v.tenants()
		return
	}
	v.tenantOnly()
	v.top()
	v.groupList()
	v.userList()
	v.clientList()
	v.cimdSection()
	v.serverList()
	v.faultList()
	v.scimSection()
	if v.prefix == "" {
		v.sharedServers() // a file with tenants checks them in tenants()
	}
}

// given reports whether the file sets path to a non-empty value.
func (v *validator) given(path string) bool {
	n, ok := v.nodes[v.prefix+path]
	return ok && !isNull(resolve(n))
}

// at records a problem about the value at path; the message is prefixed
// with the path. A value that could not be decoded, in whole or in part,
// already has its problem: another about the zero value left in its place
// ("missing", "names no users") would only repeat it.
func (v *validator) at(path, format string, args ...any) {
	if v.failedNear(path) {
		return
	}
	v.add(v.node(path), v.prefix+path+": "+fmt.Sprintf(format, args...))
}

// atKey is at for a problem with the key itself (a key not allowed
// where it is): it points at the key's line, not at its value's, which
// for a block mapping or list is the line below.
func (v *validator) atKey(path, format string, args ...any) {
	if v.failedNear(path) {
		return
	}
	n := v.decoder.keys[v.prefix+path]
	if n == nil {
		n = v.node(path)
	}
	v.add(n, v.prefix+path+": "+fmt.Sprintf(format, args...))
}

// node returns the node of path in the tenant being checked.
func (v *validator) node(path string) *yaml.Node { return v.decoder.node(v.prefix + path) }

// failedNear is the decoder's failedNear for path in the tenant being
// checked.
func (v *validator) failedNear(path string) bool { return v.decoder.failedNear(v.prefix + path) }

func (v *validator) top() {
	c := v.cfg
	if c.Issuer != "" {
		if problem := ownIssuerProblem(c.Issuer); problem != "" {
			v.at("issuer", "%s", problem)
		}
	}
	for _, a := range []struct{ path, alg string }{
		{"signing.id_token_alg", c.Signing.IDTokenAlg},
		{"signing.id_jag_alg", c.Signing.IDJAGAlg},
	} {
		switch a.alg {
		case "", AlgRS256, AlgES256, AlgEdDSA:
		default:
			v.at(a.path, "unknown algorithm %q; use RS256, ES256 or EdDSA", a.alg)
		}
	}
	for i, f := range c.Signing.KeyFiles {
		path := fmt.Sprintf("signing.key_files[%d]", i)
		if strings.TrimSpace(f) == "" {
			v.at(path, "empty file name; give the path of a PEM private key")
		} else if check := v.files.KeyFile; check != nil {
			if err := check(f); err != nil {
				v.at(path, "%v", err)
			}
		}
	}
	l := c.Lifetimes
	for _, lt := range []struct {
		path string
		d    Duration
	}{
		{"lifetimes.id_token", l.IDToken}, {"lifetimes.access_token", l.AccessToken},
		{"lifetimes.refresh_token", l.RefreshToken}, {"lifetimes.id_jag", l.IDJAG},
	} {
		// Zero is how an omitted lifetime reads; a written 0s is a mistake
		// that would otherwise turn silently into the default.
		switch {
		case lt.d == 0 && v.given(lt.path):
			v.at(lt.path, "a lifetime of 0 would make every token expire at once; use a duration such as 5m")
		case lt.d > 0 && lt.d < Duration(time.Second):
			v.at(lt.path, "%s is shorter than 1s: a token's exp counts whole seconds, so it would expire when issued", lt.d)
		case lt.d > MaxLifetime:
			// Longer is no use, and near the longest duration Go holds the
			// key overlap (the lifetime plus 30 s) overflowed into the past:
			// a rotation took the old keys out of JWKS at once.
			v.at(lt.path, "%s is longer than %s (ten years)", lt.d, MaxLifetime)
		}
	}
	if _, ok := presets[c.Persona]; !ok && c.Persona != "" {
		v.at("persona", "unknown persona %q; use generic, okta, claude or conductorone (docs/personas.md)", c.Persona)
	}
	switch c.IDJAG.Aud {
	case "", AudString, AudArray:
	default:
		v.at("id_jag.aud", "unknown aud form %q; use string or array", c.IDJAG.Aud)
	}
	switch c.Exchange.SubjectTokenError {
	case "", ErrInvalidRequest, ErrInvalidGrant:
	default:
		v.at("exchange.subject_token_error", "unknown error code %q; use invalid_request (RFC 8693) or invalid_grant", c.Exchange.SubjectTokenError)
	}
	switch c.Exchange.DeniedError {
	case "", ErrAccessDenied, ErrInvalidRequest:
	default:
		v.at("exchange.denied_error", "unknown error code %q; use access_denied or invalid_request", c.Exchange.DeniedError)
	}
	// Zero is how an omitted value reads; a written 0 would refuse every
	// login.
	if n := c.Security.MaxPendingLogins; (n == 0 && v.given("security.max_pending_logins")) || n < 0 || n > MaxPendingLoginsLimit {
		v.at("security.max_pending_logins", "%d is out of range; use a number of pending logins from 1 to %d (default %d)", n, MaxPendingLoginsLimit, DefaultMaxPendingLogins)
	}
}

func (v *validator) groupList() {
	v.groups = map[string]int{}
	ids := map[string]int{}
	externalIDs := map[string]int{}
	for i, g := range v.cfg.Groups {
		path := fmt.Sprintf("groups[%d]", i)
		if v.required(path+".name", g.Name, "a group name") {
			v.unique(v.groups, i, path+".name", "groups[%d].name", "group", g.Name)
			v.identityText(path+".name", g.Name, false)
		}
		if g.ID != "" && !v.identityText(path+".id", g.ID, false) { // a former name, checked as one
			continue
		}
		if id := g.SCIMID(); id != "" {
			if first, dup := ids[id]; dup && (g.ID != "" || v.cfg.Groups[first].ID != "") { // two names alike are reported as such
				v.at(path, "the SCIM id %q (a group's id, else its name) is already that of groups[%d] (line %d: a group SCIM renamed keeps the id it had); give one of them another id (id: ...)", id, first, v.line(fmt.Sprintf("groups[%d]", first)))
			} else {
				ids[id] = i
			}
		}
		if g.ExternalID != "" {
			if UnfitExternalID(g.ExternalID) {
				v.at(path+".external_id", "%q is blank or holds a control character; give the provisioning client's id of the group, or remove the key", g.ExternalID)
			} else {
				v.unique(externalIDs, i, path+".external_id", "groups[%d].external_id", "external_id", g.ExternalID)
			}
		}
	}
}

func (v *validator) userList() {
	v.users = map[string]int{}
	subs := map[string]string{} // sub -> path of the user that has it
	externalIDs := map[string]int{}
	for i := range v.cfg.Users {
		u := &v.cfg.Users[i]
		path := fmt.Sprintf("users[%d]", i)
		if v.required(path+".username", u.Username, "a login name") {
			v.unique(v.users, i, path+".username", "users[%d].username", "username", u.Username)
			v.identityText(path+".username", u.Username, true)
		}
		switch {
		case u.Password != "" && u.PasswordBcrypt != "":
			v.at(path, "both password and password_bcrypt are set; keep one")
		case u.Password == "" && u.PasswordBcrypt == "":
			v.at(path, "no password; set password (demo only) or password_bcrypt")
		case u.PasswordBcrypt != "":
			if cost, err := bcrypt.Cost([]byte(u.PasswordBcrypt)); err != nil {
				// Not quoted: what is pasted here by mistake is often the
				// password itself, and problems reach the audit and the log.
				v.at(path+".password_bcrypt", "not a bcrypt hash ($2a$, $2b$ or $2y$, cost, salt and hash; the value is not shown); make one with: htpasswd -bnBC 10 \"\" PASSWORD | tr -d ':\\n'")
			} else if cost > MaxBcryptCost {
				v.at(path+".password_bcrypt", "cost %d is above %d: every failed login, of any username, would run a bcrypt check of this cost (each one more doubles its time; 14 takes about a second); make one of cost 10 to 12 with: htpasswd -bnBC 10 \"\" PASSWORD | tr -d ':\\n'", cost, MaxBcryptCost)
			}
		}
		// A username written twice is reported once: its default sub
		// taken too is the same mistake.
		if first, ok := v.users[u.Username]; !ok || first == i || u.Sub != "" {
			v.uniqueSub(subs, path, u)
		}
		// The identifier every relying party keys the user by, and
		// prints: held to a username's rules (a default sub is its
		// username's).
		if strings.TrimSpace(u.Sub) != u.Sub {
			v.at(path+".sub", "%q begins or ends with a space, which a relying party that trims it takes for another user's sub; remove it", u.Sub)
		} else if u.Sub != "" {
			v.identityText(path+".sub", u.Sub, false)
		}
		if u.ExternalID != "" {
			if UnfitExternalID(u.ExternalID) {
				v.at(path+".external_id", "%q is blank or holds a control character; give the provisioning client's id of the user, or remove the key", u.ExternalID)
			} else {
				v.unique(externalIDs, i, path+".external_id", "users[%d].external_id", "external_id", u.ExternalID)
			}
		}
		v.displayName(path+".name", u.Name)
		if u.Email != "" && v.identityText(path+".email", u.Email, false) && !plausibleEmail(u.Email) {
			v.at(path+".email", "%q is not an email address; write name@domain", u.Email)
		}
		v.refs(path+".groups", u.Groups, "group", v.groups, v.groupNames)
		for _, claim := range reservedClaims {
			if _, ok := u.Claims[claim]; ok {
				v.at(path+".claims."+claim, "claim %q is set by the IdP and cannot be overridden here%s", claim, fieldHint(claim))
			}
		}
		v.claimBounds(path+".claims", u.Claims)
	}
}

// uniqueSub checks that the user's sub, given or defaulted, is unique.
// subs maps each sub seen so far to the path of its user.
func (v *validator) uniqueSub(subs map[string]string, path string, u *User) {
	sub := u.Sub
	if sub == "" {
		if u.Username == "" {
			return
		}
		sub = DefaultSub(u.Username)
		if len(sub) > MaxSubBytes {
			v.at(path+".username", "the default sub (u- and the username) would be %d bytes; a sub may have at most %d (OpenID Connect Core section 2); set a shorter sub", len(sub), MaxSubBytes)
			return
		}
	}
	first, dup := subs[sub]
	switch {
	case !dup:
		subs[sub] = path
	case u.Sub == "":
		v.at(path+".username", "the default sub %q (from username %s) is already the sub of %s (line %d); set a distinct sub", sub, u.Username, first, v.line(first))
	default:
		v.at(path+".sub", "duplicate sub %q (%s at line %d has it too); every user needs a distinct sub", sub, first, v.line(first))
	}
}

// fieldHint points at the user field that sets a reserved claim, if any.
func fieldHint(claim string) string {
	switch claim {
	case "email", "name", "sub":
		return fmt.Sprintf("; use the user's %s: field", claim)
	}
	return ""
}

func (v *validator) line(path string) int {
	if n := v.node(path); n != nil {
		return n.Line
	}
	return 0
}

// identityText checks a username (login, with trimmed true: the login
// form trims what it is sent, idp/login.go) or an email: the text that
// says who a user is, which logs, the audit, the console and resource
// servers show and compare; and a group name or a client_id, shown and
// compared as much. A control character forges lines where it is
// printed; an invisible formatting character (Unicode category Cf: zero-
// width space and joiners, bidi overrides) makes one name look like
// another. It reports the first such character and whether there was none.
func (v *validator) identityText(path, s string, trimmed bool) bool {
	if trimmed && strings.TrimSpace(s) != s {
		v.at(path, "%q begins or ends with a space, which the login form trims from what it is sent, so that the user could never sign in; remove it", s)
		return false
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			v.at(path, "%q holds U+%04X, a control character, which would forge lines wherever it is printed; use letters, digits and punctuation", s, r)
			return false
		case unicode.Is(unicode.Cf, r):
			v.at(path, "%q holds U+%04X, an invisible formatting character (zero-width or bidi), with which one name looks like another; remove it", s, r)
			return false
		}
	}
	return true
}

// UnfitDisplayName returns the first character of a display name (a
// user's, a client's or an MCP server's name, shown in the console, on
// the login page and by the CLI) that is a control character (C0, DEL or
// C1) or a bidi embedding, override or isolate (U+202A to U+202E, U+2066
// to U+2069), and whether there is one: a control character forges lines
// or drives a terminal where the name is printed, a bidi control reorders
// the text around it. Letters of any script, and the joiners of emoji and
// of scripts that need them, are names.
func UnfitDisplayName(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return r, true
		}
	}
	return 0, false
}

// displayName checks a display name (UnfitDisplayName).
func (v *validator) displayName(path, s string) {
	if r, bad := UnfitDisplayName(s); bad {
		v.at(path, "%q holds U+%04X, a control or bidi override character, which would forge lines or reorder text wherever the name is shown; remove it", s, r)
	}
}

// UnfitExternalID reports whether an external_id that is set is blank or
// holds a control character: the check of users[].external_id, which
// SCIM makes of an externalId before its edit, to answer it in SCIM's
// terms.
func UnfitExternalID(s string) bool {
	return strings.TrimSpace(s) == "" || strings.IndexFunc(s, unicode.IsControl) >= 0
}

func plausibleEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t<>") && !strings.Contains(domain, "@")
}

func (v *validator) clientList() {
	v.clients = map[string]int{}
	for i, c := range v.cfg.Clients {
		path := fmt.Sprintf("clients[%d]", i)
		if v.required(path+".client_id", c.ClientID, "a client_id") {
			v.unique(v.clients, i, path+".client_id", "clients[%d].client_id", "client_id", c.ClientID)
			v.identityText(path+".client_id", c.ClientID, false)
		}
		v.displayName(path+".name", c.Name)
		for j, uri := range c.RedirectURIs {
			p := fmt.Sprintf("%s.redirect_uris[%d]", path, j)
			if msg := absoluteURI(uri); msg != "" {
				v.at(p, "%s; want an absolute URI such as http://127.0.0.1/callback", msg)
			} else if u, _ := url.Parse(uri); u.User != nil {
				// idp/redirect.go refuses every redirect_uri with userinfo.
				v.at(p, "%q has userinfo (user@), which no redirect_uri of a request may have; remove it", uri)
			} else if urlpattern.ScriptScheme(u.Scheme) {
				v.at(p, "%q has the scheme %s:, which runs or shows content in the browser instead of returning to the client (RFC 9700 section 4.1.3); use the client's http(s) callback", uri, strings.ToLower(u.Scheme))
			}
		}
		v.noRepeats(path+".redirect_uris", c.RedirectURIs)
		if c.JWKS != nil {
			v.jwks(path+".jwks", c.JWKS)
		}
	}
}

// privateJWKMembers are the members that make a JWK a private key (RFC 7518
// section 6); a client registers only its public keys.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func (v *validator) jwks(path string, set map[string]any) {
	if n := longestString(set); n > MaxDescriptionBytes {
		v.at(path, "a string of %d bytes; a JWK Set's strings may have at most %d (64 KiB; an RSA key of 16384 bits is under 3 KB)", n, MaxDescriptionBytes)
		return
	}
	keys, ok := set["keys"].([]any)
	if !ok || len(keys) == 0 {
		v.at(path, `expected a JWK Set with a non-empty "keys" list, such as {keys: [{kty: EC, crv: P-256, x: ..., y: ...}]}`)
		return
	}
	for i, k := range keys {
		p := fmt.Sprintf("%s.keys[%d]", path, i)
		key, ok := k.(map[string]any)
		if !ok {
			v.at(p, "not a JWK; want a mapping such as {kty: EC, crv: P-256, x: ..., y: ...}")
			continue
		}
		switch kty, _ := key["kty"].(string); kty {
		case "RSA", "EC", "OKP":
		default:
			v.at(p, "unknown or missing kty %q; use RSA, EC or OKP", kty)
		}
		for _, m := range privateJWKMembers {
			if _, private := key[m]; private {
				v.at(join(p, m), "private key material in a client's jwks; register only the public key")
			}
		}
	}
}

func (v *validator) serverList() {
	servers := map[string]int{}
	audiences := map[string]string{} // accepted audience spelling -> path that owns it
	resources := map[string]string{} // accepted resource spelling -> path that owns it
	for i := range v.cfg.MCPServers {
		s := &v.cfg.MCPServers[i]
		path := fmt.Sprintf("mcp_servers[%d]", i)
		if v.required(path+".id", s.ID, "an id") {
			if !serverIDPattern.MatchString(s.ID) {
				v.at(path+".id", "%q is not a valid server id; use letters, digits, '.', '_' and '-', starting with a letter or digit", s.ID)
			} else {
				v.unique(servers, i, path+".id", "mcp_servers[%d].id", "server id", s.ID)
			}
		}
		v.displayName(path+".name", s.Name)
		if v.required(path+".issuer", s.Issuer, "the issuer URL of the server's authorization server") {
			if v.httpURL(path+".issuer", s.Issuer) {
				v.claim(audiences, path, path+".issuer", s.Issuer, "audience")
				v.notOwnIssuer(path+".issuer", s.Issuer)
			}
		}
		for j, a := range s.Aliases {
			p := fmt.Sprintf("%s.aliases[%d]", path, j)
			if strings.TrimSpace(a) != a || a == "" {
				v.at(p, "alias %q is empty or has surrounding spaces; write the audience value exactly", a)
				continue
			}
			v.claim(audiences, path, p, a, "audience")
			v.notOwnIssuer(p, a)
		}
		v.noRepeats(path+".aliases", s.Aliases)
		for j, r := range s.Resources {
			p := fmt.Sprintf("%s.resources[%d]", path, j)
			if msg := absoluteURI(r); msg != "" {
				v.at(p, "%s; want the MCP server's absolute URL such as https://mcp.example.com/mcp", msg)
				continue
			}
			if u, _ := url.Parse(r); u.User != nil {
				v.at(p, "%s", userinfoProblem("a resource", "resource"))
				continue
			}
			v.claim(resources, path, p, r, "resource")
		}
		v.noRepeats(path+".resources", s.Resources)
		for j, sc := range s.Scopes {
			if !ValidScope(sc) {
				v.at(fmt.Sprintf("%s.scopes[%d]", path, j), "%q is not a valid scope; a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 section 3.3)", sc)
			}
		}
		v.noRepeats(path+".scopes", s.Scopes)
		for _, id := range sortedKeys(s.Clients) {
			p := join(path+".clients", id)
			if _, ok := v.clients[id]; !ok && !v.cimdClient(p, id) {
				v.at(p, "unknown client %q%s", id, v.known("clients", v.clientIDs, id))
			}
			if strings.TrimSpace(s.Clients[id]) == "" {
				v.at(p, "empty client_id at the server; give the client's client_id at %s", s.ID)
			}
		}
		switch s.SigningAlg {
		case "", AlgRS256, AlgES256, AlgEdDSA:
		default:
			v.at(path+".signing_alg", "unknown algorithm %q; use RS256, ES256 or EdDSA, or remove the key for signing.id_jag_alg", s.SigningAlg)
		}
		switch s.Subject {
		case "", SubjectSub, SubjectEmail:
		default:
			v.at(path+".subject", "unknown subject mapping %q; use sub (the ID-JAG's sub) or email (the local user with the ID-JAG's email)", s.Subject)
		}
		if s.EventsEndpoint != "" {
			v.eventsEndpoint(path+".events_endpoint", s.EventsEndpoint)
		}
		for j, a := range s.Access {
			v.access(s, fmt.Sprintf("%s.access[%d]", path, j), a)
		}
		for j, d := range s.Deny {
			v.deny(fmt.Sprintf("%s.deny[%d]", path, j), d)
		}
	}
}

// notOwnIssuer refuses an MCP server's issuer or alias that names the
// IdP itself (the file's issuer:), as ConductorOne refuses "your own
// tenant URL": the exchange would mint ID-JAGs whose aud is the IdP, and
// the IdP redeems none (it serves no JWT bearer grant; an ID-JAG is never
// redeemed at the IdP that issued it), nor can another authorization
// server have its issuer. An issuer from --issuer or --addr is not known
// here: the exchange refuses such an audience as well (invalid_target).
func (v *validator) notOwnIssuer(path, s string) {
	if own := v.cfg.Issuer; own != "" && urimatch.SameResolved(own, s) {
		v.at(path, "%q is the IdP's own issuer (issuer: %s): its ID-JAGs would name the IdP as aud, and the IdP redeems no ID-JAG; give the issuer of the MCP server's own authorization server", s, own)
	}
}

func (v *validator) access(s *MCPServer, path string, a Access) {
	if len(a.Users) == 0 && len(a.Groups) == 0 {
		v.at(path, "names no users or groups, so it matches nobody; add users: [...] or groups: [...]")
	}
	v.refs(path+".groups", a.Groups, "group", v.groups, v.groupNames)
	v.refs(path+".users", a.Users, "user", v.users, v.usernames)
	v.clientRefs(path+".clients", a.Clients)
	for j, id := range a.Clients {
		if _, known := v.clients[id]; known || v.cfg.CIMD.Allows(id) {
			if _, connected := s.Clients[id]; !connected {
				v.at(fmt.Sprintf("%s.clients[%d]", path, j), "client %q is not in the clients of server %s, so this entry never matches it; connect it there first", id, s.ID)
			}
		}
	}
	for j, sc := range a.Scopes {
		if !contains(s.Scopes, sc) {
			known := "; the server lists no scopes"
			if len(s.Scopes) > 0 {
				known = fmt.Sprintf("; it lists %s%s", strings.Join(s.Scopes, ", "), didYouMean(sc, s.Scopes))
			}
			v.at(fmt.Sprintf("%s.scopes[%d]", path, j), "scope %q is not a scope of server %s%s", sc, s.ID, known)
		}
	}
	v.noRepeats(path+".scopes", a.Scopes)
	if v.given(path+".max_auth_age") && a.MaxAuthAge == 0 {
		v.at(path+".max_auth_age", "0 would require a login in this very instant; use a duration such as 15m, or remove the key")
	} else if a.MaxAuthAge > 0 && a.MaxAuthAge.D() < time.Second {
		v.at(path+".max_auth_age", "%s is shorter than 1s: auth_time and the step-up's max_age count whole seconds, so no login could meet it; use a duration such as 15m", a.MaxAuthAge)
	}
}

// eventsEndpoint checks an RFC 8935 push endpoint: an absolute http or
// https URL without fragment, and an ES256 key to sign the Security Event
// Tokens with (docs/configuration.md, "Revocation push").
func (v *validator) eventsEndpoint(path, s string) {
	u, err := url.Parse(s)
	// Named with the receiver's password and query values masked: a
	// problem reaches the config_reload event, the log and GET
	// /admin/api/status.
	shown := redact.URLAndQuery(s)
	switch {
	case strings.TrimSpace(s) != s:
		v.at(path, "%q has surrounding spaces; remove them", shown)
		return
	case err != nil && strings.Contains(s, "@"):
		// Go's error would quote a part of the userinfo again.
		v.at(path, "%q is not a URL; in a user or password, percent-encode '/', '?', '#', '@', ':' and spaces (%%2F, %%3F, %%23, %%40, %%3A, %%20); want an http or https URL such as https://user:password@as.example.com/events", shown)
		return
	case err != nil:
		v.at(path, "%q is not a URL (%v); want an http or https URL such as https://as.example.com/events", shown, unwrapURLError(err))
		return
	case afterAuthority(s, "@"):
		// https://rcv:77/secret@host parses as the host rcv:77 and a
		// path, and would be shown with its password.
		v.at(path, "%q has an '@' after its host: percent-encode it (%%40) in a path or query, and '/', '?' and '#' (%%2F, %%3F, %%23) in a password, whose URL would otherwise end early", redact.URL(s[:strings.Index(s, "//")+2])+"…")
		return
	case u.Scheme != "http" && u.Scheme != "https":
		v.at(path, "%q is not an http or https URL; want one such as https://as.example.com/events", shown)
		return
	case u.Host == "":
		v.at(path, "%q has no host; want an absolute URL such as https://as.example.com/events", shown)
		return
	case u.Fragment != "" || strings.Contains(s, "#"):
		v.at(path, "%q has a fragment (#...), which an endpoint cannot have; remove it", shown)
		return
	case portProblem(shown, u.Port()) != "":
		v.at(path, "%s", portProblem(shown, u.Port()))
		return
	}
	// Validation runs before fillDefaults: an unset id_jag_alg is the
	// persona's preset (RS256 for okta), not always ES256.
	sig := v.cfg.Signing
	jagAlg, jagWhy := sig.IDJAGAlg, ""
	if jagAlg == "" {
		p := presetOf(v.cfg.Persona)
		jagAlg, jagWhy = p.idJAGAlg, fmt.Sprintf(", the %s persona's default", p.name)
	}
	if jagAlg != AlgES256 && sig.IDTokenAlg != AlgES256 {
		v.at(path, "Security Event Tokens are signed with the IdP's ES256 key, and neither signing.id_jag_alg (%s%s) nor signing.id_token_alg (%s) is ES256; set one of them to ES256", jagAlg, jagWhy, orDefault(sig.IDTokenAlg, DefaultIDTokenAlg))
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (v *validator) deny(path string, d Deny) {
	if len(d.Users) == 0 && len(d.Groups) == 0 && len(d.Clients) == 0 {
		v.at(path, "names no users, groups or clients, so it denies nothing; add users:, groups: or clients:")
	}
	v.refs(path+".groups", d.Groups, "group", v.groups, v.groupNames)
	v.refs(path+".users", d.Users, "user", v.users, v.usernames)
	v.clientRefs(path+".clients", d.Clients)
}

// clientRefs is refs for client_ids, which may also be metadata document
// URLs the cimd section admits.
func (v *validator) clientRefs(path string, ids []string) {
	for i, id := range ids {
		p := fmt.Sprintf("%s[%d]", path, i)
		if _, ok := v.clients[id]; !ok && !v.cimdClient(p, id) {
			v.at(p, "unknown client %q%s", id, v.known("clients", v.clientIDs, id))
		}
	}
	v.noRepeats(path, ids)
}

// required reports whether a required value is set, recording a problem
// when it is not.
func (v *validator) required(path, value, what string) bool {
	if strings.TrimSpace(value) == "" {
		v.at(path, "missing; give %s", what)
		return false
	}
	return true
}

// unique records name as defined by item i, or reports the earlier item that
// already defines it. firstPath formats the earlier item's path.
func (v *validator) unique(seen map[string]int, i int, path, firstPath, what, name string) {
	if first, dup := seen[name]; dup {
		v.at(path, "duplicate %s %q (first at line %d); each must be unique", what, name, v.line(fmt.Sprintf(firstPath, first)))
		return
	}
	seen[name] = i
}

// claim records that the server at owner accepts value (as an audience or a
// resource), or reports another server that already accepts it. Two values
// conflict when one string sent by a client would match both, comparing as
// ServerByAudience does (urimatch.Same).
func (v *validator) claim(taken map[string]string, owner, path, value, what string) {
	variants := urimatch.Keys(value)
	for _, variant := range variants {
		if other, ok := taken[variant]; ok && other != owner {
			v.at(path, "%s %q is already accepted by %s (line %d); every %s must lead to one server", what, value, other, v.line(other), what)
			return
		}
	}
	for _, variant := range variants {
		taken[variant] = owner
	}
}

// refs checks that every name in a list refers to a defined thing and that
// none is listed twice.
func (v *validator) refs(path string, names []string, what string, defined map[string]int, all func() []string) {
	for i, name := range names {
		if _, ok := defined[name]; !ok {
			v.at(fmt.Sprintf("%s[%d]", path, i), "unknown %s %q%s", what, name, v.known(what+"s", all, name))
		}
	}
	v.noRepeats(path, names)
}

// noRepeats reports values listed twice in one list.
func (v *validator) noRepeats(path string, list []string) {
	seen := map[string]bool{}
	for i, s := range list {
		if seen[s] {
			v.at(fmt.Sprintf("%s[%d]", path, i), "%q is listed twice; remove one", s)
		}
		seen[s] = true
	}
}

// known lists the defined names for a message about an unknown one, and
// suggests the closest.
func (v *validator) known(what string, all func() []string, got string) string {
	// Each name once, in file order: a name defined twice is its own
	// problem, reported where it is, and so is an entry without one.
	var names []string
	seen := map[string]bool{}
	for _, n := range all() {
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return fmt.Sprintf("; no %s are defined", what)
	}
	const most = 10
	list := names
	more := ""
	if len(list) > most {
		list, more = list[:most], fmt.Sprintf(" and %d more", len(names)-most)
	}
	return fmt.Sprintf("; known %s: %s%s%s", what, strings.Join(list, ", "), more, didYouMean(got, names))
}

func (v *validator) groupNames() []string {
	out := make([]string, len(v.cfg.Groups))
	for i, g := range v.cfg.Groups {
		out[i] = g.Name
	}
	return out
}

func (v *validator) usernames() []string {
	out := make([]string, len(v.cfg.Users))
	for i, u := range v.cfg.Users {
		out[i] = u.Username
	}
	return out
}

func (v *validator) clientIDs() []string {
	out := make([]string, len(v.cfg.Clients))
	for i, c := range v.cfg.Clients {
		out[i] = c.ClientID
	}
	return out
}

// httpURL checks an issuer: an absolute http or https URL without query or
// fragment (RFC 8414 section 2). Plain http is allowed because demos and CI
// run on loopback.
func (v *validator) httpURL(path, s string) bool {
	if problem := issuerProblem(s); problem != "" {
		v.at(path, "%s", problem)
		return false
	}
	return true
}

// CheckIssuer reports what makes s unusable as an issuer identifier (an
// absolute http or https URL without query or fragment, RFC 8414 section
// 2), in the words the configuration's issuer: gets; nil when it is fine.
// serve --issuer uses it, so that the flag and the file agree.
func CheckIssuer(s string) error {
	if problem := ownIssuerProblem(s); problem != "" {
		return errors.New(problem)
	}
	return nil
}

// ownIssuerProblem is issuerProblem for the IdP's own issuer, which it is
// served under: a path (https://host/idp) is the prefix of every endpoint,
// the cookies' Path and a route at the root, so it must be one a tenant's
// path: could be.
func ownIssuerProblem(s string) string {
	if problem := issuerProblem(s); problem != "" {
		return problem
	}
	u, _ := url.Parse(s)
	if scheme, rest, _ := strings.Cut(s, ":"); scheme != u.Scheme {
		// url.Parse lower-cases the scheme, op's issuer check does not (it
		// took "HTTP://" for https and refused to start), and clients
		// compare the issuer as written after lower-casing theirs.
		return fmt.Sprintf("%q: write the scheme in lower case: %s:%s", s, u.Scheme, rest)
	}
	if p := strings.TrimSuffix(u.EscapedPath(), "/"); p != "" {
		if problem := badTenantPath(p); problem != "" {
			return fmt.Sprintf("%q: its path %s %s", s, p, problem)
		}
	}
	return ""
}

func issuerProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case strings.TrimSpace(s) != s:
		// Parsed, they would be part of every iss and aud.
		return fmt.Sprintf("%q has surrounding spaces; remove them", s)
	case err != nil:
		return fmt.Sprintf("%q is not a URL (%v); want an absolute http or https URL such as https://as.example.com", s, unwrapURLError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q is not an http or https URL; want an absolute URL such as https://as.example.com", s)
	case u.Host == "":
		return fmt.Sprintf("%q has no host; want an absolute URL such as https://as.example.com", s)
	case u.User != nil:
		return userinfoProblem("an issuer", "iss or aud")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Sprintf("%q has a query or fragment, which an issuer must not have (RFC 8414 section 2); remove it", s)
	}
	return portProblem(s, u.Port())
}

// userinfoProblem refuses a URL with userinfo where tokens carry the URL
// (claim): no client sends such an audience or resource, and the tokens,
// the log and the audit would carry its password. The URL is not quoted,
// for the same reason.
func userinfoProblem(what, claim string) string {
	return fmt.Sprintf("the URL has userinfo (user@ or user:password@ before the host), which %s must not have: every token's %s would carry it; remove it", what, claim)
}

// portProblem reports a URL's port outside 0-65535, which url.Parse takes
// (it checks only that a port is digits) and a listener or a dial refuses
// with "invalid port"; "" when port is fine or absent.
func portProblem(s, port string) string {
	if _, err := strconv.ParseUint(port, 10, 16); port != "" && err != nil {
		return fmt.Sprintf("%q has the port %s; a port is a number of 0-65535", s, port)
	}
	return ""
}

// absoluteURI checks a resource or redirect URI: absolute and without
// fragment (RFC 8707 section 2, RFC 6749 section 3.1.2). It returns what is
// wrong, or "".
func absoluteURI(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not a URI (%v)", s, unwrapURLError(err))
	case !u.IsAbs():
		return fmt.Sprintf("%q is not absolute", s)
	case u.Opaque == "" && u.Host == "":
		return fmt.Sprintf("%q has no host", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Sprintf("%q has a fragment (#...), which is not allowed here", s)
	case strings.TrimSpace(s) != s:
		return fmt.Sprintf("%q has surrounding spaces", s)
	}
	return portProblem(s, u.Port())
}

// unwrapURLError drops url.Error's repetition of the URL.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// ValidScope reports whether s is an RFC 6749 section 3.3 scope-token:
// %x21 / %x23-5B / %x5D-7E, printable ASCII without spaces, '"' or '\'.
// The configuration's scopes are held to it, and so are the scopes a
// token exchange or an access request names.
func ValidScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// ScopeFields splits a scope parameter at ASCII white space, as the token
// endpoint does (docs/http.md, "Token exchange"): a non-ASCII space, such
// as a no-break space, is part of a (malformed) scope, not a separator.
func ScopeFields(s string) []string { return strings.FieldsFunc(s, ScopeSpace) }

// ScopeSpace reports whether r is ASCII white space, which separates the
// scopes of a scope parameter (ScopeFields).
func ScopeSpace(r rune) bool { return strings.ContainsRune(" \t\n\v\f\r", r) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// afterAuthority reports whether s, a URL, holds sub after its authority
// (in its path, query or fragment).
func afterAuthority(s, sub string) bool {
	_, rest, ok := strings.Cut(s, "//")
	if !ok {
		return false
	}
	end := strings.IndexAny(rest, "/?#")
	return end >= 0 && strings.Contains(rest[end:], sub)
}
