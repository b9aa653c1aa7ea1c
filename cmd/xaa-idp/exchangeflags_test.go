package main

import (
	"strings"
	"testing"
)

// TestExchange_SubjectFlags: exchange takes its subject from exactly one
// of --id-token and --refresh-token. Given both, it said "one of
// --id-token or --refresh-token are required", as if neither had been; it
// says that only one may be given. Either way, exit 2 and nothing sent
// (the issuer is nothing listens on).
func TestExchange_SubjectFlags(t *testing.T) {
	base := []string{"exchange", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--audience", "https://as.example"}
	for _, c := range []struct {
		name  string
		extra []string
		says  string
	}{
		{"both", []string{"--id-token", "x.y.z", "--refresh-token", "rt"}, "give only one of --id-token and --refresh-token"},
		{"neither", nil, "one of --id-token or --refresh-token are required"},
	} {
		code, out, stderr := runCLI(t, append(append([]string{}, base...), c.extra...)...)
		if code != exitUsage || out != "" || !strings.Contains(stderr, c.says) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d saying %q", c.name, code, out, stderr, exitUsage, c.says)
		}
		if c.name == "both" && strings.Contains(stderr, "required") {
			t.Errorf("both: stderr %q says a flag is missing", stderr)
		}
	}
}
