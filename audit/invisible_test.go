package audit_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
)

// TestFile_InvisibleCharactersEscaped: a user name, a reason and details holding bidi
// controls, zero-width characters and a C1 control reach the file escaped as \uXXXX, so that
// tail -f or grep of it shows the line in its order (Trojan Source, CVE-2021-42574); a JSON
// reader, the log reopened and a query by the user get the strings back unchanged.
func TestFile_InvisibleCharactersEscaped(t *testing.T) {
	const user = "mallory\u202eexe.txt"
	ev := audit.Event{
		Type: audit.TypeLogin, Outcome: audit.Denied, User: user,
		Reason:  "password \u2066wrong\u2069 for \u200bmallory\ufeff",
		Details: map[string]any{"note\u202e": "c1 \u009b31m", "n": 1.0}, // not strings only: encoding/json's path
	}
	path := tempPath(t)
	l := openLog(t, audit.Options{Path: path})
	mustAppend(t, l, ev)
	strs := ev
	strs.Details = map[string]any{"note\u202e": "\u2067x\u2069"} // strings only: the hand-written path
	mustAppend(t, l, strs)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexFunc(data, jsonstr.Invisible); i >= 0 {
		t.Fatalf("the file holds an invisible character raw at byte %d:\n%s", i, data)
	}
	for _, esc := range []string{`mallory\u202eexe.txt`, `\u2066wrong\u2069`, `\u200b`, `\ufeff`, `"note\u202e"`, `\u009b31m`, `\u2067x\u2069`} {
		if !bytes.Contains(data, []byte(esc)) {
			t.Errorf("the file does not hold %s:\n%s", esc, data)
		}
	}
	evs := fileEvents(t, path)
	if len(evs) != 2 || evs[0].User != user || evs[0].Reason != ev.Reason ||
		evs[0].Details["note\u202e"] != "c1 \u009b31m" || evs[1].Details["note\u202e"] != "\u2067x\u2069" {
		t.Fatalf("read back %+v", evs)
	}
	l = openLog(t, audit.Options{Path: path})
	got := l.Query(audit.Filter{User: user})
	if len(got) != 2 || got[0].Reason != ev.Reason {
		t.Fatalf("query by user %q after reopening: %+v", user, got)
	}
}
