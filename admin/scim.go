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
// rename), userName its username, active the opposite of disabled,
// emails (the primary) its email, name.formatted and displayName its
// name; a password sent with POST or PUT is stored as password_bcrypt. A
// SCIM Group is a configuration group: id and displayName are its name,
// and its members are the users that list it (User.Groups), so a change of
// members is one edit of those users.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/xaa-idp/xaa-idp/idp"
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
	if a.store == nil {
		scimError(w, http.StatusNotImplemented, "", noStore)
		return nil
	}
	ch := a.editAs(w, r, map[string]any{"via": "scim"}, scimEditError, func(tag string, j policy.EditOption) (*policy.Change, error) {
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
		scimType, detail := "", f.desc
		switch f.status {
		case http.StatusBadRequest:
			scimType = "invalidSyntax"
		case http.StatusUnsupportedMediaType:
			detail = "send the body as application/scim+json (or application/json)"
		}
		scimError(w, f.status, scimType, detail)
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

// The attributes a SCIM body or PATCH path may name: RFC 7643's common
// ones (section 3.1) and those of its User (section 4.1) and Group
// (section 4.2) schemas, with their sub-attributes, kept or not; and any
// extension's (a URN). Another name is refused, so that a misspelt
// "actve": false is not taken for nothing (CONTRACT: an unknown field
// is 400 and changes nothing).
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

// knownAttr reports whether path (lower case, the core schema's URN
// taken off) names an attribute of known, or an extension's.
func knownAttr(path string, known map[string]bool) bool {
	if strings.HasPrefix(path, "urn:") {
		return true
	}
	name, _, _ := strings.Cut(path, "[")
	name, _, _ = strings.Cut(name, ".")
	return known[name]
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
	UserName    string      `json:"userName"`
	Name        *scimName   `json:"name,omitempty"`
	DisplayName string      `json:"displayName,omitempty"`
	Emails      []scimEmail `json:"emails,omitempty"`
	Active      bool        `json:"active"`
	Groups      []scimRef   `json:"groups"`
	Meta        scimMeta    `json:"meta"`
}

func (a *API) scimUserOf(u *policy.User, version string) scimUser {
	base := a.scimBase()
	su := scimUser{
		Schemas: []string{scimUserSchema}, ID: u.Sub, UserName: u.Username, DisplayName: u.Name, Active: u.Active(),
		Groups: []scimRef{},
		Meta:   scimMeta{ResourceType: "User", Location: base + "/Users/" + url.PathEscape(u.Sub), Version: version},
	}
	if u.Name != "" {
		su.Name = &scimName{Formatted: u.Name}
	}
	if u.Email != "" {
		su.Emails = []scimEmail{{Value: u.Email, Type: "work", Primary: true}}
	}
	for _, g := range u.Groups {
		su.Groups = append(su.Groups, scimRef{Value: g, Display: g, Ref: base + "/Groups/" + url.PathEscape(g), Type: "direct"})
	}
	return su
}

// scimGroup is a group as SCIM shows it.
type scimGroup struct {
	Schemas     []string  `json:"schemas"`
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Members     []scimRef `json:"members"`
	Meta        scimMeta  `json:"meta"`
}

func (a *API) scimGroupOf(cfg *policy.Config, g *policy.Group, version string) scimGroup {
	base := a.scimBase()
	sg := scimGroup{
		Schemas: []string{scimGroupSchema}, ID: g.Name, DisplayName: g.Name, Members: []scimRef{},
		Meta: scimMeta{ResourceType: "Group", Location: base + "/Groups/" + url.PathEscape(g.Name), Version: version},
	}
	for i := range cfg.Users {
		if u := &cfg.Users[i]; u.InGroup(g.Name) {
			sg.Members = append(sg.Members, scimRef{Value: u.Sub, Display: u.Username, Ref: base + "/Users/" + url.PathEscape(u.Sub), Type: "User"})
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
		if start, err = strconv.Atoi(v); err != nil {
			return 0, 0, scimFail(http.StatusBadRequest, "invalidValue", "startIndex must be an integer")
		}
		start = max(start, 1)
	}
	if v := q.Get("count"); v != "" {
		if count, err = strconv.Atoi(v); err != nil {
			return 0, 0, scimFail(http.StatusBadRequest, "invalidValue", "count must be an integer")
		}
		count = min(max(count, 0), scimMaxResults)
	}
	return start, count, nil
}

// scimFilter is a filter of the form `attribute eq value` (RFC 7644
// section 3.4.2.2): the one form provisioning clients send to find a
// resource. value is a string or a boolean.
type scimFilter struct {
	attr  string // lower case, without the schema's URN
	value any
}

// parseSCIMFilter reads a filter; "" is none. Another operator, a
// logical expression or a value path is invalidFilter.
func parseSCIMFilter(s, schema string) (*scimFilter, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	attr, rest, _ := strings.Cut(s, " ")
	op, value, _ := strings.Cut(strings.TrimSpace(rest), " ")
	bad := func(why string) error {
		return scimFail(http.StatusBadRequest, "invalidFilter", "filter %q: %s; this server takes `attribute eq \"value\"` only", s, why)
	}
	if !strings.EqualFold(op, "eq") {
		return nil, bad("the operator " + strconv.Quote(op) + " is not supported")
	}
	var v any
	value = strings.TrimSpace(value)
	dec := json.NewDecoder(strings.NewReader(value))
	if err := dec.Decode(&v); err != nil || dec.InputOffset() != int64(len(value)) {
		return nil, bad("the value is not one JSON string or boolean")
	}
	switch v.(type) {
	case string, bool:
	default:
		return nil, bad("the value is not one JSON string or boolean")
	}
	attr = strings.TrimPrefix(strings.ToLower(attr), strings.ToLower(schema)+":")
	return &scimFilter{attr: attr, value: v}, nil
}

// userMatcher is f as a test of users; an attribute it cannot filter on is
// invalidFilter.
func userMatcher(f *scimFilter) (func(*policy.User) bool, error) {
	if f == nil {
		return func(*policy.User) bool { return true }, nil
	}
	s, isString := f.value.(string)
	b, isBool := f.value.(bool)
	switch {
	case f.attr == "username" && isString:
		return func(u *policy.User) bool { return strings.EqualFold(u.Username, s) }, nil
	case f.attr == "id" && isString:
		return func(u *policy.User) bool { return u.Sub == s }, nil
	case f.attr == "externalid" && isString:
		// externalId is not kept (docs/http.md): no user has one.
		return func(*policy.User) bool { return false }, nil
	case (f.attr == "emails" || f.attr == "emails.value") && isString:
		return func(u *policy.User) bool { return u.Email != "" && strings.EqualFold(u.Email, s) }, nil
	case (f.attr == "displayname" || f.attr == "name.formatted") && isString:
		return func(u *policy.User) bool { return u.Name != "" && strings.EqualFold(u.Name, s) }, nil
	case f.attr == "active" && isBool:
		return func(u *policy.User) bool { return u.Active() == b }, nil
	}
	return nil, scimFail(http.StatusBadRequest, "invalidFilter",
		"cannot filter users on %s with a %T; filter on userName, id, externalId, emails, displayName (strings) or active (boolean)", f.attr, f.value)
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

func (a *API) scimListUsers(w http.ResponseWriter, r *http.Request) {
	cfg, tag := a.view()
	f, err := parseSCIMFilter(r.URL.Query().Get("filter"), scimUserSchema)
	if err != nil {
		scimEditError(w, err)
		return
	}
	match, err := userMatcher(f)
	if err != nil {
		scimEditError(w, err)
		return
	}
	var found []*policy.User
	for i := range cfg.Users {
		if match(&cfg.Users[i]) {
			found = append(found, &cfg.Users[i])
		}
	}
	answerList(w, r, len(found), func(i int) any { return a.scimUserOf(found[i], tag) })
}

func (a *API) scimGetUser(w http.ResponseWriter, r *http.Request) {
	cfg, tag := a.view()
	u := cfg.UserBySub(r.PathValue("id"))
	if u == nil {
		scimError(w, http.StatusNotFound, "", fmt.Sprintf("there is no user with id %q", r.PathValue("id")))
		return
	}
	if tag != "" {
		w.Header().Set("ETag", tag)
	}
	writeSCIM(w, http.StatusOK, a.scimUserOf(u, tag))
}

// scimUserInput is what a POST or PUT of a User says, in the
// configuration's terms.
type scimUserInput struct {
	userName   string
	name       string
	email      string
	active     *bool
	passwordBc string // the password's bcrypt hash; "" when none was sent
}

// readSCIMUser reads a User body (POST, PUT). Read-only attributes (id,
// meta, groups) are ignored, as RFC 7644 section 3.3 says; so are the
// attributes the configuration has no place for (externalId, phone
// numbers, the enterprise extension...).
func readSCIMUser(body map[string]any) (*scimUserInput, error) {
	m := scimAttrs(body, scimUserSchema)
	if err := unknownAttr(m, scimUserAttrs, "the User"); err != nil {
		return nil, err
	}
	in := &scimUserInput{}
	v, ok := m["username"]
	if s, isString := v.(string); !ok || !isString || strings.TrimSpace(s) == "" {
		return nil, scimFail(http.StatusBadRequest, "invalidValue", "userName is required: a non-empty string")
	}
	in.userName = v.(string)
	if err := userNameBound(in.userName); err != nil {
		return nil, err
	}
	if v, ok := m["active"]; ok {
		b, err := scimBool(v)
		if err != nil {
			return nil, err
		}
		in.active = &b
	}
	// The name: displayName, else name.formatted, else name.givenName
	// and name.familyName.
	if v, ok := m["name"]; ok {
		name, ok := v.(map[string]any)
		if !ok {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "name must be an object")
		}
		nm := scimAttrs(name, "")
		if err := unknownAttr(nm, scimNameAttrs, "name"); err != nil {
			return nil, err
		}
		if f, err := scimString(nm, "formatted", "name.formatted"); err != nil {
			return nil, err
		} else if f != "" {
			in.name = f
		} else {
			given, err1 := scimString(nm, "givenname", "name.givenName")
			family, err2 := scimString(nm, "familyname", "name.familyName")
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			in.name = strings.TrimSpace(given + " " + family)
		}
	}
	if d, err := scimString(m, "displayname", "displayName"); err != nil {
		return nil, err
	} else if d != "" {
		in.name = d
	}
	if v, ok := m["emails"]; ok {
		e, err := primaryEmail(v)
		if err != nil {
			return nil, err
		}
		in.email = e
	}
	if v, ok := m["password"]; ok {
		pw, isString := v.(string)
		if !isString {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "password must be a string")
		}
		hash, err := hashPassword(pw)
		if err != nil {
			return nil, err
		}
		in.passwordBc = hash
	}
	return in, nil
}

// userNameBound refuses a userName longer than the login form takes: the
// user could never log in.
func userNameBound(name string) error {
	if len(name) > idp.MaxUsernameBytes {
		return scimFail(http.StatusBadRequest, "invalidValue", "userName is longer than %d bytes, which no login takes", idp.MaxUsernameBytes)
	}
	return nil
}

// scimString is the string attribute key of m, "" when absent; what names
// it in an error.
func scimString(m map[string]any, key, what string) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", nil
	}
	s, isString := v.(string)
	if !isString {
		return "", scimFail(http.StatusBadRequest, "invalidValue", "%s must be a string", what)
	}
	return s, nil
}

