package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestServe_RefusedExchangeLoggedAtInfo: at the default --log-level info, a
// CI log shows why an MCP client's token exchange was refused (its error and
// reason, no token), while an allowed exchange stays at debug only.
func TestServe_RefusedExchangeLoggedAtInfo(t *testing.T) {
	issuer, stop := serveWithLogs(t, "--log-format", "json")
	tokens := loginAlice(t, issuer)
	idToken, _ := tokens["id_token"].(string)
	exchange := func(audience string) int {
		code, _, _ := runCLI(t, "exchange", "--issuer", issuer, "--client-id", "mcp-client", "--client-secret", "mcp-secret",
			"--id-token", idToken, "--audience", audience, "--resource", "http://127.0.0.1:8201/mcp", "--scope", "issues.read")
		return code
	}
	if code := exchange("http://127.0.0.1:8101"); code != 0 {
		t.Fatalf("allowed exchange exit %d", code)
	}
	if code := exchange("https://as.unknown.example"); code == 0 {
		t.Fatal("exchange for an unknown audience succeeded")
	}
	logs := stop()
	var refused []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["type"] != "token_exchange" {
			continue
		}
		if rec["outcome"] == "allowed" {
			t.Errorf("an allowed exchange logged at info: %s", line)
			continue
		}
		refused = append(refused, rec)
	}
	if len(refused) != 1 {
		t.Fatalf("%d refused exchange records at info, want 1:\n%s", len(refused), logs)
	}
	rec := refused[0]
	if rec["level"] != "INFO" || stringOr(rec["error"]) == "" || stringOr(rec["reason"]) == "" || rec["client_id"] != "mcp-client" {
		t.Errorf("refused exchange record lacks level INFO, error, reason or client: %v", rec)
	}
	if strings.Contains(logs, idToken) {
		t.Error("the logs contain the subject token")
	}
}
