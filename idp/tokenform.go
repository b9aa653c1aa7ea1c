package idp

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unsafe"

	"github.com/xaa-idp/xaa-idp/internal/bodyheader"
)

// formType is the media type of a token request (RFC 6749 section 4.1.3).
const formType = "application/x-www-form-urlencoded"

// tokenForm is a token request's parameters in the order sent, empty
// values included. It is what url.Values is to the rest of the IdP, for
// the token endpoint (token.go), whose usual request is parsed into it
// without url.Values' map and slice per parameter (parseForm).
//
// Get, count and duplicated read the parameters as the grants do: an
// empty value is no value (RFC 6749 section 3.1: a parameter sent without
// a value is treated as omitted), since the Go SDK sends code= on every
// grant and zitadel's token exchange client an empty actor_token=. first
// reads a parameter as sent, for what is only reported (the audit event's
// client, the latency metric's grant type).
type tokenForm struct {
	params []formParam
	// array holds params for a usual request, in the form's allocation.
	array [maxFastParams]formParam
}

type formParam struct{ name, value string }

// maxFastParams is how many parameters parseForm parses itself: a token
// request has a dozen at most. A form with more goes to url.ParseQuery.
const maxFastParams = 16

// Get returns the first non-empty value of the parameter name, "" if it
// has none.
func (f *tokenForm) Get(name string) string {
	for _, p := range f.params {
		if p.name == name && p.value != "" {
			return p.value
		}
	}
	return ""
}

// count is the number of non-empty values of the parameter name.
func (f *tokenForm) count(name string) int {
	n := 0
	for _, p := range f.params {
		if p.name == name && p.value != "" {
			n++
		}
	}
	return n
}

// first returns the first value of the parameter name as sent, empty or
// not: url.Values.Get of the request's form.
func (f *tokenForm) first(name string) string {
	for _, p := range f.params {
		if p.name == name {
			return p.value
		}
	}
	return ""
}

// duplicated names the first parameter sent twice with a value, except
// repeatable, which may repeat (RFC 6749 section 3.2: parameters MUST NOT
// be included more than once).
func (f *tokenForm) duplicated(repeatable string) string {
	for i, p := range f.params {
		if p.value == "" || p.name == repeatable {
			continue
		}
		for _, q := range f.params[i+1:] {
			if q.name == p.name && q.value != "" {
				return p.name
			}
		}
	}
	return ""
}

// presentValues returns the form as url.Values without its empty values:
// what op must read, since an empty parameter is an absent one (the Go
// SDK sends code= on every grant; a refresh request's scope= would
// otherwise ask for a scope named "").
func (f *tokenForm) presentValues() url.Values {
	vs := make(url.Values, len(f.params))
	for _, p := range f.params {
		if p.value != "" {
			vs[p.name] = append(vs[p.name], p.value)
		}
	}
	return vs
}

// formFromValues is the tokenForm of a form url.Values parsed: the
// parameters in the order of each name's values (the names' own order is
// lost).
func formFromValues(vs url.Values) *tokenForm {
	f := &tokenForm{}
	f.params = f.array[:0]
	for name, values := range vs {
		for _, v := range values {
			f.params = append(f.params, formParam{name, v})
		}
	}
	return f
}

// parse parses body, an application/x-www-form-urlencoded form, as
// url.ParseQuery would, and reports whether it could: a form of more
// than maxFastParams parameters, with a semicolon or a bad percent-escape
// is left to url.ParseQuery, which says what is wrong, and body is then
// as it was. Otherwise names and values are unescaped in place (never
// longer than sent) and share body's bytes, which are the form's from
// then on: no copy per parameter.
func (f *tokenForm) parse(body []byte) bool {
	if bytes.Count(body, []byte{'&'}) >= maxFastParams || bytes.IndexByte(body, ';') >= 0 || !validEscapes(body) {
		return false
	}
	f.params = f.array[:0]
	for len(body) > 0 {
		var param []byte
		param, body, _ = bytes.Cut(body, []byte{'&'})
		if len(param) == 0 {
			continue
		}
		name, value, _ := bytes.Cut(param, []byte{'='})
		f.params = append(f.params, formParam{sharedString(unescapeInPlace(name)), sharedString(unescapeInPlace(value))})
	}
	return true
}

// validEscapes reports whether every '%' in b starts an escape, two hex
// digits, as url.QueryUnescape requires. An escape cannot span two
// parameters or a name and its value: '&' and '=' are no hex digits.
func validEscapes(b []byte) bool {
	for {
		i := bytes.IndexByte(b, '%')
		if i < 0 {
			return true
		}
		if i+2 >= len(b) || unhex(b[i+1]) < 0 || unhex(b[i+2]) < 0 {
			return false
		}
		b = b[i+3:]
	}
}

