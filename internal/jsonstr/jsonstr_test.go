package jsonstr

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// jsonStrings are strings whose encoding has a special case: every ASCII
// control character, the characters escaped by name, the HTML characters,
// U+2028 and U+2029, invalid and truncated UTF-8, multi-byte runes.
var jsonStrings = []string{
	"", "plain", `quote " and backslash \`, "<script>&amp;</script>", "\b\f\n\r\t", "\x00\x01\x1f\x7f",
	"line\u2028para\u2029end", "bad \xff utf-8", "truncated \xe2\x80", "é ü 日本 😀", "\xed\xa0\x80 surrogate",
	"https://mcp.example/mcp?a=1&b=2", "/ slash stays",
	// Invisible characters: bidi controls, zero-width ones, the BOM, a
	// C1 control, a tag character beyond the BMP, after a backslash.
	"admin\u202e\u2066txt.exe\u2069", "a\u200bb\u200c\u200d\u200e\u200f", "\u2060\u2064\ufeff\u00ad\u061c",
	"c1 \u0085 \u009b", "tag \U000E0041 end", `\` + "\u202e",
}

// encodingJSON is what encoding/json writes for s, with or without HTML
// escaping.
func encodingJSON(t *testing.T, s string, escapeHTML bool) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// check holds Append and AppendNoHTML to encoding/json for s, byte for
// byte, and checks that they append.
func check(t *testing.T, s string) {
	t.Helper()
	if got, want := string(Append([]byte("x:"), s)), "x:"+encodingJSON(t, s, true); got != want {
		t.Errorf("Append(%q) = %s, encoding/json writes %s", s, got[2:], want[2:])
	}
	if got, want := string(AppendNoHTML([]byte("x:"), s)), "x:"+encodingJSON(t, s, false); got != want {
		t.Errorf("AppendNoHTML(%q) = %s, encoding/json without HTML escaping writes %s", s, got[2:], want[2:])
	}
	checkVisible(t, s)
}

// checkVisible holds AppendVisible to encoding/json without HTML escaping
// followed by EscapeInvisible, checks that the line it writes holds no
// Invisible character raw, and that a JSON reader reads back the string
// it reads from encoding/json's.
func checkVisible(t *testing.T, s string) {
	t.Helper()
	plain := encodingJSON(t, s, false)
	got := string(AppendVisible([]byte("x:"), s))
	if want := "x:" + string(EscapeInvisible([]byte(plain))); got != want {
		t.Errorf("AppendVisible(%q) = %s, want %s", s, got[2:], want[2:])
	}
	for _, r := range got {
		if Invisible(r) {
			t.Errorf("AppendVisible(%q) = %q: %U raw", s, got[2:], r)
		}
	}
	var back, want string
	if err := json.Unmarshal([]byte(got[2:]), &back); err != nil {
		t.Fatalf("AppendVisible(%q) = %s: %v", s, got[2:], err)
	}
	if err := json.Unmarshal([]byte(plain), &want); err != nil {
		t.Fatal(err)
	}
	if back != want {
		t.Errorf("AppendVisible(%q) reads back as %q, encoding/json's as %q", s, back, want)
	}
}

// TestAppendVisible_Escapes: the characters that reorder or hide text are
// escaped, by their code points.
func TestAppendVisible_Escapes(t *testing.T) {
	for s, want := range map[string]string{
		"a\u202eb":                 `"a\u202eb"`,
		"\u200b\u2066\u2069\ufeff": `"\u200b\u2066\u2069\ufeff"`,
		"\u0085\u00ad":             `"\u0085\u00ad"`,
		"\U000E0041":               `"\udb40\udc41"`,
		"é 日本 😀 \u2028":            `"é 日本 😀 \u2028"`,
	} {
		if got := string(AppendVisible(nil, s)); got != want {
			t.Errorf("AppendVisible(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestEscapeInvisible_Document: a whole document, keys and nested values,
// keeps its value and loses its raw invisible characters; one without any
// comes back as it was, not copied.
func TestEscapeInvisible_Document(t *testing.T) {
	v := map[string]any{"k\u202e": []any{"a\u2066b", 1.5, map[string]any{"\\\u200b": "\ufeff"}}, "plain": "é"}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got := EscapeInvisible(raw)
	for _, r := range string(got) {
		if Invisible(r) {
			t.Fatalf("EscapeInvisible left %U raw: %s", r, got)
		}
	}
	var back any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(back)
	if string(b1) != string(raw) {
		t.Errorf("EscapeInvisible changed the value:\n%s\n%s", b1, raw)
	}
	clean := []byte(`{"a":"é 日本"}`)
	if out := EscapeInvisible(clean); &out[0] != &clean[0] {
		t.Error("EscapeInvisible copied a document without invisible characters")
	}
}

func TestAppend_IsEncodingJSON(t *testing.T) {
	var all string
	for c := range 0x80 {
		all += string(rune(c))
	}
	for _, s := range append(jsonStrings, all) {
		check(t, s)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check(t, s)
		// EscapeInvisible on any JSON of s keeps its value.
		doc, _ := json.Marshal(map[string]string{s: s})
		var a, b map[string]string
		if err := json.Unmarshal(EscapeInvisible(doc), &a); err != nil {
			t.Fatalf("EscapeInvisible(%s): %v", doc, err)
		}
		_ = json.Unmarshal(doc, &b)
		if a[s] != b[s] || len(a) != len(b) {
			t.Fatalf("EscapeInvisible(%s) reads as %q, not %q", doc, a, b)
		}
	})
}

// BenchmarkAppend appends an ID-JAG, as the token endpoint's answer does.
func BenchmarkAppend(b *testing.B) {
	jag := strings.Repeat("eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzMjU2LWFiY2RlZmdoaWprbG1ub3AiLCJ0eXAiOiJvYXV0aC1pZC1qYWcrand0In0.", 8)
	buf := make([]byte, 0, 2*len(jag))
	b.SetBytes(int64(len(jag)))
	for b.Loop() {
		buf = Append(buf[:0], jag)
	}
}
