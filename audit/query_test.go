package audit_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

var t0 = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

// queryFixture appends e0 (oldest) to e5, one minute apart.
func queryFixture(t *testing.T) *audit.Log {
	l := openLog(t, audit.Options{})
	for i, e := range []audit.Event{
		{Type: audit.TypeLogin, Outcome: audit.Allowed, User: "alice", ClientID: "web"},
		{Type: audit.TypeTokenExchange, Outcome: audit.Allowed, User: "alice", ClientID: "mcp-client", Server: "chat"},
		{Type: audit.TypeTokenExchange, Outcome: audit.Denied, Error: "access_denied", User: "bob", ClientID: "mcp-client", Server: "chat"},
		{Type: audit.TypeTokenExchange, Outcome: audit.Allowed, User: "bob", ClientID: "mcp-client", Server: "files"},
		{Type: audit.TypeAdminChange, Outcome: audit.Allowed, Admin: "carol"},
		{Type: audit.TypeToken, Outcome: audit.Error, Error: "invalid_grant", User: "alice", ClientID: "web"},
	} {
		e.Time = t0.Add(time.Duration(i) * time.Minute)
		e.Reason = fmt.Sprintf("e%d", i)
		mustAppend(t, l, e)
	}
	return l
}

func TestQuery_Filters(t *testing.T) {
	l := queryFixture(t)
	tests := []struct {
		name string
		f    audit.Filter
		want []string
	}{
		{"zero filter is everything newest first", audit.Filter{}, []string{"e5", "e4", "e3", "e2", "e1", "e0"}},
		{"type", audit.Filter{Type: audit.TypeTokenExchange}, []string{"e3", "e2", "e1"}},
		{"user", audit.Filter{User: "alice"}, []string{"e5", "e1", "e0"}},
		{"client matches client_id", audit.Filter{Client: "mcp-client"}, []string{"e3", "e2", "e1"}},
		{"server", audit.Filter{Server: "chat"}, []string{"e2", "e1"}},
		{"outcome", audit.Filter{Outcome: audit.Denied}, []string{"e2"}},
		{"fields combine", audit.Filter{User: "bob", Outcome: audit.Allowed}, []string{"e3"}},
		{"since is inclusive", audit.Filter{Since: t0.Add(4 * time.Minute)}, []string{"e5", "e4"}},
		{"until is exclusive", audit.Filter{Until: t0.Add(2 * time.Minute)}, []string{"e1", "e0"}},
		{"since and until", audit.Filter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []string{"e2", "e1"}},
		{"limit keeps the newest", audit.Filter{Limit: 2}, []string{"e5", "e4"}},
		{"limit counts matches only", audit.Filter{User: "alice", Limit: 2}, []string{"e5", "e1"}},
		{"no match", audit.Filter{User: "mallory"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reasons(l.Query(tt.f)); !slices.Equal(got, tt.want) {
				t.Errorf("Query(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func TestQuery_BeforePagesThroughEverythingOnce(t *testing.T) {
	l := openLog(t, audit.Options{})
	for i := range 25 {
		mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Outcome: audit.Allowed, Reason: fmt.Sprint(i), User: []string{"alice", "bob"}[i%2]})
	}
	for _, f := range []audit.Filter{{}, {User: "bob"}} {
		all := l.Query(audit.Filter{User: f.User})
		var paged []audit.Event
		f.Limit = 4
		for pages := 0; ; pages++ {
			if pages > 25 {
				t.Fatal("pagination does not end")
			}
			page, more := l.QueryPage(f)
			paged = append(paged, page...)
			if !more {
				break
			}
			f.Before = page[len(page)-1].ID
		}
		if !slices.Equal(reasons(paged), reasons(all)) {
			t.Errorf("user %q: pages gave %v, one query gave %v", f.User, reasons(paged), reasons(all))
		}
	}
}

func TestQuery_BeforeUnknownIDSelectsNothing(t *testing.T) {
	l := queryFixture(t)
	if got := l.Query(audit.Filter{Before: "no-such-id"}); len(got) != 0 {
		t.Errorf("got %v", reasons(got))
	}
}

func TestQuery_LimitDefaultsTo100AndIsCappedAt1000(t *testing.T) {
	l := openLog(t, audit.Options{})
	for range 1200 {
		mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
	}
	tests := []struct {
		limit, want int
	}{
		{0, audit.DefaultQueryLimit},
		{-1, audit.DefaultQueryLimit},
		{1, 1},
		{audit.MaxQueryLimit, audit.MaxQueryLimit},
		{audit.MaxQueryLimit + 1, audit.MaxQueryLimit},
		{audit.DefaultCapacity, audit.MaxQueryLimit},
	}
	for _, tt := range tests {
		if got := len(l.Query(audit.Filter{Limit: tt.limit})); got != tt.want {
			t.Errorf("Limit %d: got %d events, want %d", tt.limit, got, tt.want)
		}
	}
	if audit.DefaultQueryLimit != 100 || audit.MaxQueryLimit != 1000 {
		t.Errorf("DefaultQueryLimit %d, MaxQueryLimit %d; the admin API documents 100 and 1000", audit.DefaultQueryLimit, audit.MaxQueryLimit)
	}
}

func TestQueryPage_ReportsWhetherMoreMatch(t *testing.T) {
	l := openLog(t, audit.Options{})
	var ids []string // oldest first: e0 bob, e1 alice, e2 bob, ...
	for i := range 10 {
		e := mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: fmt.Sprintf("e%d", i), User: []string{"bob", "alice"}[i%2]})
		ids = append(ids, e.ID)
	}
	tests := []struct {
		name string
		f    audit.Filter
		want []string
		more bool
	}{
		{"first page", audit.Filter{Limit: 3}, []string{"e9", "e8", "e7"}, true},
		{"middle page", audit.Filter{Limit: 3, Before: ids[4]}, []string{"e3", "e2", "e1"}, true},
		{"last page, exactly full", audit.Filter{Limit: 3, Before: ids[3]}, []string{"e2", "e1", "e0"}, false},
		{"last page, short", audit.Filter{Limit: 3, Before: ids[2]}, []string{"e1", "e0"}, false},
		{"before the oldest", audit.Filter{Before: ids[0]}, []string{}, false},
		{"all in one", audit.Filter{Limit: 10}, []string{"e9", "e8", "e7", "e6", "e5", "e4", "e3", "e2", "e1", "e0"}, false},
		{"more counts matches only", audit.Filter{User: "alice", Limit: 2, Before: ids[6]}, []string{"e5", "e3"}, true},
		{"older non-matches are not more", audit.Filter{User: "alice", Limit: 2, Before: ids[4]}, []string{"e3", "e1"}, false},
		{"newer page", audit.Filter{Limit: 3, After: ids[2]}, []string{"e5", "e4", "e3"}, true},
		{"newer page, the newest exactly", audit.Filter{Limit: 3, After: ids[6]}, []string{"e9", "e8", "e7"}, false},
		{"newer page, short", audit.Filter{Limit: 3, After: ids[7]}, []string{"e9", "e8"}, false},
		{"after the newest", audit.Filter{After: ids[9]}, []string{}, false},
		{"newer matches only", audit.Filter{User: "alice", Limit: 2, After: ids[2]}, []string{"e5", "e3"}, true},
		{"newer non-matches are not more", audit.Filter{User: "alice", Limit: 2, After: ids[6]}, []string{"e9", "e7"}, false},
		{"between after and before", audit.Filter{Limit: 10, After: ids[2], Before: ids[6]}, []string{"e5", "e4", "e3"}, false},
		{"after an unknown id", audit.Filter{After: "no-such-id"}, []string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more := l.QueryPage(tt.f)
			if !slices.Equal(reasons(got), tt.want) || more != tt.more {
				t.Errorf("QueryPage = %v, %v; want %v, %v", reasons(got), more, tt.want, tt.more)
			}
			if q := l.Query(tt.f); !slices.Equal(reasons(q), tt.want) {
				t.Errorf("Query = %v, want %v", reasons(q), tt.want)
			}
		})
	}
}