// scimBool reads a boolean; the strings "true" and "false" (any case) too,
// which Microsoft Entra sends for active in a PATCH.
func scimBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.ToLower(x)); err == nil && (strings.EqualFold(x, "true") || strings.EqualFold(x, "false")) {
			return b, nil
		}
	}
	return false, scimFail(http.StatusBadRequest, "invalidValue", "active must be a boolean")
}

// primaryEmail is the email of an emails list: the primary one, else the
// first; "" for an empty list. The configuration keeps one email.
func primaryEmail(v any) (string, error) {
	if obj, ok := v.(map[string]any); ok {
		v = []any{obj} // one email, sent without its list
	}
	list, ok := v.([]any)
	if !ok {
		return "", scimFail(http.StatusBadRequest, "invalidValue", "emails must be a list of {\"value\", \"type\", \"primary\"}")
	}
	email := ""
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return "", scimFail(http.StatusBadRequest, "invalidValue", "emails[%d] must be an object with value", i)
		}
		em := scimAttrs(obj, "")
		if err := unknownAttr(em, scimMultiAttrs, fmt.Sprintf("emails[%d]", i)); err != nil {
			return "", err
		}
		value, err := scimString(em, "value", fmt.Sprintf("emails[%d].value", i))
		if err != nil {
			return "", err
		}
		primary, _ := em["primary"].(bool)
		if s, isString := em["primary"].(string); isString {
			primary = strings.EqualFold(s, "true")
		}
		if i == 0 || primary {
			email = value
		}
		if primary {
			break
		}
	}
	return email, nil
}

