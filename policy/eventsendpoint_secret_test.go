package policy_test

import (
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestEventsEndpoint_PasswordNeverInAProblem: an events_endpoint whose
// password holds an unencoded '/', '?' or '#' ends the URL's authority
// early. The problem quoted the password (and Go's parse error quoted a
// part of it again), and a password after a numeric "port"
// (https://rcv:77/topsecret@host/events) parsed as a host and a path,
// passed, and was shown unmasked. Problems reach the config_reload
// audit event, the log and GET /admin/api/status; none may hold it.
func TestEventsEndpoint_PasswordNeverInAProblem(t *testing.T) {
	for _, ep := range []string{
		"https://rcv:s3cr/topsecret@as.crm.example/events",
		"https://rcv:s3cr?topsecret@as.crm.example/events",
		"https://rcv:77/topsecret@as.crm.example/events",
		"htps://rcv:topsecret@as.crm.example/events",
	} {
		data := []byte(`users: [{username: alice, password: p}]
mcp_servers:
  - id: crm
    issuer: https://as.crm.example
    resources: [https://mcp.crm.example/mcp]
    events_endpoint: "` + ep + `"
`)
		_, err := policy.Parse(data, "p.yaml")
		if err == nil {
			t.Errorf("%s: accepted; a password must be percent-encoded", ep)
			continue
		}
		if strings.Contains(err.Error(), "topsecret") || strings.Contains(err.Error(), "s3cr") {
			t.Errorf("%s: the problem shows the password: %v", ep, err)
		}
		if !strings.Contains(err.Error(), "p.yaml:6:") {
			t.Errorf("%s: %v, want the problem at line 6", ep, err)
		}
	}
}
