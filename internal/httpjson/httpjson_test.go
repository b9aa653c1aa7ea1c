package httpjson_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/httpjson"
)

func TestWrite_NoStoreJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	httpjson.Write(rec, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d", rec.Code)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q (RFC 6749 §5.1)", k, got, want)
		}
	}
	if got := rec.Body.String(); got != `{"error":"invalid_request"}`+"\n" {
		t.Errorf("body %q", got)
	}
}

// TestWrite_SharedValuesStayPut checks that the header values Write shares
// between answers cannot be changed through one answer's header.
func TestWrite_SharedValuesStayPut(t *testing.T) {
	first := httptest.NewRecorder()
	httpjson.Write(first, http.StatusOK, "x")
	h := http.Header{}
	httpjson.Write(&headerOnly{h}, http.StatusOK, "x")
	h.Add("Cache-Control", "private")
	h.Add("Content-Type", "text/plain")
	h.Add("Pragma", "x")
	second := httptest.NewRecorder()
	httpjson.Write(second, http.StatusOK, "x")
	for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"} {
		if got := second.Header().Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q after another answer's Add, want %q", k, got, want)
		}
	}
	if got := httpjson.ContentType(); len(got) != 1 || got[0] != "application/json" || cap(got) != 1 {
		t.Errorf("ContentType() = %q (cap %d)", got, cap(got))
	}
}

type headerOnly struct{ h http.Header }

func (w *headerOnly) Header() http.Header         { return w.h }
func (w *headerOnly) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerOnly) WriteHeader(int)             {}

// jsonStrings are strings whose encoding has a special case: every ASCII
// control character, the characters escaped by name, the HTML characters,
// U+2028 and U+2029, invalid and truncated UTF-8, multi-byte runes.
var jsonStrings = []string{
	"", "plain", `quote " and backslash \`, "<script>&amp;</script>", "\b\f\n\r\t", "\x00\x01\x1f\x7f",
	"line\u2028para\u2029end", "bad \xff utf-8", "truncated \xe2\x80", "é ü 日本 😀", "\xed\xa0\x80 surrogate",
	"https://mcp.example/mcp?a=1&b=2", "/ slash stays",
}

// TestAppendString_IsEncodingJSON checks AppendString against json.Marshal,
// byte for byte, and that it appends.
func TestAppendString_IsEncodingJSON(t *testing.T) {
	var all string
	for c := range 0x80 {
		all += string(rune(c))
	}
	for _, s := range append(jsonStrings, all) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := httpjson.AppendString([]byte("x:"), s); string(got) != "x:"+string(want) {
			t.Errorf("AppendString(%q) = %s, encoding/json writes %s", s, got[2:], want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := httpjson.AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

// BenchmarkAppendString appends an ID-JAG, as the token endpoint's answer
// does.
func BenchmarkAppendString(b *testing.B) {
	jag := strings.Repeat("eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzMjU2LWFiY2RlZmdoaWprbG1ub3AiLCJ0eXAiOiJvYXV0aC1pZC1qYWcrand0In0.", 8)
	buf := make([]byte, 0, 2*len(jag))
	b.SetBytes(int64(len(jag)))
	for b.Loop() {
		buf = httpjson.AppendString(buf[:0], jag)
	}
}
