package admin

// This file is SCIM 2.0 provisioning (RFC 7643 schemas, RFC 7644
// protocol) of the IdP's users and groups, under
// /admin/api/scim/v2/: the admin API's authentication, throttle, tenant
// scoping and body checks are its own, and every change goes through the
// same edit as the admin API's (If-Match, the admin_change journal, the
// durable write, the warnings logged). See docs/http.md, "SCIM
// provisioning".
//
// A SCIM User is a configuration user: id is its sub (stable across a
// rename), externalId its external_id, userName its username, active
// the opposite of disabled,
// emails (the primary) its email, name.formatted and displayName its
// name; a password sent with POST, PUT or PATCH is stored as password_bcrypt. A
// SCIM Group is a configuration group: displayName is its name, id its
// id, else its name (a rename keeps the id: policy.Group.SCIMID),
// externalId its external_id, and its members are the users that list
// it (User.Groups), so a change of members is one edit of those users.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/xaa-idp/xaa-idp/internal/strictjson"
	"github.com/xaa-idp/xaa-idp/policy"
)

// scimPrefix is where SCIM is served in the admin API.
const scimPrefix = "/admin/api/scim/v2/"

// The schemas and messages of RFC 7643 and RFC 7644.
const (
	scimUserSchema     = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema    = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimSPConfigSchema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	scimResTypeSchema  = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	scimSchemaSchema   = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	scimListSchema     = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimPatchSchema    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimErrorSchema    = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// The page sizes of the SCIM lists: count defaults to scimDefaultCount and
// is capped at scimMaxResults (ServiceProviderConfig's filter.maxResults).
const (
	scimDefaultCount = 100
	scimMaxResults   = 200
)

func (a *API) scimRoutes() {
	p := "/admin/api/scim/v2"
	a.mux.HandleFunc("GET "+p+"/ServiceProviderConfig", a.scimServiceProviderConfig)
	a.mux.HandleFunc("GET "+p+"/ResourceTypes", a.scimResourceTypes)
	a.mux.HandleFunc("GET "+p+"/ResourceTypes/{id}", a.scimResourceTypes)
	a.mux.HandleFunc("GET "+p+"/Schemas", a.scimSchemas)
	a.mux.HandleFunc("GET "+p+"/Schemas/{id}", a.scimSchemas)
	a.mux.HandleFunc("GET "+p+"/Users", a.scimListUsers)
	a.mux.HandleFunc("POST "+p+"/Users", a.scimCreateUser)
	a.mux.HandleFunc("GET "+p+"/Users/{id}", a.scimGetUser)
	a.mux.HandleFunc("PUT "+p+"/Users/{id}", a.scimReplaceUser)
	a.mux.HandleFunc("PATCH "+p+"/Users/{id}", a.scimPatchUser)
	a.mux.HandleFunc("DELETE "+p+"/Users/{id}", a.scimDeleteUser)
	a.mux.HandleFunc("GET "+p+"/Groups", a.scimListGroups)
	a.mux.HandleFunc("POST "+p+"/Groups", a.scimCreateGroup)
	a.mux.HandleFunc("GET "+p+"/Groups/{id}", a.scimGetGroup)
	a.mux.HandleFunc("PUT "+p+"/Groups/{id}", a.scimReplaceGroup)
	a.mux.HandleFunc("PATCH "+p+"/Groups/{id}", a.scimPatchGroup)
	a.mux.HandleFunc("DELETE "+p+"/Groups/{id}", a.scimDeleteGroup)
}

// scimFailure is a refusal with SCIM's status and scimType (RFC 7644
// section 3.12).
type scimFailure struct {
	status   int
	scimType string
	detail   string
	// retryAfter, when set, is sent as Retry-After.
	retryAfter string
}

func (f *scimFailure) Error() string { return f.detail }

func scimFail(status int, scimType, format string, args ...any) *scimFailure {
	return &scimFailure{status: status, scimType: scimType, detail: fmt.Sprintf(format, args...)}
}

// scimError writes a SCIM error (RFC 7644 section 3.12): status as a
// string, scimType when one is defined for the case.
func scimError(w http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{"schemas": []string{scimErrorSchema}, "status": strconv.Itoa(status), "detail": detail}
	if scimType != "" {
		body["scimType"] = scimType
	}
	writeSCIM(w, status, body)
}

// scimRefuse answers a refusal of a SCIM request's form (its headers,
// its body) as a SCIM error: a 400 is invalidSyntax.
func scimRefuse(w http.ResponseWriter, status int, detail string) {
	scimType := ""
	if status == http.StatusBadRequest {
		scimType = "invalidSyntax"
	}
	scimError(w, status, scimType, detail)
}

// writeSCIM writes a SCIM answer: application/scim+json, indented as the
// admin API's answers are.
func writeSCIM(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = encodeAPI(w, v)
}

// scimEditError answers a refused change in SCIM's form: a refusal of
// the change's own (scimFailure), or the admin API's refusal
// (refusalOf) with its status, its problems in detail.
func scimEditError(w http.ResponseWriter, err error) {
	var sf *scimFailure
	if errors.As(err, &sf) {
		if sf.retryAfter != "" {
			w.Header().Set("Retry-After", sf.retryAfter)
		}
		scimError(w, sf.status, sf.scimType, sf.detail)
		return
	}
	f := refusalOf(err)
	detail := f.desc
	for _, p := range f.problems {
		switch {
		case p.Line > 0:
			detail += fmt.Sprintf("; %s:%d: %s", p.File, p.Line, p.Message)
		case p.File != "":
			detail += fmt.Sprintf("; %s: %s", p.File, p.Message)
		default:
			detail += "; " + p.Message
		}
	}
	scimType := ""
	if f.status == http.StatusBadRequest {
		scimType = "invalidValue"
	}
	if f.etag != "" {
		w.Header().Set("ETag", f.etag)
	}
	scimError(w, f.status, scimType, detail)
}

// scimEdit runs a SCIM change as the admin API runs its own (editAs),
// answering refusals in SCIM's form; nil when the answer is written.
func (a *API) scimEdit(w http.ResponseWriter, r *http.Request, plan func(cur *policy.Config) (policy.Batch, *policy.Change, error), after func(*policy.Config) any) *policy.Change {
	return a.scimEditWith(w, r, map[string]any{}, plan, after)
}

// scimEditWith is scimEdit with details for the admin_change: plan may
// add to them (what it found under the edit's lock), since the event is
// made after it ran.
func (a *API) scimEditWith(w http.ResponseWriter, r *http.Request, details map[string]any, plan func(cur *policy.Config) (policy.Batch, *policy.Change, error), after func(*policy.Config) any) *policy.Change {
	if a.store == nil {
		scimError(w, http.StatusNotImplemented, "", noStore)
		return nil
	}
	details["via"] = "scim"
	ch := a.editAs(w, r, details, scimEditError, func(tag string, j policy.EditOption) (*policy.Change, error) {
		return a.store.EditBatch(tag, plan, after, j)
	})
	if ch != nil {
		logWarnings(r, ch)
	}
	return ch
}

// scimBody reads a SCIM request's JSON object: the admin API's checks
// (size, content type, duplicate keys), but with a null member taken as
// absent, as RFC 7643 section 2.5 says it is ("unassigned").
func scimBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	raw, f := checkedBody(w, r, maxBody, strictjson.Options{NullMembers: true})
	if f != nil {
		detail := f.desc
		if f.status == http.StatusUnsupportedMediaType {
			detail = "send the body as application/scim+json (or application/json)"
		}
		scimRefuse(w, f.status, detail)
		return nil, false
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		scimError(w, http.StatusBadRequest, "invalidSyntax", "the body must be a JSON object")
		return nil, false
	}
	return m, true
}