// hashPassword is the bcrypt hash of a password sent by SCIM, which the
// file keeps as password_bcrypt: never the password itself.
func hashPassword(pw string) (string, error) {
	if pw == "" || len(pw) > 72 || len(pw) > idp.MaxPasswordBytes {
		return "", scimFail(http.StatusBadRequest, "invalidValue", "password must be 1 to 72 bytes (bcrypt's limit)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", scimFail(http.StatusBadRequest, "invalidValue", "the password cannot be hashed: %v", err)
	}
	return string(h), nil
}

// unknownPassword is the password_bcrypt of a user created without a
// password: the hash of a random one nobody knows (the configuration
// requires a password; the user cannot log in until one is set).
func unknownPassword() (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(b)[:64]), bcrypt.DefaultCost)
	return string(h), err
}

// takenUserName refuses a userName another user than self (a sub; "" for
// none) has, compared without case as SCIM compares userName.
func takenUserName(cur *policy.Config, name, self string) error {
	for i := range cur.Users {
		if u := &cur.Users[i]; u.Sub != self && strings.EqualFold(u.Username, name) {
			return scimFail(http.StatusConflict, "uniqueness", "userName %q is taken by the user with id %q", name, u.Sub)
		}
	}
	return nil
}

func userAfter(sub string) func(*policy.Config) any {
	return func(next *policy.Config) any {
		if u := next.UserBySub(sub); u != nil {
			return *u
		}
		return nil
	}
}

