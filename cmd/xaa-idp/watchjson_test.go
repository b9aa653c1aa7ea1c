package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestConnect_WatchJSONPrintsJSONLines: connect --watch --json printed the
// same text lines as --watch alone, so that a script reading JSON from it
// got none. With --json, each change is one JSON object on its own line
// (the fields of connect --json, and time). The IdP here lists two MCP
// servers that refuse every connection.
func TestConnect_WatchJSONPrintsJSONLines(t *testing.T) {
	issuer := hostileIdP(t)
	out, errb := runWatch(t, 2, "connect", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p", "--watch", "--json", "--timeout", "1s", "--interval", "1h")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(out) == 0 || len(lines) != 2 {
		t.Fatalf("connect --watch --json printed %d lines, want one per server (2):\n%s\nstderr: %s", len(lines), out, errb)
	}
	for _, l := range lines {
		var ev struct {
			Time      string `json:"time"`
			MCPServer string `json:"mcp_server"`
			Connected *bool  `json:"connected"`
			Error     string `json:"error"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.MCPServer == "" || ev.Connected == nil || *ev.Connected || ev.Error == "" {
			t.Errorf("line %q: %v; want a JSON object with mcp_server, connected false and error", l, err)
		}
		if _, err := time.Parse(time.RFC3339, ev.Time); err != nil {
			t.Errorf("line %q: time %q is not RFC 3339", l, ev.Time)
		}
	}
}

// runWatch runs the CLI with args and returns what it printed. A
// connect --watch it ends as Ctrl-C does once stdout holds lines whole
// lines (a first round's line per server); lines 0 is a command that ends
// by itself. Ending a --watch after a fixed time (2 s) ended it on a
// loaded machine before its first round had printed anything. The minute
// only guards against a hang.
func runWatch(t *testing.T, lines int, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := &linesThenCancel{lines: lines, cancel: cancel}
	var errb syncBuffer
	run(ctx, args, out, &errb)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%v printed %d lines in a minute, want %d:\n%s\nstderr: %s", args, strings.Count(out.String(), "\n"), lines, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// linesThenCancel is a syncBuffer that calls cancel once it holds lines
// newlines (lines > 0).
type linesThenCancel struct {
	syncBuffer
	lines  int
	cancel context.CancelFunc
}

func (w *linesThenCancel) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if w.lines > 0 && strings.Count(w.String(), "\n") >= w.lines {
		w.cancel()
	}
	return n, err
}
