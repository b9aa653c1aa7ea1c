package audit_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/audit"
)

// marker matches the end of a truncated string and captures how many bytes were cut.
var marker = regexp.MustCompile(`…\[truncated (\d+) bytes\]$`)

func TestTruncateTo(t *testing.T) {
	long := strings.Repeat("é", 1000) // two bytes each
	for _, limit := range []int{0, 64, 100, 1024} {
		got := audit.TruncateTo(long, limit)
		if len(got) > max(limit, 64) || !utf8.ValidString(got) || !strings.Contains(got, "…[truncated ") {
			t.Errorf("TruncateTo(2000 bytes, %d) = %d bytes %q", limit, len(got), got[max(0, len(got)-30):])
		}
	}
	if got := audit.TruncateTo("short", 64); got != "short" {
		t.Errorf("short text changed: %q", got)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" means: cut, checked by checkTruncated
	}{
		{"empty", "", ""},
		{"short", "alice", "alice"},
		{"exactly the limit", strings.Repeat("a", audit.MaxTextBytes), strings.Repeat("a", audit.MaxTextBytes)},
		{"one byte over", strings.Repeat("a", audit.MaxTextBytes+1), ""},
		{"60,000 bytes", strings.Repeat("a", 60000), ""},
		{"two-byte runes", strings.Repeat("é", 1000), ""},
		{"three-byte runes", strings.Repeat("€", 1000), ""},
		{"four-byte runes, offset", "a" + strings.Repeat("🔑", 1000), ""},
		{"invalid UTF-8, short", "al\xffice", "al\uFFFDice"},
		{"invalid UTF-8, long", strings.Repeat("\xffa", 1000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := audit.Truncate(tt.in)
			if tt.want != "" || tt.in == "" {
				if got != tt.want {
					t.Errorf("Truncate = %q, want %q", got, tt.want)
				}
				return
			}
			checkTruncated(t, got, strings.ToValidUTF8(tt.in, "\uFFFD"))
		})
	}
}

// checkTruncated fails unless got is orig cut to MaxTextBytes: valid UTF-8, a prefix of orig
// ending on a rune boundary, then a marker counting the bytes cut.
func checkTruncated(t *testing.T, got, orig string) {
	t.Helper()
	if len(got) > audit.MaxTextBytes || !utf8.ValidString(got) {
		t.Fatalf("%d bytes, valid UTF-8 %v: %q", len(got), utf8.ValidString(got), got)
	}
	m := marker.FindStringSubmatchIndex(got)
	if m == nil {
		t.Fatalf("no marker at the end of %q", got)
	}
	kept := got[:m[0]]
	cut, _ := strconv.Atoi(got[m[2]:m[3]])
	if !strings.HasPrefix(orig, kept) || len(kept)+cut != len(orig) {
		t.Errorf("kept %d bytes and says %d were cut, of %d: %q", len(kept), cut, len(orig), got)
	}
	if len(got) < audit.MaxTextBytes-utf8.UTFMax {
		t.Errorf("%d bytes: cut more than needed", len(got))
	}
}

// eachString calls f with the name and value of every string field of e.
func eachString(e *audit.Event, f func(name string, v reflect.Value)) {
	v := reflect.ValueOf(e).Elem()
	for i := range v.NumField() {
		if v.Field(i).Kind() == reflect.String {
			f(v.Type().Field(i).Name, v.Field(i))
		}
	}
}

// checkDetails fails unless every key and string in v, at any depth, is at most MaxTextBytes.
func checkDetails(t *testing.T, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case string:
		if len(v) > audit.MaxTextBytes || !utf8.ValidString(v) {
			t.Errorf("%s: %d bytes", path, len(v))
		}
	case map[string]any:
		for k, e := range v {
			if len(k) > audit.MaxTextBytes {
				t.Errorf("%s: key of %d bytes", path, len(k))
			}
			checkDetails(t, path+"."+k[:min(len(k), 10)], e)
		}
	case []any:
		for i, e := range v {
			checkDetails(t, fmt.Sprintf("%s[%d]", path, i), e)
		}
	}
}

