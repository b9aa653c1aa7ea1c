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
	f.Fuzz(func(t *testing.T, s string) { check(t, s) })
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