// scimAttrs returns the members of a SCIM object under their lower-case
// names (attribute names are case-insensitive, RFC 7643 section 2.1),
// without the core schema's URN prefix; null members are left out.
func scimAttrs(m map[string]any, schema string) map[string]any {
	out := make(map[string]any, len(m))
	prefix := strings.ToLower(schema) + ":"
	for k, v := range m {
		if v == nil {
			continue
		}
		k = strings.ToLower(k)
		out[strings.TrimPrefix(k, prefix)] = v
	}
	return out
}

// schemaAttrs is scimAttrs of a resource (schema not ""), refusing an
// attribute given both by its name and by its URN
// ("urn:...:User:userName"): which one scimAttrs kept would be chance.
// where says where m is.
func schemaAttrs(m map[string]any, schema, where string) (map[string]any, error) {
	out := scimAttrs(m, schema)
	n := 0
	for _, v := range m {
		if v != nil {
			n++
		}
	}
	if len(out) != n {
		return nil, scimFail(http.StatusBadRequest, "invalidSyntax", "%s: an attribute is given twice, by its name and by its URN (%s:...); nothing was changed", where, schema)
	}
	return out, nil
}

// The attributes a SCIM body or PATCH path may name: RFC 7643's common
// ones (section 3.1) and those of its User (section 4.1) and Group
// (section 4.2) schemas, with their sub-attributes, kept or not; and any
// extension's (a URN). Another name is refused, so that a misspelt
// "actve": false is not taken for nothing (docs/http.md, "SCIM provisioning":
// an unknown field is 400 and changes nothing).
var (
	scimUserAttrs = names("id", "externalid", "meta", "schemas", "username", "name", "displayname", "nickname",
		"profileurl", "title", "usertype", "preferredlanguage", "locale", "timezone", "active", "password", "emails",
		"phonenumbers", "ims", "photos", "addresses", "groups", "entitlements", "roles", "x509certificates")
	scimGroupAttrs  = names("id", "externalid", "meta", "schemas", "displayname", "members")
	scimNameAttrs   = names("formatted", "familyname", "givenname", "middlename", "honorificprefix", "honorificsuffix")
	scimMultiAttrs  = names("value", "display", "type", "primary", "$ref")
	scimPatchAttrs  = names("schemas", "operations")
	scimPatchOpAttr = names("op", "path", "value")
)

