package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
)

// reflectLine is the encoding appendJSON replaced: encoding/json over Event's fields, "time"
// first, without HTML escaping, and the invisible characters escaped after it
// (jsonstr.EscapeInvisible). The hand-written encoder must match it byte for byte.
func reflectLine(e Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Time string `json:"time"`
		plainEvent
	}{e.Time.UTC().Format(TimeLayout), plainEvent(e)})
	return jsonstr.EscapeInvisible(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), err
}

// tricky are strings that need every kind of escaping, and some that look as if they might.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr",
	"\b\f\x00\x01\x1f\x7f", "é ü 日本 🙂", "\u2028\u2029", "bad \xff\xfe utf8 \xc3", "\xe2\x80",
	"trailing \\", strings.Repeat("x", 300), "…[truncated 5 bytes]",
	"user\u202eexe.txt", "\u2067rtl\u2069 \u200b\ufeff\u00ad", "c1 \u009b31m", "tag \U000E0041",
}

func TestAppendJSON_MatchesEncodingJSON(t *testing.T) {
	base := Event{Time: time.Date(2026, 11, 25, 18, 0, 0, 123456789, time.FixedZone("x", 3600))}
	var events []Event
	events = append(events, base, Event{Time: time.Time{}}, Event{Time: time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)})
	for _, s := range tricky {
		e := base
		for _, p := range e.texts() {
			*p = s
		}
		events = append(events, e)
	}
	full := base
	for i, p := range full.texts() {
		*p = tricky[i%len(tricky)]
	}
	full.Injected = true
	full.Details = map[string]any{"b": []any{1.5, "<&>", nil, true}, "a": map[string]any{"\n": json.Number("12")}}
	events = append(events, full, Event{Time: base.Time, Details: map[string]any{}})
	// Details of strings only, written by hand: tricky keys and values, in encoding/json's key
	// order.
	stringsOnly := base
	stringsOnly.Details = map[string]any{}
	for i, s := range tricky {
		stringsOnly.Details[s] = tricky[(i+3)%len(tricky)]
	}
	events = append(events, stringsOnly, Event{Time: base.Time, Details: map[string]any{"client_id_at_server": "a", "b": "c"}})
	for _, e := range events {
		checkLine(t, e)
	}
}

func FuzzAppendJSON(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, s, int64(0), false)
	}
	f.Add("a", "b", int64(1<<40), true)
	f.Fuzz(func(t *testing.T, s1, s2 string, nanos int64, injected bool) {
		e := Event{Time: time.Unix(0, nanos), Injected: injected}
		for i, p := range e.texts() {
			if i%2 == 0 {
				*p = s1
			} else {
				*p = s2
			}
		}
		checkLine(t, e)
	})
}

func checkLine(t *testing.T, e Event) {
	t.Helper()
	want, werr := reflectLine(e)
	got, gerr := e.MarshalJSON()
	if (werr != nil) != (gerr != nil) && e.Time.UTC().Year() >= 0 && e.Time.UTC().Year() <= 9999 {
		t.Fatalf("errors differ: encoding/json %v, appendJSON %v", werr, gerr)
	}
	if gerr != nil {
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("appendJSON\n%s\nencoding/json\n%s", got, want)
	}
	if !utf8.Valid(got) || bytes.ContainsRune(got, '\n') {
		t.Fatalf("line is not one line of valid UTF-8: %q", got)
	}
	if i := bytes.IndexFunc(got, jsonstr.Invisible); i >= 0 {
		t.Fatalf("line holds an invisible character raw at %d: %q", i, got)
	}
}

func BenchmarkMarshalLine(b *testing.B) {
	e := Event{Time: time.Now(), Type: TypeTokenExchange, Outcome: Allowed, User: "alice", Sub: "00u-alice",
		ClientID: "mcp-client", Server: "chat", Audience: "https://as.chat.example", Resource: "https://mcp.chat.example/mcp",
		ScopeRequested: "chat.read chat.write", ScopeGranted: "chat.read", Rule: "chat access[1]",
		Reason: "user alice is assigned chat.read", JTI: "jag-1234567890", GrantType: "urn:ietf:params:oauth:grant-type:token-exchange"}
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = e.MarshalJSON()
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = reflectLine(e)
		}
	})
}