func cloneUser(u policy.User) policy.User {
	u.Groups = slices.Clone(u.Groups)
	return u
}

// setSecret makes hash the user's password (password_bcrypt).
func setSecret(u *policy.User, hash string) {
	u.Password, u.PasswordBcrypt = "", hash
}

// scimCreateUser is POST /Users: 201 with the user, its Location and
// ETag; a userName taken is 409 uniqueness.
func (a *API) scimCreateUser(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	in, err := readSCIMUser(body)
	if err == nil && in.passwordBc == "" {
		in.passwordBc, err = unknownPassword()
	}
	if err != nil {
		scimEditError(w, err)
		return
	}
	var sub string
	ch := a.scimEdit(w, r, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		if err := takenUserName(cur, in.userName, ""); err != nil {
			return policy.Batch{}, nil, err
		}
		u := policy.User{Username: in.userName, Name: in.name, Email: in.email, Sub: policy.DefaultSub(in.userName)}
		if cur.UserBySub(u.Sub) != nil {
			// A renamed user keeps its sub, which may be this name's
			// default one: the new user gets another.
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			u.Sub = "u-" + hex.EncodeToString(b)
		}
		sub = u.Sub
		u.Disabled = in.active != nil && !*in.active
		setSecret(&u, in.passwordBc)
		return policy.Batch{Users: []policy.UserEdit{{User: u}}}, &policy.Change{Kind: "user", Op: "create", Name: u.Username}, nil
	}, func(next *policy.Config) any { return userAfter(sub)(next) })
	if ch == nil {
		return
	}
	u := ch.Config.UserBySub(sub)
	su := a.scimUserOf(u, etag(ch.Version))
	w.Header().Set("Location", su.Meta.Location)
	w.Header().Set("ETag", etag(ch.Version))
	writeSCIM(w, http.StatusCreated, su)
}

// scimReplaceUser is PUT /Users/{id}: userName, the name, the email and
// (when sent) active and the password are replaced; an attribute left out
// is cleared, but for active and the password, which are kept. A new
// userName renames the user; its id stays.
func (a *API) scimReplaceUser(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	in, err := readSCIMUser(body)
	if err != nil {
		scimEditError(w, err)
		return
	}
	id := r.PathValue("id")
	a.scimChangeUser(w, r, id, func(cur *policy.Config, u *policy.User) error {
		if in.userName != u.Username {
			if err := takenUserName(cur, in.userName, u.Sub); err != nil {
				return err
			}
		}
		u.Username, u.Name, u.Email = in.userName, in.name, in.email
		if in.active != nil {
			u.Disabled = !*in.active
		}
		if in.passwordBc != "" {
			setSecret(u, in.passwordBc)
		}
		return nil
	})
}

// scimChangeUser runs change on a copy of the user with this id, as the
// running configuration holds it under the edit's lock, and answers the
// user as changed (200).
func (a *API) scimChangeUser(w http.ResponseWriter, r *http.Request, id string, change func(cur *policy.Config, u *policy.User) error) {
	ch := a.scimEdit(w, r, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		old := cur.UserBySub(id)
		if old == nil {
			return policy.Batch{}, nil, scimFail(http.StatusNotFound, "", "there is no user with id %q", id)
		}
		u := cloneUser(*old)
		if err := change(cur, &u); err != nil {
			return policy.Batch{}, nil, err
		}
		return policy.Batch{Users: []policy.UserEdit{{Username: old.Username, User: u}}},
			&policy.Change{Kind: "user", Op: "replace", Name: u.Username, Before: *old}, nil
	}, userAfter(id))
	if ch == nil {
		return
	}
	u := ch.Config.UserBySub(id)
	if u == nil {
		scimError(w, http.StatusNotFound, "", fmt.Sprintf("there is no user with id %q", id))
		return
	}
	w.Header().Set("ETag", etag(ch.Version))
	writeSCIM(w, http.StatusOK, a.scimUserOf(u, etag(ch.Version)))
}

func (a *API) scimDeleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ch := a.scimEdit(w, r, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		old := cur.UserBySub(id)
		if old == nil {
			return policy.Batch{}, nil, scimFail(http.StatusNotFound, "", "there is no user with id %q", id)
		}
		return policy.Batch{Users: []policy.UserEdit{{Username: old.Username, Delete: true}}},
			&policy.Change{Kind: "user", Op: "delete", Name: old.Username, Before: *old}, nil
	}, nil)
	if ch != nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}

// scimOp is one operation of a PATCH (RFC 7644 section 3.5.2); op is
// lower case ("Replace", which Entra sends, is replace).
type scimOp struct {
	op, path string
	value    any
	hasValue bool
}

