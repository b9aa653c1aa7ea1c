package audit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// openLog opens a log and closes it when the test ends, if the test has not.
func openLog(t testing.TB, opts audit.Options) *audit.Log {
	t.Helper()
	l, err := audit.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "audit.jsonl")
}

// fileEvents reads path as JSON Lines, failing the test unless every line, the last included,
// is a whole event ending in a newline.
func fileEvents(t testing.TB, path string) []audit.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("%s does not end with a newline: ...%q", path, data[max(0, len(data)-40):])
	}
	if len(data) == 0 {
		return nil
	}
	var evs []audit.Event
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var e audit.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%s:%d: %v: %q", path, i+1, err, line)
		}
		evs = append(evs, e)
	}
	return evs
}

func mustAppend(t testing.TB, l *audit.Log, e audit.Event) audit.Event {
	t.Helper()
	got, err := l.Append(e)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// reasons lists the Reason of each event, the label these tests give events.
func reasons(evs []audit.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Reason
	}
	return out
}
