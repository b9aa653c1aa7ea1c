package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // ends the --watch
	defer cancel()
	var out, errb bytes.Buffer
	run(ctx, []string{"connect", "--issuer", issuer, "--client-id", "c", "--username", "u", "--password", "p", "--watch", "--json", "--timeout", "1s", "--interval", "1h"}, &out, &errb)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if out.Len() == 0 || len(lines) != 2 {
		t.Fatalf("connect --watch --json printed %d lines, want one per server (2):\n%s\nstderr: %s", len(lines), out.String(), errb.String())
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