// readPatch reads a PatchOp body.
func readPatch(body map[string]any) ([]scimOp, error) {
	m := scimAttrs(body, "")
	if err := unknownAttr(m, scimPatchAttrs, "the PatchOp"); err != nil {
		return nil, err
	}
	list, ok := m["operations"].([]any)
	if !ok || len(list) == 0 {
		return nil, scimFail(http.StatusBadRequest, "invalidSyntax", "a PATCH body is {\"schemas\": [%q], \"Operations\": [{\"op\", \"path\", \"value\"}, ...]}", scimPatchSchema)
	}
	ops := make([]scimOp, len(list))
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, scimFail(http.StatusBadRequest, "invalidSyntax", "Operations[%d] is not an object", i)
		}
		om := scimAttrs(obj, "")
		if err := unknownAttr(om, scimPatchOpAttr, fmt.Sprintf("Operations[%d]", i)); err != nil {
			return nil, err
		}
		op, _ := om["op"].(string)
		op = strings.ToLower(op)
		if op != "add" && op != "replace" && op != "remove" {
			return nil, scimFail(http.StatusBadRequest, "invalidSyntax", "Operations[%d].op must be add, replace or remove", i)
		}
		path, isString := om["path"].(string)
		if _, given := om["path"]; given && !isString {
			return nil, scimFail(http.StatusBadRequest, "invalidPath", "Operations[%d].path must be a string", i)
		}
		v, has := om["value"]
		path = strings.TrimSpace(path)
		if !has && path != "" && slices.ContainsFunc(slices.Collect(maps.Keys(obj)), func(k string) bool { return strings.EqualFold(k, "value") }) {
			// "value": null unassigns the attribute (RFC 7643 section
			// 2.5): a remove.
			op = "remove"
		}
		ops[i] = scimOp{op: op, path: path, value: v, hasValue: has}
		switch {
		case op != "remove" && !has:
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "Operations[%d] (%s) needs a value", i, op)
		case op == "remove" && ops[i].path == "" && !has:
			return nil, scimFail(http.StatusBadRequest, "noTarget", "Operations[%d] (remove) needs a path", i)
		}
	}
	return ops, nil
}

func (a *API) scimPatchUser(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	ops, err := readPatch(body)
	if err != nil {
		scimEditError(w, err)
		return
	}
	id := r.PathValue("id")
	a.scimChangeUser(w, r, id, func(cur *policy.Config, u *policy.User) error {
		oldName := u.Username
		for _, op := range ops {
			if op.path == "" {
				// The value-object form (Okta, Entra): each member is
				// an attribute to set.
				obj, ok := op.value.(map[string]any)
				if !ok {
					return scimFail(http.StatusBadRequest, "invalidValue", "a %s without a path needs an object value", op.op)
				}
				if op.op == "remove" {
					return scimFail(http.StatusBadRequest, "noTarget", "remove needs a path")
				}
				attrs := scimAttrs(obj, scimUserSchema)
				if err := unknownAttr(attrs, scimUserAttrs, "the value of "+op.op); err != nil {
					return err
				}
				for k, v := range attrs {
					if err := patchUserAttr(u, op.op, k, v); err != nil {
						return err
					}
				}
				continue
			}
			path := strings.TrimPrefix(strings.ToLower(op.path), strings.ToLower(scimUserSchema)+":")
			if !knownAttr(path, scimUserAttrs) {
				return scimFail(http.StatusBadRequest, "invalidPath", "path %q names no attribute of the User schema (RFC 7643); nothing was changed", op.path)
			}
			if err := patchUserAttr(u, op.op, path, op.value); err != nil {
				return err
			}
		}
		if u.Username != oldName {
			return takenUserName(cur, u.Username, u.Sub)
		}
		return nil
	})
}

