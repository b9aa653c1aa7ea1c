package connect_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// startDemo runs the demo company in-process (idptest): the IdP and, for
// every MCP server, its authorization server and MCP server, on free
// loopback ports.
func startDemo(t *testing.T) (issuer string, mcpURL map[string]string) {
	t.Helper()
	srv := idptest.New(t)
	mcpURL = map[string]string{}
	for id, d := range srv.StartDemoServers() {
		mcpURL[id] = d.URL
	}
	return srv.Issuer(), mcpURL
}

func summary(results []connect.Result) []string {
	var out []string
	for _, r := range results {
		if r.Connected {
			out = append(out, fmt.Sprintf("connected %s as %v: %s", r.Name, r.WhoAmI["sub"], strings.Join(r.Scopes, " ")))
		} else {
			out = append(out, fmt.Sprintf("refused %s: %v", r.Name, r.Err))
		}
	}
	slices.Sort(out)
	return out
}

func TestRun_ConnectsEveryAssignedServer(t *testing.T) {
	issuer, _ := startDemo(t)
	results, err := connect.Run(context.Background(), connect.Options{
		Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"connected CRM as 00u-alice: crm.read",
		"connected Design Studio as 00u-alice: design.read",
		"connected Issue Tracker as 00u-alice: issues.read issues.write",
		"connected Wiki as 00u-alice: wiki.read wiki.write",
	}
	if got := summary(results); !slices.Equal(got, want) {
		t.Errorf("alice:\n got %q\nwant %q", got, want)
	}
	ids := map[string]string{"Issue Tracker": "tracker", "Wiki": "wiki", "Design Studio": "design", "CRM": "crm"}
	for _, r := range results {
		if want := "mcp-client-at-" + ids[r.Name]; r.WhoAmI["client_id"] != want {
			t.Errorf("%s: whoami client_id %v, want %s (the client's id at that authorization server)", r.Name, r.WhoAmI["client_id"], want)
		}
	}
}

func TestRun_OnlyAssignedByDefault_RefusalsWithAll(t *testing.T) {
	issuer, _ := startDemo(t)
	o := connect.Options{Issuer: issuer, ClientID: "mcp-public", Username: "bob", Password: "bob"}
	results, err := connect.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"connected CRM as 00u-bob: crm.read crm.write",
		"connected Wiki as 00u-bob: wiki.read",
	}
	if got := summary(results); !slices.Equal(got, want) {
		t.Errorf("bob, assigned only:\n got %q\nwant %q", got, want)
	}
	o.All = true
	results, err = connect.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	got := summary(results)
	if len(got) != 3 || !strings.HasPrefix(got[2], `refused Issue Tracker: access_denied: user 'bob' is not assigned`) {
		t.Errorf("bob, all servers of mcp-public: %q", got)
	}
}

func TestRun_TraceShowsTheEMAFlowInOrder(t *testing.T) {
	issuer, mcp := startDemo(t)
	var steps []string
	_, err := connect.Run(context.Background(), connect.Options{
		Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "dave", Password: "dave",
		MCPServers: []string{mcp["tracker"]},
		Trace: func(s connect.Step) {
			if s.MCPServer != "" {
				steps = append(steps, fmt.Sprintf("%s %d", s.Name, s.Status))
			}
			if strings.Contains(s.Detail, "eyJ") {
				t.Errorf("step %q shows a raw token: %s", s.Name, s.Detail)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	order := []string{
		"(no token) 401",
		"protected-resource metadata (RFC 9728) 200",
		"token exchange at the IdP (ID-JAG) 200",
		"authorization-server metadata (RFC 8414) 200",
		"JWT bearer grant at the authorization server 200",
		"MCP tools/call 200",
	}
	i := 0
	for _, s := range steps {
		if i < len(order) && strings.Contains(s, order[i]) {
			i++
		}
	}
	if i != len(order) {
		t.Errorf("steps out of order or missing %q:\n%s", order[i], strings.Join(steps, "\n"))
	}
}

func TestRun_BadPasswordStopsBeforeAnyServer(t *testing.T) {
	issuer, _ := startDemo(t)
	_, err := connect.Run(context.Background(), connect.Options{
		Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "wrong",
	})
	if err == nil || !strings.Contains(err.Error(), "Invalid username or password") {
		t.Errorf("err = %v", err)
	}
}