func TestAppend_BoundsEveryStringFieldAndDetails(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	long := strings.Repeat("x", 600)
	var ev audit.Event
	eachString(&ev, func(_ string, v reflect.Value) { v.SetString(long) })
	type nested struct {
		Name string   `json:"name"`
		List []string `json:"list"`
	}
	ev.Details = map[string]any{
		"before": long,
		long:     "a long key",
		"after":  map[string]any{"server": nested{Name: long, List: []string{"ok", long}}},
	}
	appended := mustAppend(t, l, ev)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	reopened := openLog(t, audit.Options{Path: path}).Query(audit.Filter{})
	if len(reopened) != 1 {
		t.Fatalf("%d events after reopening, want 1", len(reopened))
	}
	for _, c := range []struct {
		name string
		e    audit.Event
	}{{"returned", appended}, {"in the file", fileEvents(t, path)[0]}, {"reopened", reopened[0]}} {
		t.Run(c.name, func(t *testing.T) {
			eachString(&c.e, func(name string, v reflect.Value) {
				t.Run(name, func(t *testing.T) { checkTruncated(t, v.String(), long) })
			})
			checkDetails(t, "details", c.e.Details)
			if got := c.e.Details["after"].(map[string]any)["server"].(map[string]any)["list"].([]any)[0]; got != "ok" {
				t.Errorf("short string in details changed to %q", got)
			}
		})
	}
}

// manyStrings is n details of string values, which take the bound's path
// for strings alone.
func manyStrings(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[fmt.Sprintf("k%04d", i)] = "v"
	}
	return m
}

func TestAppend_BoundsTheNumberOfDetailsKeys(t *testing.T) {
	many := func(n int) map[string]any {
		m := make(map[string]any, n)
		for i := range n {
			m[fmt.Sprintf("k%04d", i)] = i
		}
		return m
	}
	tests := []struct {
		name      string
		details   map[string]any
		truncated string // TruncatedKey's value, "" for none
	}{
		{"within the bound", many(audit.MaxDetailsKeys), ""},
		{"flat", many(1000), fmt.Sprintf("[truncated %d keys and elements]", 1000-audit.MaxDetailsKeys)},
		{"nested maps count too", map[string]any{"a": many(200), "b": many(200)}, "[truncated 146 keys and elements]"},
		{"so do array elements", map[string]any{"list": make([]any, 300)}, "[truncated 45 keys and elements]"},
		{"strings, one over the bound", manyStrings(audit.MaxDetailsKeys + 1), "[truncated 1 keys and elements]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openLog(t, audit.Options{})
			e := mustAppend(t, l, audit.Event{Type: audit.TypeAdminChange, Details: tt.details})
			stored := l.Query(audit.Filter{})[0]
			for _, d := range []map[string]any{e.Details, stored.Details} {
				if got := audit.Count(d); got > audit.MaxDetailsKeys+1 {
					t.Errorf("%d keys and elements kept", got)
				}
				if got, _ := d[audit.TruncatedKey].(string); got != tt.truncated {
					t.Errorf("%s = %q, want %q", audit.TruncatedKey, got, tt.truncated)
				}
			}
		})
	}
}

// TestAppend_HugeRequestFieldsStaySmall is the regression test for a client that sends a
// 60,000-byte username on every request: ten thousand of them must not cost 600 MB of disk.
func TestAppend_HugeRequestFieldsStaySmall(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 10,000 events to a file")
	}
	const n, goroutines = 10000, 16
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	user := strings.Repeat("u", 60000)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range n / goroutines {
				if _, err := l.Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied, User: user, Reason: "unknown username"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 10<<20 {
		t.Errorf("file is %d bytes after %d events", fi.Size(), n)
	}
	events, bytes := l.IndexStats()
	if bytes > 10<<20 || bytes > audit.DefaultMaxBytes {
		t.Errorf("index counts %d bytes for %d events", bytes, events)
	}
	evs := l.Query(audit.Filter{Limit: 1000})
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	for _, e := range evs {
		checkTruncated(t, e.User, user)
	}
	t.Logf("file %d bytes; index %d events, %d bytes", fi.Size(), events, bytes)
}