// patchUserAttr applies one add, replace or remove of the attribute at
// path (lower case) to u. Attributes the configuration has no place for
// are accepted and not kept, as in a POST.
func patchUserAttr(u *policy.User, op, path string, v any) error {
	remove := op == "remove"
	str := func(what string) (string, error) {
		s, ok := v.(string)
		if !ok {
			return "", scimFail(http.StatusBadRequest, "invalidValue", "%s must be a string", what)
		}
		return s, nil
	}
	emailPath := strings.HasPrefix(path, "emails[") || path == "emails.value"
	switch {
	case path == "username":
		if remove {
			return scimFail(http.StatusBadRequest, "invalidValue", "userName is required; it cannot be removed")
		}
		s, err := str("userName")
		if err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			return scimFail(http.StatusBadRequest, "invalidValue", "userName must not be empty")
		}
		if err := userNameBound(s); err != nil {
			return err
		}
		u.Username = s
	case path == "active":
		if remove {
			return scimFail(http.StatusBadRequest, "invalidValue", "active cannot be removed; replace it with true or false")
		}
		b, err := scimBool(v)
		if err != nil {
			return err
		}
		u.Disabled = !b
	case path == "displayname" || path == "name.formatted":
		if remove {
			u.Name = ""
			return nil
		}
		s, err := str(path)
		if err != nil {
			return err
		}
		u.Name = s
	case path == "name":
		if remove {
			u.Name = ""
			return nil
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return scimFail(http.StatusBadRequest, "invalidValue", "name must be an object")
		}
		nm := scimAttrs(obj, "")
		if err := unknownAttr(nm, scimNameAttrs, "name"); err != nil {
			return err
		}
		if f, err := scimString(nm, "formatted", "name.formatted"); err != nil {
			return err
		} else if f != "" {
			u.Name = f
		}
	case path == "emails":
		if remove {
			u.Email = ""
			return nil
		}
		e, err := primaryEmail(v)
		if err != nil {
			return err
		}
		u.Email = e
	case emailPath:
		// emails[type eq "work"].value and the like: the one email.
		if remove {
			u.Email = ""
			return nil
		}
		if obj, ok := v.(map[string]any); ok && !strings.HasSuffix(path, ".value") {
			s, err := scimString(scimAttrs(obj, ""), "value", "emails.value")
			if err != nil {
				return err
			}
			u.Email = s
			return nil
		}
		s, err := str("emails.value")
		if err != nil {
			return err
		}
		u.Email = s
	case path == "password":
		return scimFail(http.StatusBadRequest, "invalidValue", "the password is set with PUT (or POST), not PATCH (changePassword is not supported)")
	case path == "groups" || strings.HasPrefix(path, "groups["):
		return scimFail(http.StatusBadRequest, "mutability", "groups is read-only: change a group's members with PATCH of the Group")
	case path == "id":
		if s, _ := v.(string); remove || s != u.Sub {
			return scimFail(http.StatusBadRequest, "mutability", "id is read-only")
		}
	}
	return nil
}

// Groups.

func groupMatcher(f *scimFilter) (func(*policy.Group) bool, error) {
	if f == nil {
		return func(*policy.Group) bool { return true }, nil
	}
	s, isString := f.value.(string)
	switch {
	case f.attr == "displayname" && isString:
		// caseExact false (RFC 7643 section 4.2)
		return func(g *policy.Group) bool { return strings.EqualFold(g.Name, s) }, nil
	case f.attr == "id" && isString:
		return func(g *policy.Group) bool { return g.Name == s }, nil
	case f.attr == "externalid" && isString:
		return func(*policy.Group) bool { return false }, nil
	}
	return nil, scimFail(http.StatusBadRequest, "invalidFilter", "cannot filter groups on %s; filter on displayName, id or externalId (strings)", f.attr)
}

func (a *API) scimListGroups(w http.ResponseWriter, r *http.Request) {
	cfg, tag := a.view()
	f, err := parseSCIMFilter(r.URL.Query().Get("filter"), scimGroupSchema)
	if err != nil {
		scimEditError(w, err)
		return
	}
	match, err := groupMatcher(f)
	if err != nil {
		scimEditError(w, err)
		return
	}
	var found []*policy.Group
	for i := range cfg.Groups {
		if match(&cfg.Groups[i]) {
			found = append(found, &cfg.Groups[i])
		}
	}
	answerList(w, r, len(found), func(i int) any { return a.scimGroupOf(cfg, found[i], tag) })
}

func (a *API) scimGetGroup(w http.ResponseWriter, r *http.Request) {
	cfg, tag := a.view()
	g := cfg.Group(r.PathValue("id"))
	if g == nil {
		scimError(w, http.StatusNotFound, "", fmt.Sprintf("there is no group with id %q", r.PathValue("id")))
		return
	}
	if tag != "" {
		w.Header().Set("ETag", tag)
	}
	writeSCIM(w, http.StatusOK, a.scimGroupOf(cfg, g, tag))
}

// memberSubs reads a members value: a list of {"value": <user id>}.
func memberSubs(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, scimFail(http.StatusBadRequest, "invalidValue", "members must be a list of {\"value\": <user id>}")
	}
	subs := make([]string, 0, len(list))
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "members[%d] must be an object with value", i)
		}
		mm := scimAttrs(obj, "")
		if err := unknownAttr(mm, scimMultiAttrs, fmt.Sprintf("members[%d]", i)); err != nil {
			return nil, err
		}
		s, err := scimString(mm, "value", fmt.Sprintf("members[%d].value", i))
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "members[%d].value must be a user's id", i)
		}
		subs = append(subs, s)
	}
	return subs, nil
}

// membership is a group's members being changed: users' subs.
type membership map[string]bool

