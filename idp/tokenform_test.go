package idp

import (
	"mime"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// formBodies are forms with each of url.ParseQuery's cases: empty
// parameters, a name without '=', an empty name, repeats, empty values,
// '+' and percent-escapes, bad escapes, semicolons, many parameters.
var formBodies = []string{
	"", "&", "&&a=1&&", "a", "a=", "=v", "=", "a=1&a=2&b=&b=3", "a=1&A=2",
	"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&scope=a+b&resource=https%3A%2F%2Fmcp.example%2Fmcp",
	"a=%zz", "a=%4", "%=1", "a=1&b=%e2%80%a8", "a=%C3%A9%FF", "a=1;b=2", "a;b", "a=1&b=2;", "a=x=y", "a%3Db=c",
	"+=+", "a=%2B%20+", strings.Repeat("a=1&", maxFastParams-1) + "a=1", strings.Repeat("a=1&", maxFastParams) + "a=1",
	strings.Repeat("&", 3*maxFastParams), strings.Repeat("x=%zz&", 20),
}

// TestTokenForm_ParseIsParseQuery checks the token endpoint's own form
// parser against url.ParseQuery: what it parses, it parses to the same
// values; what it leaves to url.ParseQuery (parseForm's fallback) is
// what ParseQuery refuses or a form of many parameters.
func TestTokenForm_ParseIsParseQuery(t *testing.T) {
	for _, body := range formBodies {
		checkParse(t, body)
	}
	usual := "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid-jag" +
		"&subject_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token" +
		"&audience=https%3A%2F%2Fas.chat.example&resource=https%3A%2F%2Fmcp.chat.example%2Fmcp&scope=chat.read+chat.write&client_id=mcp-client&client_secret=s1&code=&actor_token="
	var f tokenForm
	if !f.parse([]byte(usual)) {
		t.Fatal("a usual token request goes to url.ParseQuery")
	}
	checkParse(t, usual)
}

func checkParse(t *testing.T, body string) {
	t.Helper()
	want, err := url.ParseQuery(body)
	var f tokenForm
	buf := []byte(body)
	if !f.parse(buf) {
		if err == nil && strings.Count(body, "&") < maxFastParams {
			t.Errorf("parse(%q) declined a form url.ParseQuery reads", body)
		}
		if string(buf) != body {
			t.Errorf("parse(%q) declined the form but changed it to %q: the fallback parses it", body, buf)
		}
		return
	}
	if err != nil {
		t.Errorf("parse(%q) accepted a form url.ParseQuery refuses: %v", body, err)
	}
	if got := f.values(); !reflect.DeepEqual(got, want) {
		t.Errorf("parse(%q) = %v, url.ParseQuery %v", body, got, want)
	}
}

func FuzzTokenFormParse(f *testing.F) {
	for _, body := range formBodies {
		f.Add(body)
	}
	f.Fuzz(checkParse)
}

// TestTokenForm_Lookups checks that a tokenForm reads as the token
// endpoint read url.Values: empty values are no values for Get, count and
// duplicated (presentParams), first is url.Values.Get as sent.
func TestTokenForm_Lookups(t *testing.T) {
	var f tokenForm
	if !f.parse([]byte("code=&a=1&resource=r1&resource=r2&b=&b=2&client_id=&client_id=c&scope=x&scope=")) {
		t.Fatal("not parsed")
	}
	for name, want := range map[string]string{"code": "", "a": "1", "resource": "r1", "b": "2", "client_id": "c", "scope": "x", "missing": ""} {
		if got := f.Get(name); got != want {
			t.Errorf("Get(%q) = %q, want %q", name, got, want)
		}
	}
	if got := f.first("client_id"); got != "" {
		t.Errorf("first(client_id) = %q, want the empty value sent first", got)
	}
	if f.count("resource") != 2 || f.count("b") != 1 || f.count("code") != 0 {
		t.Errorf("count: resource %d, b %d, code %d", f.count("resource"), f.count("b"), f.count("code"))
	}
	if got := f.duplicated("resource"); got != "" {
		t.Errorf("duplicated = %q: only resource repeats with values", got)
	}
	if got := f.duplicated(""); got != "resource" {
		t.Errorf("duplicated without repeatable = %q, want resource", got)
	}
	if !f.parse([]byte("a=1&b=1&b=2&a=2")) || f.duplicated("") != "a" || f.duplicated("a") != "b" {
		t.Errorf("duplicated names the first repeated parameter in the order sent: %q, %q", f.duplicated(""), f.duplicated("a"))
	}
	g := formFromValues(url.Values{"a": {"", "1"}, "b": {"2"}})
	if g.Get("a") != "1" || g.first("a") != "" || g.Get("b") != "2" || g.count("a") != 1 {
		t.Errorf("formFromValues: %v", g.params)
	}
}

var contentTypes = []string{
	"", "application/x-www-form-urlencoded", "Application/X-WWW-Form-URLEncoded", " application/x-www-form-urlencoded ",
	"application/x-www-form-urlencoded;charset=UTF-8", "application/x-www-form-urlencoded; charset=utf-8 ",
	"application/x-www-form-urlencoded;", "application/x-www-form-urlencoded; charset=utf-8; charset=latin1",
	"application/x-www-form-urlencoded; charset=utf-8; charset=utf-8", "application/x-www-form-urlencoded; bad",
	"application/x-www-form-urlencoded; charset = utf-8", "application/x-www-form-urlencoded; charſet=utf-8",
	"application/x-www-form-urlencoded\u00a0", "application/json", "text/plain; charset=utf-8", "multipart/form-data; boundary=x",
	"application/x-www-form-urlencodedx", "application /x-www-form-urlencoded", "application/x-www-form-urlencoded; a*0=x; a*1=y",
}

// TestIsFormType checks the token endpoint's Content-Type check against
// mime.ParseMediaType, which it answered from before.
func TestIsFormType(t *testing.T) {
	for _, ct := range contentTypes {
		checkFormType(t, ct)
	}
}

func checkFormType(t *testing.T, ct string) {
	mt, _, _ := mime.ParseMediaType(ct)
	if got, want := isFormType(ct), mt == formType; got != want {
		t.Errorf("isFormType(%q) = %v, mime.ParseMediaType says %q", ct, got, mt)
	}
}

func FuzzIsFormType(f *testing.F) {
	for _, ct := range contentTypes {
		f.Add(ct)
	}
	f.Fuzz(checkFormType)
}

// values returns the form as url.Values, empty values included: what
// url.ParseQuery returns, to compare parse with it.
func (f *tokenForm) values() url.Values {
	vs := make(url.Values, len(f.params))
	for _, p := range f.params {
		vs[p.name] = append(vs[p.name], p.value)
	}
	return vs
}