func names(list ...string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, n := range list {
		m[n] = true
	}
	return m
}

// unknownAttr refuses a member of m (scimAttrs' lower-case names) that
// known does not name and that is no extension's (urn:...); a member
// "name.givenName" is checked by its first name. where says where m is.
func unknownAttr(m map[string]any, known map[string]bool, where string) error {
	for k := range m {
		if !knownAttr(k, known) {
			return scimFail(http.StatusBadRequest, "invalidSyntax", "%s: %q is no attribute of the schema (RFC 7643); nothing was changed", where, k)
		}
	}
	return nil
}

// The sub-attributes of RFC 7643's complex attributes, by the lower-case
// name of their attribute; a value filter ([type eq "work"]) is taken on
// the multi-valued ones. An attribute not here has none.
var scimSubAttrs = map[string]map[string]bool{
	"name":             scimNameAttrs,
	"meta":             names("resourcetype", "created", "lastmodified", "location", "version"),
	"addresses":        names("formatted", "streetaddress", "locality", "region", "postalcode", "country", "type", "primary", "value", "display"),
	"emails":           scimMultiAttrs,
	"phonenumbers":     scimMultiAttrs,
	"ims":              scimMultiAttrs,
	"photos":           scimMultiAttrs,
	"entitlements":     scimMultiAttrs,
	"roles":            scimMultiAttrs,
	"x509certificates": scimMultiAttrs,
	"groups":           scimMultiAttrs,
	"members":          scimMultiAttrs,
}

// knownAttr reports whether path (lower case, the core schema's URN
// taken off) names an attribute of known, or an extension's: with a
// sub-attribute only one its attribute has (name.givenName, not
// active.value), with a value filter only on a multi-valued attribute
// (emails[type eq "work"].value, not userName[...]).
func knownAttr(path string, known map[string]bool) bool {
	if strings.HasPrefix(path, "urn:") {
		return true
	}
	end := strings.IndexAny(path, ".[")
	if end < 0 {
		return known[path]
	}
	name, rest := path[:end], path[end:]
	subs := scimSubAttrs[name]
	if !known[name] || subs == nil {
		return false
	}
	if rest[0] == '[' {
		if name == "name" || name == "meta" {
			return false
		}
		// The filter's own syntax is read where the path is used.
		closeAt := strings.LastIndexByte(rest, ']')
		if closeAt < 0 {
			return true
		}
		rest = rest[closeAt+1:]
		if rest == "" {
			return true
		}
	}
	sub, ok := strings.CutPrefix(rest, ".")
	return ok && subs[sub]
}

