package audit_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// The index keeps lines and filters on where their fields are; these tests check it against the
// plain definition: decode every event, keep those whose fields equal the filter's.

// refMatch is Filter's definition on a decoded event.
func refMatch(f audit.Filter, e audit.Event) bool {
	return (f.Type == "" || e.Type == f.Type) &&
		(f.Tenant == "" || e.Tenant == f.Tenant) &&
		(f.User == "" || e.User == f.User) &&
		(f.Client == "" || e.ClientID == f.Client) &&
		(f.Server == "" || e.Server == f.Server) &&
		(f.Outcome == "" || e.Outcome == f.Outcome) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until))
}

// refQuery is Query on all, oldest first, as decoded events.
func refQuery(f audit.Filter, all []audit.Event) ([]audit.Event, bool) {
	limit := f.Limit
	if limit <= 0 {
		limit = audit.DefaultQueryLimit
	}
	limit = min(limit, audit.MaxQueryLimit)
	end := len(all)
	if f.Before != "" {
		end = -1
		for i := len(all) - 1; i >= 0; i-- {
			if all[i].ID == f.Before {
				end = i
				break
			}
		}
		if end < 0 {
			return []audit.Event{}, false
		}
	}
	start := 0
	if f.After != "" {
		start = -1
		for i := range all {
			if all[i].ID == f.After {
				start = i + 1
			}
		}
		if start < 0 {
			return []audit.Event{}, false
		}
		out := []audit.Event{}
		for i := start; i < end; i++ {
			if refMatch(f, all[i]) {
				if len(out) == limit {
					slices.Reverse(out)
					return out, true
				}
				out = append(out, all[i])
			}
		}
		slices.Reverse(out)
		return out, false
	}
	out := []audit.Event{}
	for i := end - 1; i >= start; i-- {
		if refMatch(f, all[i]) {
			if len(out) == limit {
				return out, true
			}
			out = append(out, all[i])
		}
	}
	return out, false
}

// asStored is e as the index returns it: Details decoded from JSON, numbers as float64.
func asStored(t *testing.T, e audit.Event) audit.Event {
	t.Helper()
	if e.Details == nil {
		return e
	}
	b, err := json.Marshal(e.Details)
	if err != nil {
		t.Fatal(err)
	}
	e.Details = nil
	if err := json.Unmarshal(b, &e.Details); err != nil {
		t.Fatal(err)
	}
	return e
}

// oddStrings need escaping, or are not valid UTF-8, or are prefixes of one another.
var oddStrings = []string{"", "a", "ab", `a"b`, `a\b`, "a\nb", "a\u2028b", "caf\u00e9", "\xff", "\ufffd", "<&>", "\x01"}

func indexEvents() []audit.Event {
	base := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	var evs []audit.Event
	for i := range 300 {
		s := func(k int) string { return oddStrings[(i*k+k)%len(oddStrings)] }
		e := audit.Event{
			Time: base.Add(time.Duration(i%37) * 500 * time.Millisecond),
			Type: s(1), Tenant: s(2), Outcome: s(3), User: s(5), ClientID: s(7), Server: s(11),
			Reason: fmt.Sprint("event ", i), Injected: i%9 == 0,
		}
		switch i % 5 {
		case 0:
			e.Details = map[string]any{"n": 1.5, "big": 1 << 40, "list": []any{"x", 2, nil, true}, "s": s(13)}
		case 1:
			e.ID = fmt.Sprintf("caller-%d", i%40) // duplicates
		case 2:
			e.ID = "quote\"" + s(3)
		}
		evs = append(evs, e)
	}
	return evs
}

func indexFilters(all []audit.Event) []audit.Filter {
	base := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	var fs []audit.Filter
	for _, s := range oddStrings {
		fs = append(fs, audit.Filter{Type: s}, audit.Filter{Tenant: s}, audit.Filter{Outcome: s},
			audit.Filter{User: s}, audit.Filter{Client: s}, audit.Filter{Server: s, Limit: 1000},
			audit.Filter{Type: s, Outcome: s, Limit: 3})
	}
	fs = append(fs,
		audit.Filter{Since: base.Add(3 * time.Second)},
		audit.Filter{Since: base.Add(3*time.Second + 1)},
		audit.Filter{Until: base.Add(3 * time.Second), Limit: 1000},
		audit.Filter{Since: base.Add(time.Second), Until: base.Add(2500 * time.Millisecond), User: "a"},
		audit.Filter{Limit: -1}, audit.Filter{Limit: 5000}, audit.Filter{Before: "nonesuch"}, audit.Filter{After: "nonesuch"})
	for i := 0; i < len(all); i += 7 {
		fs = append(fs, audit.Filter{Before: all[i].ID, Limit: 10}, audit.Filter{Before: all[i].ID, Type: all[i].Type},
			audit.Filter{After: all[i].ID, Limit: 10}, audit.Filter{After: all[i].ID, Type: all[i].Type})
	}
	return fs
}

func checkQueries(t *testing.T, l *audit.Log, all []audit.Event) {
	t.Helper()
	for _, f := range indexFilters(all) {
		got, gotMore := l.QueryPage(f)
		want, wantMore := refQuery(f, all)
		if gotMore != wantMore || !reflect.DeepEqual(got, want) {
			t.Errorf("QueryPage(%+v): %d events (more %v), want %d (more %v)", f, len(got), gotMore, len(want), wantMore)
			for i := range min(len(got), len(want)) {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("first difference at %d:\n got %+v\nwant %+v", i, got[i], want[i])
					break
				}
			}
		}
	}
}

func TestIndexMatchesDecodedEvents(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	var all []audit.Event
	for _, e := range indexEvents() {
		all = append(all, asStored(t, mustAppend(t, l, e)))
	}
	checkQueries(t, l, all)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the index holds what the file says.
	l = openLog(t, audit.Options{Path: path})
	checkQueries(t, l, fileEvents(t, path))
}

// TestIndexLoadsExactTimes: a line written by hand may give a time in any offset and precision;
// the index keeps it as decoded.
func TestIndexLoadsExactTimes(t *testing.T) {
	path := tempPath(t)
	lines := []string{
		`{"time":"2026-11-25T19:00:00.123456789+01:00","id":"a","type":"login","outcome":"allowed"}`,
		`{"time":"0000-01-01T00:30:00+01:00","id":"b","type":"login","outcome":"allowed"}`,
		`{"time":"2026-11-25T18:00:01Z","id":"c","type":"login","outcome":"allowed","user":"` + strings.Repeat("x", 600) + `"}`,
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, audit.Options{Path: path})
	all := fileEvents(t, path)
	all[2].User = audit.Truncate(all[2].User)
	checkQueries(t, l, all)
	if got := l.Query(audit.Filter{Since: all[0].Time.Add(-1), Until: all[0].Time.Add(1)}); len(got) != 1 || got[0].ID != "a" {
		t.Errorf("nanosecond range: %+v", got)
	}
}

// TestQueryDetailsAreTheCallers: each Query decodes its own events.
func TestQueryDetailsAreTheCallers(t *testing.T) {
	l := openLog(t, audit.Options{})
	mustAppend(t, l, audit.Event{Type: audit.TypeAdminChange, Details: map[string]any{"k": "v"}})
	l.Query(audit.Filter{})[0].Details["k"] = "changed"
	if got := l.Query(audit.Filter{})[0].Details["k"]; got != "v" {
		t.Errorf("Details[k] = %v after another caller's change", got)
	}
}