// TestTruncate_RedactsTokens: a JWT or JWE (a token, a code) inside an
// audit string, an error description or a log value keeps only its
// header, whatever its length: a short one would pass the byte bound whole.
func TestTruncate_RedactsTokens(t *testing.T) {
	jws := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	jwe := "eyJhbGciOiJBMjU2R0NNS1ciLCJlbmMiOiJBMjU2R0NNIn0.a2V5.aXY.Y2lwaGVy.dGFn"
	for _, in := range []string{jws, jwe, `resource "` + jws + `" does not belong`, jws + " and " + jwe} {
		got := audit.Truncate(in)
		if strings.Contains(got, "c2lnbmF0dXJl") || strings.Contains(got, "Y2lwaGVy") || strings.Contains(got, "eyJzdWIiOiJhbGljZSJ9") {
			t.Errorf("Truncate(%q) = %q: the token is still there", in, got)
		}
		if !strings.Contains(got, "[token redacted]") || !strings.HasPrefix(got, in[:5]) {
			t.Errorf("Truncate(%q) = %q, want the header and a marker", in, got)
		}
		if again := audit.Truncate(got); again != got {
			t.Errorf("Truncate is not idempotent: %q, then %q", got, again)
		}
		if got := audit.TruncateTo(in, 1024); strings.Contains(got, "c2lnbmF0dXJl") || strings.Contains(got, "Y2lwaGVy") {
			t.Errorf("TruncateTo(%q) = %q: the token is still there", in, got)
		}
	}
	for _, keep := range []string{"eyJ", "eyJhbGc", "http://127.0.0.1:8201/mcp", "a.b.c", "01a2443293a700003270d724"} {
		if got := audit.Truncate(keep); got != keep {
			t.Errorf("Truncate(%q) = %q, want it unchanged", keep, got)
		}
	}

	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	ev, err := log.Append(audit.Event{Type: audit.TypeToken, Outcome: audit.Error, ClientID: jwe, Reason: "client_id " + jwe,
		Details: map[string]any{"sent": jws}})
	if err != nil {
		t.Fatal(err)
	}
	if line := fmt.Sprint(ev); strings.Contains(line, "Y2lwaGVy") || strings.Contains(line, "c2lnbmF0dXJl") {
		t.Errorf("the recorded event holds a token: %s", line)
	}
}

// TestAppend_BoundsDetailsOfStringsOnly: details whose values are all strings (a token
// exchange's) are bounded as any others, in the event returned, the file and the index: long
// values and keys cut, keys beyond MaxDetailsKeys dropped and counted, short ones kept as sent.
func TestAppend_BoundsDetailsOfStringsOnly(t *testing.T) {
	long := strings.Repeat("y", 700)
	many := make(map[string]any, 300)
	for i := range 300 {
		many[fmt.Sprintf("k%04d", i)] = "v"
	}
	for _, tt := range []struct {
		name      string
		details   map[string]any
		truncated string
	}{
		{"a long value", map[string]any{"client_id_at_server": "mcp-client", "sent": long}, ""},
		{"a long key", map[string]any{long: "x", "short": "ok"}, ""},
		{"too many keys", many, fmt.Sprintf("[truncated %d keys and elements]", 300-audit.MaxDetailsKeys)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := tempPath(t)
			l := openLog(t, audit.Options{Path: path})
			e := mustAppend(t, l, audit.Event{Type: audit.TypeTokenExchange, Details: tt.details})
			stored := l.Query(audit.Filter{})[0]
			for _, d := range []map[string]any{e.Details, stored.Details, fileEvents(t, path)[0].Details} {
				checkDetails(t, "details", d)
				if got, _ := d[audit.TruncatedKey].(string); got != tt.truncated {
					t.Errorf("%s = %q, want %q", audit.TruncatedKey, got, tt.truncated)
				}
				for k, v := range tt.details {
					if len(k) < 100 && len(v.(string)) < 100 && d[k] != nil && d[k] != v {
						t.Errorf("details[%q] = %v, want %v as sent", k, d[k], v)
					}
				}
				if tt.truncated == "" && len(d) != len(tt.details) {
					t.Errorf("%d keys kept of %d", len(d), len(tt.details))
				}
			}
		})
	}
}

// TestOpen_TruncatedDetailsReadBackAsWritten: an event whose details were cut reads back from
// the file, after a restart, as it was appended: the marker is not counted as one more key
// (which cut one more element and made it say 1 where the file says how many were dropped).
func TestOpen_TruncatedDetailsReadBackAsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(audit.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	e := mustAppend(t, l, audit.Event{Type: audit.TypeAdminChange, Details: map[string]any{"file": "idp.yaml", "list": make([]any, 300)}})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = audit.Open(audit.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	back := l.Query(audit.Filter{})[0]
	if got, want := back.Details[audit.TruncatedKey], e.Details[audit.TruncatedKey]; got != want {
		t.Errorf("read back: %s = %v, appended %v", audit.TruncatedKey, got, want)
	}
	if got, want := audit.Count(back.Details), audit.Count(e.Details); got != want {
		t.Errorf("read back: %d keys and elements, appended %d", got, want)
	}
}