// metaPath refuses a PATCH path (lower case) to meta, which the server
// alone writes (RFC 7643 section 3.1: readOnly). In a path-less value,
// meta is left alone, as in a PUT: a client may echo a resource whole.
func metaPath(path string) error {
	if path == "meta" || strings.HasPrefix(path, "meta.") {
		return scimFail(http.StatusBadRequest, "mutability", "%s is read-only: the server keeps meta", path)
	}
	return nil
}

// scimBase is the absolute URL of the SCIM endpoints of this IdP (or
// tenant).
func (a *API) scimBase() string {
	return strings.TrimSuffix(a.idp.Issuer(), "/") + "/admin/api/scim/v2"
}

type scimMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
	Version      string `json:"version,omitempty"`
}

type scimName struct {
	Formatted string `json:"formatted"`
}

type scimEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

type scimRef struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Ref     string `json:"$ref,omitempty"`
	Type    string `json:"type,omitempty"`
}

// scimUser is a user as SCIM shows it; the password never.
type scimUser struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id"`
	ExternalID  string      `json:"externalId,omitempty"`
	UserName    string      `json:"userName"`
	Name        *scimName   `json:"name,omitempty"`
	DisplayName string      `json:"displayName,omitempty"`
	Emails      []scimEmail `json:"emails,omitempty"`
	Active      bool        `json:"active"`
	Groups      []scimRef   `json:"groups"`
	Meta        scimMeta    `json:"meta"`
}

func (a *API) scimUserOf(cfg *policy.Config, u *policy.User, version string) scimUser {
	base := a.scimBase()
	su := scimUser{
		Schemas: []string{scimUserSchema}, ID: u.Sub, ExternalID: u.ExternalID, UserName: u.Username, DisplayName: u.Name, Active: u.Active(),
		Groups: []scimRef{},
		Meta:   scimMeta{ResourceType: "User", Location: base + "/Users/" + scimSegment(u.Sub), Version: version},
	}
	if u.Name != "" {
		su.Name = &scimName{Formatted: u.Name}
	}
	if u.Email != "" {
		su.Emails = []scimEmail{{Value: u.Email, Type: "work", Primary: true}}
	}
	for _, name := range u.Groups {
		id := name
		if g := cfg.Group(name); g != nil {
			id = g.SCIMID()
		}
		su.Groups = append(su.Groups, scimRef{Value: id, Display: name, Ref: base + "/Groups/" + scimSegment(id), Type: "direct"})
	}
	return su
}

