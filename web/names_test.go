package web

import (
	"slices"
	"testing"
)

// TestNames_ReadWhatNameListShows: an editor field reads back, name for
// name, what the page shows of a list (nameList), whatever the names hold;
// and a quote that does not begin a name is a quote.
func TestNames_ReadWhatNameListShows(t *testing.T) {
	for _, list := range [][]string{
		{"alice", "bob"},
		{"Platform Team"},
		{"R&D, Berlin", "Smith, John"},
		{`5" display`, `"quoted"`, `a""b`, `,`},
	} {
		if got := names(nameList(list)); !slices.Equal(got, list) {
			t.Errorf("names(%q) = %q, want %q", nameList(list), got, list)
		}
	}
	for typed, want := range map[string][]string{
		` alice , "Smith, John" ,bob`: {"alice", "Smith, John", "bob"},
		`5" display, x`:               {`5" display`, "x"},
		`"unclosed, still one`:        {"unclosed, still one"},
		"a\nb\r\nc,,":                 {"a", "b", "c"},
		`""`:                          nil,
	} {
		if got := names(typed); !slices.Equal(got, want) {
			t.Errorf("names(%q) = %q, want %q", typed, got, want)
		}
	}
}
