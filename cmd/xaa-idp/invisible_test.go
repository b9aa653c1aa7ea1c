package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
)

// hostileName is a user name with a bidi override, an isolate, zero-width characters, a C1
// control and a tag character: each reorders or hides text in a terminal.
const hostileName = "mallory\u202eexe.txt\u2066\u200b\ufeff\u009b\U000E0041"

// TestLogs_InvisibleCharactersEscaped: in both log formats an audit event's user and reason
// holding invisible characters are written escaped, and the JSON line reads back as the same
// strings.
func TestLogs_InvisibleCharactersEscaped(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var out syncBuffer
			restore := logInfoTo(t, format, &out)
			logAuditEvent(slog.Default(), audit.Event{Type: audit.TypeLogin, Outcome: audit.Denied,
				User: hostileName, Reason: "wrong password for " + hostileName})
			restore()
			line := out.String()
			if i := strings.IndexFunc(line, jsonstr.Invisible); i >= 0 {
				t.Fatalf("the log line holds %U raw: %q", []rune(line[i:])[0], line)
			}
			if format == "json" {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
				if rec["user"] != hostileName || rec["reason"] != "wrong password for "+hostileName {
					t.Errorf("the JSON line reads back as %q, %q", rec["user"], rec["reason"])
				}
			}
		})
	}
}

// TestTerminalSafe_FormatCharacters: besides the bidi controls, the zero-width characters, the
// BOM and the tag characters are escaped too, as JSON escapes them, so printed JSON decodes
// back to the same text.
func TestTerminalSafe_FormatCharacters(t *testing.T) {
	var b bytes.Buffer
	printJSON(terminalSafe(&b), map[string]string{"user": hostileName})
	if i := strings.IndexFunc(b.String(), jsonstr.Invisible); i >= 0 {
		t.Fatalf("printed %q", b.String())
	}
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["user"] != hostileName {
		t.Errorf("JSON through terminalSafe: %q, %q, %v", b.String(), back["user"], err)
	}
}

// TestExplain_InvisibleCharactersEscaped: explain prints the user and client it was given
// (the reason quotes them) with their invisible characters escaped.
func TestExplain_InvisibleCharactersEscaped(t *testing.T) {
	for _, args := range [][]string{
		{"explain", "--user", hostileName, "--client", "mcp-client", "--audience", "tracker"},
		{"explain", "--user", "alice", "--client", hostileName, "--audience", "tracker"},
	} {
		_, out, errb := runCLI(t, args...)
		if i := strings.IndexFunc(out+errb, jsonstr.Invisible); i >= 0 {
			t.Errorf("%q prints invisible characters raw:\n%s%s", args, out, errb)
		}
		if !strings.Contains(out, `mallory\u202eexe.txt\u2066\u200b\ufeff\u009b\udb40\udc41`) {
			t.Errorf("%q does not show the name escaped:\n%s%s", args, out, errb)
		}
	}
}