func membersOf(cur *policy.Config, group string) membership {
	m := membership{}
	for i := range cur.Users {
		if cur.Users[i].InGroup(group) {
			m[cur.Users[i].Sub] = true
		}
	}
	return m
}

// memberNames are the usernames of a group's members, in the file's
// order: a group's value in its admin_change.
func memberNames(cfg *policy.Config, group string) []string {
	names := []string{}
	for i := range cfg.Users {
		if cfg.Users[i].InGroup(group) {
			names = append(names, cfg.Users[i].Username)
		}
	}
	return names
}

// memberEdits are the edits of the users of cur that make want the
// members of group: one Batch, so that no half of them is made. A sub in
// want that no user has is invalidValue.
func memberEdits(cur *policy.Config, group string, want membership) ([]policy.UserEdit, error) {
	for sub := range want {
		if cur.UserBySub(sub) == nil {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "members: there is no user with id %q", sub)
		}
	}
	var edits []policy.UserEdit
	for i := range cur.Users {
		u := &cur.Users[i]
		if u.InGroup(group) == want[u.Sub] {
			continue
		}
		nu := cloneUser(*u)
		if want[u.Sub] {
			nu.Groups = append(nu.Groups, group)
		} else {
			nu.Groups = slices.DeleteFunc(nu.Groups, func(g string) bool { return g == group })
		}
		edits = append(edits, policy.UserEdit{Username: u.Username, User: nu})
	}
	return edits, nil
}

// scimChangeMembers changes the members of the group with this id
// (which change makes of its current ones, under the edit's lock) in one
// edit, and answers the group (200).
func (a *API) scimChangeMembers(w http.ResponseWriter, r *http.Request, id string, change func(m membership) error) {
	ch := a.scimEdit(w, r, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		if cur.Group(id) == nil {
			return policy.Batch{}, nil, scimFail(http.StatusNotFound, "", "there is no group with id %q", id)
		}
		m := membersOf(cur, id)
		if err := change(m); err != nil {
			return policy.Batch{}, nil, err
		}
		edits, err := memberEdits(cur, id, m)
		if err != nil {
			return policy.Batch{}, nil, err
		}
		return policy.Batch{Users: edits}, &policy.Change{Kind: "group members", Op: "replace", Name: id, Before: memberNames(cur, id)}, nil
	}, func(next *policy.Config) any { return memberNames(next, id) })
	if ch == nil {
		return
	}
	g := ch.Config.Group(id)
	if g == nil {
		scimError(w, http.StatusNotFound, "", fmt.Sprintf("there is no group with id %q", id))
		return
	}
	w.Header().Set("ETag", etag(ch.Version))
	writeSCIM(w, http.StatusOK, a.scimGroupOf(ch.Config, g, etag(ch.Version)))
}

// sameGroupName refuses a displayName or id other than the group's: a
// group is renamed by creating the new one (its name is its id, and
// access lists name it).
func sameGroupName(id string, v any, what string) error {
	if s, ok := v.(string); !ok || s != id {
		return scimFail(http.StatusBadRequest, "mutability", "%s is the group's name, %q, and cannot be changed here: create the new group, move the members and the access entries, and delete this one", what, id)
	}
	return nil
}

func (a *API) scimPatchGroup(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	ops, err := readPatch(body)
	if err != nil {
		scimEditError(w, err)
		return
	}
	id := r.PathValue("id")
	a.scimChangeMembers(w, r, id, func(m membership) error {
		for _, op := range ops {
			path := op.path
			if path == "" {
				obj, ok := op.value.(map[string]any)
				if !ok || op.op == "remove" {
					return scimFail(http.StatusBadRequest, "invalidValue", "an add or replace without a path needs an object value")
				}
				attrs := scimAttrs(obj, scimGroupSchema)
				if err := unknownAttr(attrs, scimGroupAttrs, "the value of "+op.op); err != nil {
					return err
				}
				for k, v := range attrs {
					if err := patchGroupAttr(m, id, op.op, k, v, true); err != nil {
						return err
					}
				}
				continue
			}
			if len(path) > len(scimGroupSchema) && strings.EqualFold(path[:len(scimGroupSchema)+1], scimGroupSchema+":") {
				path = path[len(scimGroupSchema)+1:]
			}
			if !knownAttr(strings.ToLower(path), scimGroupAttrs) {
				return scimFail(http.StatusBadRequest, "invalidPath", "path %q names no attribute of the Group schema (RFC 7643); nothing was changed", op.path)
			}
			if err := patchGroupAttr(m, id, op.op, path, op.value, op.hasValue); err != nil {
				return err
			}
		}
		return nil
	})
}