func TestRing_KeepsOnlyTheNewestCapacityEvents(t *testing.T) {
	l := openLog(t, audit.Options{Capacity: 5})
	var all []audit.Event
	for i := range 12 {
		all = append(all, mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: fmt.Sprint(i)}))
	}
	if l.Len() != 5 {
		t.Errorf("Len = %d, want 5", l.Len())
	}
	if got, want := reasons(l.Query(audit.Filter{Limit: 50})), []string{"11", "10", "9", "8", "7"}; !slices.Equal(got, want) {
		t.Errorf("Query = %v, want %v (limit capped at capacity)", got, want)
	}
	if got := l.Query(audit.Filter{Before: all[3].ID}); len(got) != 0 {
		t.Errorf("Before an evicted event: got %v, want nothing", reasons(got))
	}
	if got, want := reasons(l.Query(audit.Filter{Before: all[9].ID})), []string{"8", "7"}; !slices.Equal(got, want) {
		t.Errorf("Before event 9: got %v, want %v", got, want)
	}
	// Every event newer than an evicted one is held: a page that was
	// open while the log moved on still leads forward, from the oldest.
	if got, want := reasons(l.Query(audit.Filter{After: all[3].ID, Limit: 2})), []string{"8", "7"}; !slices.Equal(got, want) {
		t.Errorf("After an evicted event: got %v, want %v", got, want)
	}
	if got, want := reasons(l.Query(audit.Filter{After: all[9].ID})), []string{"11", "10"}; !slices.Equal(got, want) {
		t.Errorf("After event 9: got %v, want %v", got, want)
	}
}

func TestAppend_IDsIncreaseInAppendOrderEvenWithAStoppedClock(t *testing.T) {
	l := openLog(t, audit.Options{Now: func() time.Time { return t0 }})
	prev := ""
	for range 70000 { // more than one millisecond's worth of sequence numbers
		e := mustAppend(t, l, audit.Event{Type: audit.TypeLogin})
		if e.ID <= prev {
			t.Fatalf("ID %q after %q", e.ID, prev)
		}
		prev = e.ID
	}
}

