package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/throttle"
	"github.com/xaa-idp/xaa-idp/policy"
)

// The SCIM Users endpoints (docs/http.md, "SCIM provisioning").

// userMatcher is a filter's comparisons, all of which must hold, as a
// test of users; an attribute it cannot filter on is invalidFilter.
func userMatcher(terms []scimFilter) (func(*policy.User) bool, error) {
	tests := make([]func(*policy.User) bool, len(terms))
	for i, f := range terms {
		test, err := userTerm(f)
		if err != nil {
			return nil, err
		}
		tests[i] = test
	}
	return allOf(tests), nil
}

// allOf is the test that every one of tests passes.
func allOf[T any](tests []func(*T) bool) func(*T) bool {
	return func(v *T) bool {
		for _, test := range tests {
			if !test(v) {
				return false
			}
		}
		return true
	}
}

func userTerm(f scimFilter) (func(*policy.User) bool, error) {
	s, isString := f.value.(string)
	b, isBool := f.value.(bool)
	switch {
	case f.attr == "username" && isString:
		return func(u *policy.User) bool { return policy.EqualASCIIFold(u.Username, s) }, nil
	case f.attr == "id" && isString:
		return func(u *policy.User) bool { return u.Sub == s }, nil
	case f.attr == "externalid" && isString:
		// caseExact true (RFC 7643 section 3.1)
		return func(u *policy.User) bool { return u.ExternalID != "" && u.ExternalID == s }, nil
	case (f.attr == "emails" || f.attr == "emails.value") && isString:
		// The one email is of type work (scimUserOf).
		if f.emailType != "" && !strings.EqualFold(f.emailType, "work") {
			return func(*policy.User) bool { return false }, nil
		}
		return func(u *policy.User) bool { return u.Email != "" && policy.EqualASCIIFold(u.Email, s) }, nil
	case (f.attr == "displayname" || f.attr == "name.formatted") && isString:
		return func(u *policy.User) bool { return u.Name != "" && policy.EqualASCIIFold(u.Name, s) }, nil
	case f.attr == "active" && isBool:
		return func(u *policy.User) bool { return u.Active() == b }, nil
	}
	return nil, scimFail(http.StatusBadRequest, "invalidFilter",
		"cannot filter users on %s with a %T; filter on userName, id, externalId, emails, displayName (strings) or active (boolean)", f.attr, f.value)
}

func (a *API) scimListUsers(w http.ResponseWriter, r *http.Request) {
	cfg, tag := a.view()
	answerQuery(w, r, scimUserSchema, cfg.Users, userMatcher, func(u *policy.User) any { return a.scimUserOf(cfg, u, tag) })
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
	writeSCIM(w, http.StatusOK, projection(r, scimUserSchema)(a.scimUserOf(cfg, u, tag)))
}

// scimUserInput is what a POST or PUT of a User says, in the
// configuration's terms.
type scimUserInput struct {
	userName   string
	name       string
	email      string
	active     *bool
	passwordBc string // the password's bcrypt hash; "" when none was sent
	// externalID is externalId; nil when none was sent.
	externalID *string
}