// scimSegment is a SCIM id as the last segment of its resource's URL:
// escaped, and "." or ".." (a group so named, a user with that sub)
// percent-encoded as well, which url.PathEscape leaves as they are: a dot
// segment is removed by every client that resolves the URL (RFC 3986
// section 5.2.4), and the location named the collection above it.
func scimSegment(id string) string {
	switch id {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(id)
}

// scimGroup is a group as SCIM shows it.
type scimGroup struct {
	Schemas     []string  `json:"schemas"`
	ID          string    `json:"id"`
	ExternalID  string    `json:"externalId,omitempty"`
	DisplayName string    `json:"displayName"`
	Members     []scimRef `json:"members"`
	Meta        scimMeta  `json:"meta"`
}

func (a *API) scimGroupOf(cfg *policy.Config, g *policy.Group, version string) scimGroup {
	base := a.scimBase()
	sg := scimGroup{
		Schemas: []string{scimGroupSchema}, ID: g.SCIMID(), ExternalID: g.ExternalID, DisplayName: g.Name, Members: []scimRef{},
		Meta: scimMeta{ResourceType: "Group", Location: base + "/Groups/" + scimSegment(g.SCIMID()), Version: version},
	}
	for i := range cfg.Users {
		if u := &cfg.Users[i]; u.InGroup(g.Name) {
			sg.Members = append(sg.Members, scimRef{Value: u.Sub, Display: u.Username, Ref: base + "/Users/" + scimSegment(u.Sub), Type: "User"})
		}
	}
	return sg
}

// scimList is a ListResponse (RFC 7644 section 3.4.2).
type scimList struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

func listOf(resources []any) scimList {
	return scimList{Schemas: []string{scimListSchema}, TotalResults: len(resources), StartIndex: 1, ItemsPerPage: len(resources), Resources: resources}
}

// scimPage reads startIndex (1-based; less than 1 is 1) and count
// (default scimDefaultCount, capped at scimMaxResults; negative is 0).
func scimPage(q url.Values) (start, count int, err error) {
	start, count = 1, scimDefaultCount
	if v := q.Get("startIndex"); v != "" {
		if start, err = pageNumber(v); err != nil {
			return 0, 0, scimFail(http.StatusBadRequest, "invalidValue", "startIndex must be an integer")
		}
		start = max(start, 1)
	}
	if v := q.Get("count"); v != "" {
		if count, err = pageNumber(v); err != nil {
			return 0, 0, scimFail(http.StatusBadRequest, "invalidValue", "count must be an integer")
		}
		count = min(max(count, 0), scimMaxResults)
	}
	return start, count, nil
}

// pageNumber reads an integer of startIndex or count; one beyond an int
// is the largest (or smallest) int, which is as far.
func pageNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if errors.Is(err, strconv.ErrRange) {
		return n, nil // Atoi answers the bound
	}
	return n, err
}

// scimFilter is one comparison of a filter (RFC 7644 section 3.4.2.2):
// `attribute eq value`, the form provisioning clients send to find a
// resource, or a value path `emails[type eq "work"].value eq value` and
// `members[value eq "<id>"]`, which Microsoft Entra sends. value is a
// string or a boolean.
type scimFilter struct {
	attr  string // lower case, without the schema's URN: "username", "emails.value", "members"
	value any
	// emailType is the type a value path of emails asks for
	// (emails[type eq "work"]); "" when none.
	emailType string
}

// maxFilterTerms bounds the comparisons of one filter joined with and.
const maxFilterTerms = 16

// parseSCIMFilter reads a filter: one comparison or several joined with
// and (any case); "" is none. Another operator, or, not, parentheses or
// another value path is invalidFilter.
func parseSCIMFilter(s, schema string) ([]scimFilter, error) {
	// A tab separates as a space does (no JSON string holds a raw one).
	s = strings.TrimSpace(strings.ReplaceAll(s, "\t", " "))
	if s == "" {
		return nil, nil
	}
	bad := func(why string) error {
		shown := s
		if len(shown) > 200 {
			shown = strings.ToValidUTF8(shown[:200], "") + "..."
		}
		return scimFail(http.StatusBadRequest, "invalidFilter", "filter %q: %s; this server takes `attribute eq \"value\"`, joined with and, and the value paths emails[type eq \"work\"].value and members[value eq \"<id>\"]", shown, why)
	}
	var terms []scimFilter
	rest := s
	for {
		t, after, why := parseTerm(rest, schema)
		if why != "" {
			return nil, bad(why)
		}
		terms = append(terms, t)
		after = strings.TrimLeft(after, " \t")
		if after == "" {
			return terms, nil
		}
		word, tail, _ := strings.Cut(after, " ")
		if !strings.EqualFold(word, "and") {
			return nil, bad("expected and after a comparison, not " + strconv.Quote(word))
		}
		if len(terms) == maxFilterTerms {
			return nil, bad(fmt.Sprintf("more than %d comparisons", maxFilterTerms))
		}
		rest = strings.TrimLeft(tail, " \t")
	}
}