// lineBytes is what an event counts for against Options.MaxBytes: its JSON line with the newline.
func lineBytes(t *testing.T, e audit.Event) int64 {
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(b)) + 1
}

func TestIndex_EvictsTheOldestOverEitherBound(t *testing.T) {
	event := func(i int, size int) audit.Event {
		return audit.Event{Time: t0, ID: fmt.Sprintf("id%03d", i), Type: audit.TypeLogin, Reason: fmt.Sprint(i), User: strings.Repeat("u", size)}
	}
	one := lineBytes(t, event(0, 100)) // every event below has the same size
	tests := []struct {
		name     string
		opts     audit.Options
		sizes    []int // user lengths, oldest first
		want     []string
		wantSize int64
	}{
		{"within both", audit.Options{Capacity: 10, MaxBytes: 10 * one}, []int{100, 100, 100}, []string{"2", "1", "0"}, 3 * one},
		{"count bound", audit.Options{Capacity: 2, MaxBytes: 10 * one}, []int{100, 100, 100}, []string{"2", "1"}, 2 * one},
		{"byte bound", audit.Options{Capacity: 10, MaxBytes: 2*one + 1}, []int{100, 100, 100, 100}, []string{"3", "2"}, 2 * one},
		{"a big event evicts several", audit.Options{Capacity: 10, MaxBytes: 4 * one},
			[]int{100, 100, 100, 100, 300}, []string{"4", "3", "2"}, 2*one + lineBytes(t, event(4, 300))},
		{"the newest stays even if too big", audit.Options{Capacity: 10, MaxBytes: one / 2},
			[]int{100, 100}, []string{"1"}, one},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openLog(t, tt.opts)
			for i, size := range tt.sizes {
				mustAppend(t, l, event(i, size))
			}
			if got := reasons(l.Query(audit.Filter{})); !slices.Equal(got, tt.want) {
				t.Errorf("Query = %v, want %v", got, tt.want)
			}
			if events, bytes := l.IndexStats(); events != len(tt.want) || bytes != tt.wantSize {
				t.Errorf("IndexStats = %d events, %d bytes; want %d, %d", events, bytes, len(tt.want), tt.wantSize)
			}
		})
	}
}

func TestOpen_LoadsNoMoreThanMaxBytes(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	var size int64
	for i := range 10 {
		size = lineBytes(t, mustAppend(t, l, audit.Event{Type: audit.TypeLogin, Reason: fmt.Sprint(i)}))
	}
	l.Close()
	l = openLog(t, audit.Options{Path: path, MaxBytes: 3 * size})
	if got, want := reasons(l.Query(audit.Filter{})), []string{"9", "8", "7"}; !slices.Equal(got, want) {
		t.Errorf("Query = %v, want %v", got, want)
	}
	if _, bytes := l.IndexStats(); bytes != 3*size {
		t.Errorf("IndexStats bytes = %d, want %d", bytes, 3*size)
	}
}

func TestOpen_NegativeMaxBytesIsAnError(t *testing.T) {
	if _, err := audit.Open(audit.Options{MaxBytes: -1}); err == nil {
		t.Error("no error")
	}
}

// User matches an event's user or an element of its details.users (the users a change named),
// whole strings only, whatever they hold; and so after a reopen, which reads them from the file.
func TestQuery_UserMatchesDetailsUsers(t *testing.T) {
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	users := []string{`a"b`, `c\`, "d", "bidi\u202eevil", "é"}
	mustAppend(t, l, audit.Event{Type: "admin_change", Reason: "many", Details: map[string]any{"users": users, "before": map[string]any{"users": []string{"nested"}}}})
	mustAppend(t, l, audit.Event{Type: "admin_change", Reason: "numbers", Details: map[string]any{"users": []any{1, "x"}}})
	mustAppend(t, l, audit.Event{Type: "admin_change", Reason: "string", Details: map[string]any{"users": "y"}})
	mustAppend(t, l, audit.Event{Type: "login", Reason: "own", User: "d"})
	check := func(l *audit.Log) {
		t.Helper()
		for user, want := range map[string][]string{
			`a"b`: {"many"}, `c\`: {"many"}, "d": {"own", "many"}, "bidi\u202eevil": {"many"}, "é": {"many"},
			"a": nil, `b`: nil, `c`: nil, "nested": nil, "x": nil, "y": nil, `a"b","c\`: nil,
		} {
			if got := reasons(l.Query(audit.Filter{User: user})); !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Errorf("user %q: %v, want %v", user, got, want)
			}
		}
		if got := reasons(l.Query(audit.Filter{User: "d", Type: "admin_change"})); !slices.Equal(got, []string{"many"}) {
			t.Errorf("user d, type admin_change: %v", got)
		}
	}
	check(l)
	l.Close()
	check(openLog(t, audit.Options{Path: path}))
}