// readSCIMUser reads a User body (POST, PUT). Read-only attributes (id,
// meta, groups) are ignored, as RFC 7644 section 3.3 says; so are the
// attributes the configuration has no place for (phone numbers, the
// enterprise extension...).
func readSCIMUser(ctx context.Context, body map[string]any) (*scimUserInput, error) {
	m, err := schemaAttrs(body, scimUserSchema, "the User")
	if err != nil {
		return nil, err
	}
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
	if v, ok := m["externalid"]; ok {
		e, err := externalID(v)
		if err != nil {
			return nil, err
		}
		in.externalID = &e
	} else if nullAttr(body, scimUserSchema, "externalid") {
		// Unassigned (null): a PUT clears it (RFC 7643 section 2.5),
		// where one without it keeps it.
		none := ""
		in.externalID = &none
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
		e, _, err := primaryEmail(v)
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
		hash, err := hashPassword(ctx, pw)
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

// nullAttr reports whether m, a resource of schema, gives attr (in lower
// case) as null, by its name or its URN, which scimAttrs drops.
func nullAttr(m map[string]any, schema, attr string) bool {
	prefix := strings.ToLower(schema) + ":"
	for k, v := range m {
		if v == nil && strings.TrimPrefix(strings.ToLower(k), prefix) == attr {
			return true
		}
	}
	return false
}

// externalID reads an externalId: a string of at most
// policy.MaxNameBytes bytes without control characters ("" clears it).
func externalID(v any) (string, error) {
	s, isString := v.(string)
	switch {
	case !isString:
		return "", scimFail(http.StatusBadRequest, "invalidValue", "externalId must be a string")
	case len(s) > policy.MaxNameBytes:
		return "", scimFail(http.StatusBadRequest, "invalidValue", "externalId is longer than %d bytes", policy.MaxNameBytes)
	case s != "" && policy.UnfitExternalID(s):
		return "", scimFail(http.StatusBadRequest, "invalidValue", "externalId is blank or holds a control character")
	}
	return s, nil
}

// takenExternalID refuses an externalId (not "") that another user than
// self (a sub; "" for none) has, compared byte for byte (caseExact).
func takenExternalID(cur *policy.Config, id, self string) error {
	if id == "" {
		return nil
	}
	for i := range cur.Users {
		if u := &cur.Users[i]; u.Sub != self && u.ExternalID == id {
			return scimFail(http.StatusConflict, "uniqueness", "externalId %q is taken by the user with id %q", id, u.Sub)
		}
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
		switch {
		case strings.EqualFold(x, "true"):
			return true, nil
		case strings.EqualFold(x, "false"):
			return false, nil
		}
	}
	return false, scimFail(http.StatusBadRequest, "invalidValue", "active must be a boolean")
}

// primaryEmail is the email of an emails list: the primary one, else the
// first of type work (or of no type), else the first; "" for an empty
// list. The configuration keeps one email, of type work. kept reports
// whether the list holds a primary, work or untyped email: a PATCH add of
// a home email alone is no email of the user's.
func primaryEmail(v any) (email string, kept bool, err error) {
	list, err := emailList(v)
	if err != nil {
		return "", false, err
	}
	first, work, primary := "", "", ""
	hasWork, hasPrimary := false, false
	for i, em := range list {
		value, err := scimString(em, "value", fmt.Sprintf("emails[%d].value", i))
		if err != nil {
			return "", false, err
		}
		ty, err := scimString(em, "type", fmt.Sprintf("emails[%d].type", i))
		if err != nil {
			return "", false, err
		}
		isPrimary, _ := em["primary"].(bool)
		if s, isString := em["primary"].(string); isString {
			isPrimary = strings.EqualFold(s, "true")
		}
		if i == 0 {
			first = value
		}
		if isPrimary && !hasPrimary {
			primary, hasPrimary = value, true
		}
		if (ty == "" || strings.EqualFold(ty, "work")) && !hasWork {
			work, hasWork = value, true
		}
	}
	switch {
	case hasPrimary:
		return primary, true, nil
	case hasWork:
		return work, true, nil
	}
	return first, false, nil
}

// emailList reads an emails value: a list of objects (or one, sent
// without its list), each under scimAttrs' lower-case names.
func emailList(v any) ([]map[string]any, error) {
	if obj, ok := v.(map[string]any); ok {
		v = []any{obj} // one email, sent without its list
	}
	list, ok := v.([]any)
	if !ok {
		return nil, scimFail(http.StatusBadRequest, "invalidValue", "emails must be a list of {\"value\", \"type\", \"primary\"}")
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, scimFail(http.StatusBadRequest, "invalidValue", "emails[%d] must be an object with value", i)
		}
		out[i] = scimAttrs(obj, "")
		if err := unknownAttr(out[i], scimMultiAttrs, fmt.Sprintf("emails[%d]", i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// removesEmail reports whether a remove of emails with a value (the
// addresses to remove) names email, the user's: removing another
// address, a home one the configuration never kept, leaves it.
func removesEmail(v any, email string) (bool, error) {
	list, err := emailList(v)
	if err != nil {
		return false, err
	}
	found := false
	for i, em := range list {
		value, err := scimString(em, "value", fmt.Sprintf("emails[%d].value", i))
		if err != nil {
			return false, err
		}
		found = found || (email != "" && policy.EqualASCIIFold(value, email))
	}
	return found, nil
}

// bcryptPlace and generateHash are policy.BcryptPlace and
// bcrypt.GenerateFromPassword (tests watch them: export_test.go).
var (
	bcryptPlace  = policy.BcryptPlace
	generateHash = bcrypt.GenerateFromPassword
)

// hashPassword is the bcrypt hash of a password sent by SCIM, which the
// file keeps as password_bcrypt: never the password itself. It is made
// once the process has a place for one more bcrypt run, in the limit the
// logins' checks keep (policy.BcryptPlace), so that parallel SCIM writes
// do not fill every core; a request whose client went away while it
// waited, or that the full queue refuses (503 with Retry-After), gets
// nothing hashed and nothing done.
func hashPassword(ctx context.Context, pw string) (string, error) {
	if err := passwordBound(pw); err != nil {
		return "", err
	}
	release, err := bcryptPlace(ctx)
	if errors.Is(err, policy.ErrBusy) {
		f := scimFail(http.StatusServiceUnavailable, "", "the IdP is busy checking passwords, and the password was not hashed: try again later (Retry-After)")
		f.retryAfter = throttle.RetryAfter(policy.BcryptRetryAfter)
		return "", f
	}
	if err != nil {
		return "", scimFail(http.StatusServiceUnavailable, "", "the request ended before its password was hashed: %v", err)
	}
	h, err := generateHash([]byte(pw), bcrypt.DefaultCost)
	release()
	if err != nil {
		return "", scimFail(http.StatusBadRequest, "invalidValue", "the password cannot be hashed: %v", err)
	}
	return string(h), nil
}

// passwordBound refuses a password bcrypt cannot take.
func passwordBound(pw string) error {
	if pw == "" || len(pw) > 72 || len(pw) > idp.MaxPasswordBytes {
		return scimFail(http.StatusBadRequest, "invalidValue", "password must be 1 to 72 bytes (bcrypt's limit)")
	}
	return nil
}

// unknownPassword is the password_bcrypt of a user created without a
// password: the hash of a random one nobody knows (the configuration
// requires a password; the user cannot log in until one is set). A
// random 256-bit password needs no work factor: the hash is made at
// bcrypt's lowest cost and takes no turn among password checks
// (bcryptPlace), so that a provisioning run, which sends no passwords,
// queues no login behind it.
func unknownPassword() (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	h, err := generateHash([]byte(hex.EncodeToString(b)), bcrypt.MinCost)
	if err != nil {
		return "", scimFail(http.StatusInternalServerError, "", "a password cannot be made: %v", err)
	}
	return string(h), nil
}

// takenUserName refuses a userName another user than self (a sub; "" for
// none) has, equal but for the case of ASCII letters, as SCIM compares
// userName (policy.EqualASCIIFold).
func takenUserName(cur *policy.Config, name, self string) error {
	for i := range cur.Users {
		if u := &cur.Users[i]; u.Sub != self && policy.EqualASCIIFold(u.Username, name) {
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
	in, err := readSCIMUser(r.Context(), body)
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
		if in.externalID != nil {
			u.ExternalID = *in.externalID
			if err := takenExternalID(cur, u.ExternalID, ""); err != nil {
				return policy.Batch{}, nil, err
			}
		}
		if cur.UserBySub(u.Sub) != nil {
			// A renamed user keeps its sub, which may be this name's
			// default one: the new user gets another.
			u.Sub = policy.NewUserSub()
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
	su := a.scimUserOf(ch.Config, u, etag(ch.Version))
	w.Header().Set("Location", su.Meta.Location)
	w.Header().Set("ETag", etag(ch.Version))
	writeSCIM(w, http.StatusCreated, su)
}

// scimReplaceUser is PUT /Users/{id}: userName, the name, the email and
// (when sent) active, the password and externalId are replaced; an
// attribute left out is cleared, but for active, the password and
// externalId, which are kept (externalId null clears it). A new
// userName renames the user; its id stays.
func (a *API) scimReplaceUser(w http.ResponseWriter, r *http.Request) {
	body, ok := scimBody(w, r)
	if !ok {
		return
	}
	in, err := readSCIMUser(r.Context(), body)
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
		if in.externalID != nil {
			if err := takenExternalID(cur, *in.externalID, u.Sub); err != nil {
				return err
			}
			u.ExternalID = *in.externalID
		}
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
		if old.Admin && byToken(r) && (u.Password != old.Password || u.PasswordBcrypt != old.PasswordBcrypt) {
			// The token would open the whole admin API, as this admin.
			return policy.Batch{}, nil, scimFail(http.StatusForbidden, "", "a SCIM bearer token cannot set the password of an admin user (admin: true): it grants SCIM only; an admin sets it (HTTP Basic or the console)")
		}
		var servers []policy.ServerEdit
		var faults []policy.FaultEdit
		if u.Username != old.Username {
			// The access and deny entries and the faults that match
			// the user follow it, as its pending access requests do.
			servers = renameUserInServers(cur, old.Username, u.Username)
			faults, _ = userFaults(cur, old.Username, u.Username)
		}
		return policy.Batch{Users: []policy.UserEdit{{Username: old.Username, User: u}}, Servers: servers, Faults: faults},
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
	writeSCIM(w, http.StatusOK, a.scimUserOf(ch.Config, u, etag(ch.Version)))
}

func (a *API) scimDeleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	details := map[string]any{}
	ch := a.scimEditWith(w, r, details, func(cur *policy.Config) (policy.Batch, *policy.Change, error) {
		old := cur.UserBySub(id)
		if old == nil {
			return policy.Batch{}, nil, scimFail(http.StatusNotFound, "", "there is no user with id %q", id)
		}
		// The access and deny entries that name the user, and the
		// faults that match it, go with it:
		// an identity provider deletes a user to offboard it, and
		// retries a refusal forever.
		b, c := deleteUserBatch(cur, old, details, true, a.idp.Faults())
		return b, c, nil
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
	// A password is hashed before the edit (bcrypt takes its time; the
	// edit's lock is not held meanwhile).
	if err := hashPatchPasswords(r.Context(), ops); err != nil {
		scimEditError(w, err)
		return
	}
	id := r.PathValue("id")
	a.scimChangeUser(w, r, id, func(cur *policy.Config, u *policy.User) error {
		oldName, oldExternal := u.Username, u.ExternalID
		// name.givenName and name.familyName, set one at a time (Entra's
		// path-less value with dotted keys, or two paths), make the name
		// when the PATCH sets both and no other name.
		var parts nameParts
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
				attrs, err := schemaAttrs(obj, scimUserSchema, "the value of "+op.op)
				if err != nil {
					return err
				}
				if err := unknownAttr(attrs, scimUserAttrs, "the value of "+op.op); err != nil {
					return err
				}
				// In a fixed order, displayName last: it is the name when
				// name is sent too, as in a POST.
				keys := slices.Sorted(maps.Keys(attrs))
				if i := slices.Index(keys, "displayname"); i >= 0 {
					keys = append(slices.Delete(keys, i, i+1), "displayname")
				}
				for _, k := range keys {
					if err := patchUserAttr(u, op.op, k, attrs[k]); err != nil {
						return err
					}
					parts.note(op.op, k, attrs[k])
				}
				continue
			}
			path := strings.TrimPrefix(lowerPath(op.path), strings.ToLower(scimUserSchema)+":")
			if !knownAttr(path, scimUserAttrs) {
				return scimFail(http.StatusBadRequest, "invalidPath", "path %q names no attribute of the User schema (RFC 7643); nothing was changed", op.path)
			}
			if err := metaPath(path); err != nil {
				return err
			}
			if err := patchUserAttr(u, op.op, path, op.value); err != nil {
				return err
			}
			parts.note(op.op, path, op.value)
		}
		if parts.given != nil && parts.family != nil && !parts.named {
			u.Name = strings.TrimSpace(*parts.given + " " + *parts.family)
		}
		if u.ExternalID != oldExternal {
			if err := takenExternalID(cur, u.ExternalID, u.Sub); err != nil {
				return err
			}
		}
		if u.Username != oldName {
			return takenUserName(cur, u.Username, u.Sub)
		}
		return nil
	})
}

// lowerPath is a PATCH path with its attribute names in lower case, as
// they are matched (RFC 7643 section 2.1), and the value of a filter in
// brackets as sent: emails[value eq "..."] compares its address as a
// filter does (policy.EqualASCIIFold), and strings.ToLower of the whole
// path turned a Kelvin sign (U+212A) into a k, so that it named kim's
// address.
func lowerPath(path string) string {
	open, closeAt := strings.IndexByte(path, '['), strings.LastIndexByte(path, ']')
	if open < 0 || closeAt < open {
		return strings.ToLower(path)
	}
	return strings.ToLower(path[:open+1]) + path[open+1:closeAt] + strings.ToLower(path[closeAt:])
}

// nameParts are the name.givenName and name.familyName a User PATCH sets
// (nil when it does not), and whether it sets the name otherwise (named):
// displayName, name.formatted, name, or a remove of either part.
type nameParts struct {
	given, family *string
	named         bool
}

// note records an operation on the attribute at path (lower case).
func (p *nameParts) note(op, path string, v any) {
	s, isString := v.(string)
	switch {
	case (path == "name.givenname" || path == "name.familyname") && (op == "remove" || !isString):
		p.named = true
	case path == "name.givenname":
		p.given = &s
	case path == "name.familyname":
		p.family = &s
	case path == "displayname" || path == "name.formatted" || path == "name":
		p.named = true
	}
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
		f, err := scimString(nm, "formatted", "name.formatted")
		given, err1 := scimString(nm, "givenname", "name.givenName")
		family, err2 := scimString(nm, "familyname", "name.familyName")
		if err := errors.Join(err, err1, err2); err != nil {
			return err
		}
		switch {
		case f != "":
			u.Name = f
		case given != "" && family != "":
			// As a POST joins them; one alone is not kept, the other
			// being unknown here.
			u.Name = given + " " + family
		}
	case path == "emails":
		if remove && v != nil {
			gone, err := removesEmail(v, u.Email)
			if gone {
				u.Email = ""
			}
			return err
		}
		if remove {
			u.Email = ""
			return nil
		}
		e, kept, err := primaryEmail(v)
		if err != nil {
			return err
		}
		if kept || op == "replace" {
			u.Email = e
		}
	case emailPath:
		// emails[type eq "work"].value and the like: the one email, of
		// type work. Another type's, or another sub-attribute than
		// value (primary, type, display), has no place here: accepted
		// and not kept, never the email.
		ours, sub, err := emailFilterPath(path, u.Email)
		if err != nil {
			return err
		}
		if !ours || (sub != "" && sub != "value") {
			return nil
		}
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
	case path == "externalid":
		if remove {
			u.ExternalID = ""
			return nil
		}
		e, err := externalID(v)
		if err != nil {
			return err
		}
		u.ExternalID = e
	case path == "password":
		// Okta's password push: replace (or add) of password, with the
		// path or in a path-less value; hashed by hashPatchPasswords.
		if remove {
			return scimFail(http.StatusBadRequest, "invalidValue", "the password cannot be removed (the configuration requires one); replace it")
		}
		h, ok := v.(hashedPassword)
		if !ok {
			return scimFail(http.StatusBadRequest, "invalidValue", "password must be a string")
		}
		setSecret(u, string(h))
	case path == "groups" || strings.HasPrefix(path, "groups[") || strings.HasPrefix(path, "groups."):
		return scimFail(http.StatusBadRequest, "mutability", "groups is read-only: change a group's members with PATCH of the Group")
	case path == "id":
		if s, _ := v.(string); remove || s != u.Sub {
			return scimFail(http.StatusBadRequest, "mutability", "id is read-only")
		}
	}
	return nil
}

// emailFilterPath reads a PATCH path emails[type eq "<type>"].<sub> or
// emails[value eq "<address>"].<sub> (lower case; sub "" when none):
// whether it names the one email (type work, or its address), and sub.
// emails.value names it.
func emailFilterPath(path, email string) (ours bool, sub string, err error) {
	if path == "emails.value" {
		return true, "value", nil
	}
	closeAt := closingBracket(path) // an address may hold one: alice@[192.0.2.1]
	bad := scimFail(http.StatusBadRequest, "invalidPath", "%s: an emails path takes [type eq \"work\"] or [value eq \"<address>\"], then .value or nothing", path)
	if closeAt < 0 {
		return false, "", bad
	}
	sub, hasSub := strings.CutPrefix(path[closeAt+1:], ".")
	if !hasSub && sub != "" {
		return false, "", bad
	}
	t, rest, why := parseTerm(path[len("emails["):closeAt], "")
	v, isString := t.value.(string)
	if why != "" || strings.TrimSpace(rest) != "" || t.emailType != "" || !isString {
		return false, "", bad
	}
	switch t.attr {
	case "type":
		return strings.EqualFold(v, "work"), sub, nil
	case "value":
		return email != "" && policy.EqualASCIIFold(v, email), sub, nil
	}
	return false, "", bad
}

// hashedPassword is a password of a PATCH, hashed by hashPatchPasswords.
type hashedPassword string

// hashPatchPasswords replaces each password of a User PATCH, at the path
// password or as a member of a path-less value, by the bcrypt hash of the
// last one (a hashedPassword): the operations apply in order, so the last
// is the one kept, and a bcrypt hash per password would let one body of
// thousands of them hold a core for minutes. Every one is checked; one
// that is no string is left for patchUserAttr to refuse, one beyond
// bcrypt's 72 bytes is refused here.
func hashPatchPasswords(ctx context.Context, ops []scimOp) error {
	prefix := strings.ToLower(scimUserSchema) + ":"
	var last string
	var set []func(hashedPassword)
	take := func(v any, put func(hashedPassword)) error {
		pw, isString := v.(string)
		if !isString {
			return nil
		}
		if err := passwordBound(pw); err != nil {
			return err
		}
		last, set = pw, append(set, put)
		return nil
	}
	for i := range ops {
		op := &ops[i]
		if op.op == "remove" {
			continue
		}
		if op.path != "" {
			if strings.TrimPrefix(strings.ToLower(op.path), prefix) == "password" {
				if err := take(op.value, func(h hashedPassword) { op.value = h }); err != nil {
					return err
				}
			}
			continue
		}
		obj, ok := op.value.(map[string]any)
		if !ok {
			continue
		}
		var hashed map[string]any
		for k, v := range obj {
			if strings.TrimPrefix(strings.ToLower(k), prefix) != "password" || v == nil {
				continue
			}
			if hashed == nil {
				hashed = maps.Clone(obj)
			}
			if err := take(v, func(h hashedPassword) { hashed[k] = h }); err != nil {
				return err
			}
		}
		if hashed != nil {
			op.value = hashed
		}
	}
	if len(set) == 0 {
		return nil
	}
	h, err := hashPassword(ctx, last)
	if err != nil {
		return err
	}
	for _, put := range set {
		put(hashedPassword(h))
	}
	return nil
}