// parseTerm reads one comparison at the start of s; why says what is
// wrong with it ("" when nothing).
func parseTerm(s, schema string) (t scimFilter, rest, why string) {
	// The attribute path, with a value filter in brackets.
	end := strings.IndexAny(s, " \t[")
	if end < 0 {
		return t, "", "a comparison needs an operator and a value"
	}
	attr := strings.TrimPrefix(strings.ToLower(s[:end]), strings.ToLower(schema)+":")
	switch {
	case attr == "":
		return t, "", "a comparison starts with an attribute's name"
	case strings.ContainsAny(attr, "()\""):
		return t, "", "parentheses, not and or are not supported"
	}
	rest = s[end:]
	var inner *scimFilter
	if rest[0] == '[' {
		closeAt := closingBracket(rest)
		if closeAt < 0 {
			return t, "", "a [ without its ]"
		}
		it, after, why := parseTerm(rest[1:closeAt], "")
		if why != "" || strings.TrimSpace(after) != "" || it.emailType != "" {
			return t, "", "the value filter in brackets must be one comparison"
		}
		inner = &it
		rest = rest[closeAt+1:]
		if sub, ok := strings.CutPrefix(rest, "."); ok {
			n := strings.IndexAny(sub, " \t")
			if n < 0 {
				n = len(sub)
			}
			attr += "." + strings.ToLower(sub[:n])
			rest = sub[n:]
		}
	}
	rest = strings.TrimLeft(rest, " \t")
	op, value, _ := strings.Cut(rest, " ")
	switch {
	case inner != nil && !strings.Contains(attr, ".") && (op == "" || strings.EqualFold(op, "and")):
		// emails[value eq "x"], members[value eq "<id>"]: the value path
		// alone.
		if inner.attr != "value" {
			return t, "", "a value path alone takes [value eq ...]"
		}
		return scimFilter{attr: attr + ".value", value: inner.value}, rest, ""
	case !strings.EqualFold(op, "eq"):
		return t, "", "the operator " + strconv.Quote(op) + " is not supported"
	}
	value = strings.TrimLeft(value, " \t")
	dec := json.NewDecoder(strings.NewReader(value))
	var v any
	if err := dec.Decode(&v); err != nil {
		return t, "", "the value is not a JSON string or boolean"
	}
	switch v.(type) {
	case string, bool:
	default:
		return t, "", "the value is not a JSON string or boolean"
	}
	rest = value[dec.InputOffset():]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return t, "", "the value is not a JSON string or boolean"
	}
	t = scimFilter{attr: attr, value: v}
	if inner != nil {
		// emails[type eq "work"].value: the one email, of type work.
		ty, isString := inner.value.(string)
		if attr != "emails.value" || inner.attr != "type" || !isString {
			return t, "", "the value path " + strconv.Quote(s[:end]) + "[...] is not supported (emails[type eq \"work\"].value is)"
		}
		t.emailType = ty
	}
	return t, rest, ""
}

// closingBracket returns the index in s of the ] that closes a value
// filter, outside the JSON strings in it (an id may hold a ]: the user
// "ops [eu]" is "u-ops [eu]"), or -1.
func closingBracket(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++ // the escaped character
		case c == '"':
			quoted = !quoted
		case c == ']' && !quoted:
			return i
		}
	}
	return -1
}

// answerQuery answers a list GET of one resource type: the items of all
// that the request's filter (matcher: its terms of schema) matches, a page
// of them, each as view makes it and the request's projection shows it.
func answerQuery[T any](w http.ResponseWriter, r *http.Request, schema string, all []T, matcher func([]scimFilter) (func(*T) bool, error), view func(*T) any) {
	f, err := parseSCIMFilter(r.URL.Query().Get("filter"), schema)
	if err != nil {
		scimEditError(w, err)
		return
	}
	match, err := matcher(f)
	if err != nil {
		scimEditError(w, err)
		return
	}
	var found []*T
	for i := range all {
		if match(&all[i]) {
			found = append(found, &all[i])
		}
	}
	show := projection(r, schema)
	answerList(w, r, len(found), func(i int) any { return show(view(found[i])) })
}