// patchGroupAttr applies one operation on a group's attribute to its
// members m: members (add, remove with a value or without one for all,
// replace), members[value eq "<id>"] (remove), displayName and id (only
// as they are).
func patchGroupAttr(m membership, id, op, path string, v any, hasValue bool) error {
	lower := strings.ToLower(path)
	switch {
	case lower == "members":
		if op == "remove" && !hasValue {
			clear(m)
			return nil
		}
		subs, err := memberSubs(v)
		if err != nil {
			return err
		}
		if op == "replace" {
			clear(m)
		}
		for _, s := range subs {
			if op == "remove" {
				delete(m, s)
			} else {
				m[s] = true
			}
		}
	case strings.HasPrefix(lower, "members["):
		if op != "remove" {
			return scimFail(http.StatusBadRequest, "invalidPath", "%s: only remove takes a filtered members path", path)
		}
		f, err := parseSCIMFilter(strings.TrimSuffix(path[len("members["):], "]"), "")
		if err != nil || f.attr != "value" || !strings.HasSuffix(path, "]") {
			return scimFail(http.StatusBadRequest, "invalidPath", "%s: the members path takes [value eq \"<user id>\"]", path)
		}
		s, _ := f.value.(string)
		if !m[s] {
			return scimFail(http.StatusBadRequest, "noTarget", "user %q is not a member of group %q", s, id)
		}
		delete(m, s)
	case lower == "displayname" || lower == "id":
		if op == "remove" {
			return scimFail(http.StatusBadRequest, "mutability", "%s cannot be removed", path)
		}
		return sameGroupName(id, v, path)
	}
	// externalId, schemas, meta and the like: not kept.
	return nil
}

// scimCreateGroup is POST /Groups: the group, and its members if any, in
// one edit; 201. A name taken is 409 uniqueness.
func (a *API) scimCreateGroup(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	m := scimAttrs(body, scimGroupSchema)
	err := unknownAttr(m, scimGroupAttrs, "the Group")
	name := ""
	if err == nil {
		name, err = scimString(m, "displayname", "displayName")
	}
	if err == nil && strings.TrimSpace(name) == "" {
		err = scimFail(http.StatusBadRequest, "invalidValue", "displayName is required: the group's name")
	}
	var subs []string
	if v, ok := m["members"]; ok && err == nil {
		subs, err = memberSubs(v)
	}
	if err != nil {
		scimEditError(w, err)
		return
	}
	ch := a.scimEdit(w, r, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		if cur.Group(name) != nil {
			return policy.Batch{}, nil, scimFail(http.StatusConflict, "uniqueness", "there is a group %q already", name)
		}
		want := membership{}
		for _, s := range subs {
			want[s] = true
		}
		edits, err := memberEdits(cur, name, want)
		if err != nil {
			return policy.Batch{}, nil, err
		}
		return policy.Batch{Users: edits, Groups: []policy.GroupEdit{{Group: policy.Group{Name: name}}}},
			&policy.Change{Kind: "group", Op: "create", Name: name}, nil
	}, func(next *policy.Config) any {
		if g := next.Group(name); g != nil {
			return groupView(next, g)
		}
		return nil
	})
	if ch == nil {
		return
	}
	sg := a.scimGroupOf(ch.Config, ch.Config.Group(name), etag(ch.Version))
	w.Header().Set("Location", sg.Meta.Location)
	w.Header().Set("ETag", etag(ch.Version))
	writeSCIM(w, http.StatusCreated, sg)
}

// scimReplaceGroup is PUT /Groups/{id}: the members become those sent
// (none when left out); displayName must be the group's.
func (a *API) scimReplaceGroup(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	m := scimAttrs(body, scimGroupSchema)
	err := unknownAttr(m, scimGroupAttrs, "the Group")
	if v, ok := m["displayname"]; ok && err == nil {
		err = sameGroupName(id, v, "displayName")
	}
	var subs []string
	if v, ok := m["members"]; ok && err == nil {
		subs, err = memberSubs(v)
	}
	if err != nil {
		scimEditError(w, err)
		return
	}
	a.scimChangeMembers(w, r, id, func(m membership) error {
		clear(m)
		for _, s := range subs {
			m[s] = true
		}
		return nil
	})
}

// scimDeleteGroup is DELETE /Groups/{id}: the group, and its place in its
// members' groups, in one edit. A group an access or deny list names
// cannot be deleted (400 invalidValue, with the lines).
func (a *API) scimDeleteGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ch := a.scimEdit(w, r, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		g := cur.Group(id)
		if g == nil {
			return policy.Batch{}, nil, scimFail(http.StatusNotFound, "", "there is no group with id %q", id)
		}
		edits, err := memberEdits(cur, id, membership{})
		if err != nil {
			return policy.Batch{}, nil, err
		}
		return policy.Batch{Users: edits, Groups: []policy.GroupEdit{{Name: id, Delete: true}}},
			&policy.Change{Kind: "group", Op: "delete", Name: id, Before: groupView(cur, g)}, nil
	}, nil)
	if ch != nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}