// unescapeInPlace is url.QueryUnescape ('+' is a space, %XX a byte) of b,
// whose escapes are valid, written over b.
func unescapeInPlace(b []byte) []byte {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return b
	}
	n := 0
	for i := 0; i < len(b); i, n = i+1, n+1 {
		switch c := b[i]; c {
		case '+':
			b[n] = ' '
		case '%':
			b[n] = byte(unhex(b[i+1])<<4 | unhex(b[i+2]))
			i += 2
		default:
			b[n] = c
		}
	}
	return b[:n]
}

// unhex is the value of the hex digit c, -1 for another byte.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// sharedString is b as a string sharing its bytes, which nothing writes
// again (parse writes each parameter's once, before this).
func sharedString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// isFormType reports whether the Content-Type ct is
// application/x-www-form-urlencoded: whether mime.ParseMediaType's media
// type is, without its map of parameters in the usual cases, no
// parameter or charset=UTF-8 alone (fetch's URLSearchParams body).
func isFormType(ct string) bool {
	if ct == formType {
		return true
	}
	mt, params, ok := strings.Cut(ct, ";")
	if !strings.EqualFold(strings.TrimSpace(mt), formType) {
		return false
	}
	if !ok || strings.EqualFold(strings.TrimSpace(params), "charset=utf-8") {
		return true
	}
	mt, _, _ = mime.ParseMediaType(ct)
	return mt == formType
}

// nonFormBody refuses a body that is not a form at an endpoint whose
// parameters are one (section names the RFC's): Go reads such a body as
// no parameters, and the client was told of a parameter or a client
// missing rather than of its body. nil for a form, and for a request
// without a body.
func nonFormBody(r *http.Request, section string) *oauthError {
	ct := r.Header.Get("Content-Type")
	if r.ContentLength == 0 || isFormType(ct) {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(ct)
	return invalidRequest("send the parameters as application/x-www-form-urlencoded (%s), not %q", section, mt)
}

// tokenFormKey carries, in the context of a token request parseForm
// parsed, its *tokenForm.
type tokenFormKey struct{}

// parseForm is r.ParseForm, with a shorter way for the usual token
// request: a POST of a form of known length and no query. Its body is
// read into one buffer of that length and parsed once into a tokenForm,
// which the request returned carries for the token endpoint (tokenFormOf);
// r.PostForm stays nil until a grant that needs it (serveWithOP). Anything
// else goes to ParseForm, its body bounded by maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	if r.ContentLength > maxFormBytes && bodyheader.ReadsForm(r) {
		// Refused before a byte of it is read: a client that sent
		// Expect: 100-continue is told so instead of being asked for the
		// body (RFC 9110 section 10.1.1).
		return r, &http.MaxBytesError{Limit: maxFormBytes}
	}
	if r.Method != http.MethodPost || r.URL.Path != pathToken || r.URL.RawQuery != "" || r.PostForm != nil ||
		r.ContentLength < 0 || r.ContentLength > maxFormBytes || !isFormType(r.Header.Get("Content-Type")) {
		// On a copy of the request: net/http looks at the Body of the one
		// it made, once the handler is done, to learn whether the client
		// still waits for a 100 Continue. Replaced in place, it looked
		// like a body to drain, and a JSON endpoint's refusal sent before
		// the body was read (a 413 for a declared length) waited for a
		// body an Expect: 100-continue client never sends (as
		// cmd/xaa-idp's deadlines do, for an IdP served without them).
		r2 := new(http.Request)
		*r2 = *r
		r2.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		return r2, r2.ParseForm()
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return r, err
	}
	f := &tokenForm{}
	if !f.parse(body) {
		vs, err := url.ParseQuery(string(body))
		if err != nil {
			return r, err
		}
		f = formFromValues(vs)
	}
	return r.WithContext(context.WithValue(r.Context(), tokenFormKey{}, f)), nil
}

// tokenFormOf returns the parameters of a token request: those parseForm
// parsed, or else the body's form (r.PostForm), parsed here if need be.
func tokenFormOf(w http.ResponseWriter, r *http.Request) (*tokenForm, error) {
	if f, ok := r.Context().Value(tokenFormKey{}).(*tokenForm); ok {
		return f, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return formFromValues(r.PostForm), nil
}

// grantTypeOf is the grant_type of a token request as sent (the first
// value), once parsed; "" before.
func grantTypeOf(r *http.Request) string {
	if f, ok := r.Context().Value(tokenFormKey{}).(*tokenForm); ok {
		return f.first("grant_type")
	}
	return r.PostForm.Get("grant_type")
}