// answerList writes the page of a list (startIndex, count) of n
// resources, made one at a time by element.
func answerList(w http.ResponseWriter, r *http.Request, n int, element func(i int) any) {
	start, count, err := scimPage(r.URL.Query())
	if err != nil {
		scimEditError(w, err)
		return
	}
	from := min(start-1, n)
	to := min(from+count, n)
	l := scimList{Schemas: []string{scimListSchema}, TotalResults: n, StartIndex: start, Resources: []any{}}
	for i := from; i < to; i++ {
		l.Resources = append(l.Resources, element(i))
	}
	l.ItemsPerPage = len(l.Resources)
	writeSCIM(w, http.StatusOK, l)
}

// projection is what the attributes and excludedAttributes parameters of
// a GET (RFC 7644 section 3.4.2.5) make of a resource: only the attributes
// named (a sub-attribute, name.formatted, keeps its attribute whole), or
// all but those named (a sub-attribute, emails.type, is left out of its
// attribute alone); id and schemas always. Neither: the resource as it
// is. Entra reads groups with excludedAttributes=members.
func projection(r *http.Request, schema string) func(any) any {
	q := r.URL.Query()
	only := attrSet(q.Get("attributes"), schema)
	except, exceptSubs := excludedSet(q.Get("excludedAttributes"), schema)
	if only == nil && except == nil && exceptSubs == nil {
		return func(v any) any { return v }
	}
	return func(v any) any {
		raw, err := json.Marshal(v)
		var m map[string]any
		if err != nil || json.Unmarshal(raw, &m) != nil {
			return v
		}
		for k := range m {
			lk := strings.ToLower(k)
			if lk == "id" || lk == "schemas" {
				continue
			}
			if (only != nil && !only[lk]) || except[lk] {
				delete(m, k)
			} else if subs := exceptSubs[lk]; subs != nil {
				if left := withoutSubs(m[k], subs); left != nil {
					m[k] = left
				} else {
					delete(m, k)
				}
			}
		}
		return m
	}
}

// excludedSet is an excludedAttributes list: the lower-case names of the
// attributes left out whole, and of those left out of an attribute
// (name.givenName: subs["name"]["givenname"]); nil for none.
func excludedSet(list, schema string) (whole map[string]bool, subs map[string]map[string]bool) {
	prefix := strings.ToLower(schema) + ":"
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(n)), prefix)
		top, sub, isSub := strings.Cut(n, ".")
		switch {
		case n == "":
		case !isSub:
			if whole == nil {
				whole = map[string]bool{}
			}
			whole[top] = true
		default:
			if subs == nil {
				subs = map[string]map[string]bool{}
			}
			if subs[top] == nil {
				subs[top] = map[string]bool{}
			}
			subs[top][sub] = true
		}
	}
	return whole, subs
}

// withoutSubs is an attribute's value without the sub-attributes subs
// (lower case): of its object, or of each object of its list; nil when
// nothing is left.
func withoutSubs(v any, subs map[string]bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k := range x {
			if subs[strings.ToLower(k)] {
				delete(x, k)
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		var kept []any
		for _, e := range x {
			if e = withoutSubs(e, subs); e != nil {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		return kept
	}
	return v
}

// attrSet is a comma-separated list of attribute names as the lower-case
// names of their top-level attributes; nil for none.
func attrSet(list, schema string) map[string]bool {
	if strings.TrimSpace(list) == "" {
		return nil
	}
	set := map[string]bool{}
	prefix := strings.ToLower(schema) + ":"
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(n)), prefix)
		n, _, _ = strings.Cut(n, ".")
		set[n] = true
	}
	return set
}

// IsSCIM reports whether path (as the API sees it: a tenant's prefix
// taken off) is under the SCIM endpoints, whose refusals are SCIM errors.
func IsSCIM(path string) bool {
	return strings.HasPrefix(path, scimPrefix) || path == strings.TrimSuffix(scimPrefix, "/")
}

// SCIMError writes a SCIM error (RFC 7644 section 3.12) without a
// scimType: for a refusal made in front of the API (the host guard).
func SCIMError(w http.ResponseWriter, status int, detail string) {
	scimError(w, status, "", detail)
}
