package policy_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/policy/policytest"
)

// TestDecide_Cases runs the decision table on Decide itself, and checks
// the shape every decision must have.
func TestDecide_Cases(t *testing.T) {
	policytest.Run(t, func(t *testing.T, cfg *policy.Config, req policy.Request) policytest.Outcome {
		d := cfg.Decide(req)
		checkDecisionShape(t, cfg, req, d)
		return policytest.Outcome{Error: d.Error, Granted: d.Scopes, Rule: d.Rule, MaxAge: d.MaxAge}
	})
}

var now = policytest.Now

// checkDecisionShape checks what must hold for every decision: a reason
// always, a description on refusals that reveals no access lists and no
// other user, and the server's client_id on success.
func checkDecisionShape(t *testing.T, cfg *policy.Config, req policy.Request, d policy.Decision) {
	t.Helper()
	if d.Reason == "" {
		t.Error("empty Reason")
	}
	if d.Allowed != (d.Error == "") {
		t.Errorf("Allowed=%v with Error=%q", d.Allowed, d.Error)
	}
	if !d.Allowed {
		if d.Description == "" {
			t.Error("refused without Description")
		}
		if strings.Contains(d.Description, "access[") || strings.Contains(d.Description, "deny[") {
			t.Errorf("Description reveals a rule: %q", d.Description)
		}
		for _, u := range cfg.Users {
			if u.Username != req.Username && regexp.MustCompile(`\b`+u.Username+`\b`).MatchString(d.Description) {
				t.Errorf("Description names another user (%s): %q", u.Username, d.Description)
			}
		}
		if d.Scopes != nil {
			t.Errorf("refused with granted scopes %v", d.Scopes)
		}
	}
	if want := cfg.ServerByAudience(req.Audience); d.Server != want {
		t.Errorf("Server = %v, want %v", d.Server, want)
	}
	if d.Allowed {
		if want := d.Server.Clients[req.ClientID]; d.ServerClientID != want || want == "" {
			t.Errorf("ServerClientID = %q, want %q", d.ServerClientID, want)
		}
		if d.User == nil || d.User.Username != req.Username {
			t.Errorf("User = %v, want %s", d.User, req.Username)
		}
	}
}

func TestDecide_ResourceIsCanonical(t *testing.T) {
	cfg := policytest.Config(t)
	d := cfg.Decide(policy.Request{
		Username: "alice", ClientID: "mcp-client", Audience: "urn:example:chat",
		Resource: "https://mcp.chat.example/mcp/", Now: now,
	})
	if !d.Allowed || d.Resource != "https://mcp.chat.example/mcp" {
		t.Fatalf("Allowed=%v Resource=%q, want the configured spelling; reason: %s", d.Allowed, d.Resource, d.Reason)
	}
	if d.ServerClientID != "mcp-client-at-chat" || d.Server.Issuer != "https://as.chat.example" {
		t.Errorf("ServerClientID=%q issuer=%q", d.ServerClientID, d.Server.Issuer)
	}
	if d := cfg.Decide(policy.Request{Username: "alice", ClientID: "mcp-client", Audience: "urn:example:chat", Now: now}); d.Resource != "" {
		t.Errorf("Resource = %q without a requested resource", d.Resource)
	}
}

func TestDecide_ReasonsExplain(t *testing.T) {
	cfg := policytest.Config(t)
	for _, tc := range []struct {
		req  policy.Request
		want string
	}{
		{policy.Request{Username: "bob", ClientID: "mcp-client", Audience: "https://as.chat.example", Scopes: []string{"chat.read", "chat.write"}},
			"user bob is assigned chat.read by chat access[1] (users: bob; clients: mcp-client); not assigned: chat.write"},
		{policy.Request{Username: "carol", ClientID: "mcp-client", Audience: "https://as.chat.example", AuthTime: now.Add(-5 * time.Minute)},
			"user carol is assigned chat.read chat.write by chat access[0] (groups: engineering), chat.admin by chat access[2] (groups: ops; login 5m ago, within max_auth_age 15m)"},
		{policy.Request{Username: "carol", ClientID: "mcp-client", Audience: "https://as.chat.example", AuthTime: now.Add(-time.Hour)},
			"user carol is assigned chat.read chat.write by chat access[0] (groups: engineering); a more recent login would also grant chat.admin"},
		{policy.Request{Username: "carol", ClientID: "mcp-client", Audience: "https://as.chat.example", Scopes: []string{"chat.admin"}},
			"user carol needs a login within 15m for chat.admin by chat access[2] (groups: ops); the login time is unknown"},
		{policy.Request{Username: "dave", ClientID: "mcp-client", Audience: "https://as.chat.example", Scopes: []string{"chat.write"}},
			"user dave requested chat.write on chat, which no matching entry allows; assigned: chat.read by chat access[3] (users: dave; needs a login within 10m)"},
		{policy.Request{Username: "mallory", ClientID: "mcp-client", Audience: "https://as.chat.example"},
			"user mallory is denied on chat by chat deny[0] (users: mallory)"},
		{policy.Request{Username: "bob", ClientID: "pub-client", Audience: "https://as.chat.example"},
			"user bob is assigned to chat only through other clients: chat access[1] (clients: mcp-client)"},
	} {
		tc.req.Now = now
		if got := cfg.Decide(tc.req).Reason; got != tc.want {
			t.Errorf("%+v\n got: %s\nwant: %s", tc.req, got, tc.want)
		}
	}
}

// TestDecide_MCPURLAsAudienceSuggestsTheIssuer: a client that sends the MCP
// server's URL as the audience is told which issuer it meant.
func TestDecide_MCPURLAsAudienceSuggestsTheIssuer(t *testing.T) {
	cfg := policytest.Config(t)
	for _, aud := range []string{"https://mcp.chat.example/mcp", "https://mcp.chat.example/mcp/"} {
		d := cfg.Decide(policy.Request{Username: "alice", ClientID: "mcp-client", Audience: aud, Now: now})
		if d.Error != policy.ErrInvalidTarget || !strings.Contains(d.Description, "did you mean https://as.chat.example,") {
			t.Errorf("audience %s: %s %q, want invalid_target with \"did you mean https://as.chat.example\"", aud, d.Error, d.Description)
		}
		if !strings.Contains(d.Reason, "is a resource of server chat") {
			t.Errorf("audience %s: reason %q does not name the server", aud, d.Reason)
		}
	}
}

func TestDecide_StepUpDescriptionSaysWhatToDo(t *testing.T) {
	cfg := policytest.Config(t)
	d := cfg.Decide(policy.Request{Username: "dave", ClientID: "mcp-client", Audience: "https://as.chat.example", Now: now})
	want := `MCP server "Chat" requires a login within the last 10m, and the login time is unknown: log in again and retry`
	if d.Description != want {
		t.Errorf("Description = %q, want %q", d.Description, want)
	}
}

func TestDecide_ZeroNowMeansTimeNow(t *testing.T) {
	cfg := policytest.Config(t)
	d := cfg.Decide(policy.Request{
		Username: "dave", ClientID: "mcp-client", Audience: "https://as.chat.example",
		AuthTime: time.Now().Add(-time.Minute),
	})
	if !d.Allowed {
		t.Fatalf("a login a minute ago should satisfy max_auth_age 10m: %s", d.Reason)
	}
}

// TestDecide_ConfigBuiltInGo checks that a Config assembled without Parse
// (as other packages' tests may do) decides like a parsed one.
func TestDecide_ConfigBuiltInGo(t *testing.T) {
	cfg := &policy.Config{
		Users:   []policy.User{{Username: "alice", Sub: "u-alice", Groups: []string{"eng"}}},
		Clients: []policy.Client{{ClientID: "c", TokenExchange: true}},
		MCPServers: []policy.MCPServer{{
			ID: "chat", Issuer: "https://as.chat.example/", Aliases: []string{"urn:chat"},
			Scopes: []string{"chat.read"}, Clients: map[string]string{"c": "c-at-chat"},
			Access: []policy.Access{{Groups: []string{"eng"}, Scopes: []string{"chat.read"}}},
		}},
	}
	for _, aud := range []string{"https://as.chat.example", "https://as.chat.example/", "urn:chat/"} {
		d := cfg.Decide(policy.Request{Username: "alice", ClientID: "c", Audience: aud})
		if !d.Allowed || strings.Join(d.Scopes, " ") != "chat.read" || d.Rule != "chat access[0]" {
			t.Errorf("audience %s: %+v", aud, d)
		}
	}
	if cfg.UserBySub("u-alice") == nil || cfg.Server("chat") == nil || cfg.Client("c") == nil {
		t.Error("lookups fail on a Config built in Go")
	}
	if d := cfg.Decide(policy.Request{Username: "alice", ClientID: "c", Audience: "urn:chat", Resource: "https://x"}); d.Error != policy.ErrInvalidTarget {
		t.Errorf("resource on a server without resources: %q, want invalid_target", d.Error)
	}
}

// TestDecide_CarriesWhatTheIdPEnforces checks the parts of a decision the
// IdP acts on without deciding: the audit outcome and single-use subjects.
func TestDecide_CarriesWhatTheIdPEnforces(t *testing.T) {
	cfg := policytest.Config(t)
	single := *cfg
	single.Exchange.SingleUseSubject = true
	chat := "https://as.chat.example"
	for _, tc := range []struct {
		name      string
		cfg       *policy.Config
		req       policy.Request
		denied    bool
		singleUse bool
	}{
		{"allowed", cfg, policy.Request{Username: "alice", ClientID: "mcp-client", Audience: chat}, false, false},
		{"allowed, single-use subjects", &single, policy.Request{Username: "alice", ClientID: "mcp-client", Audience: chat}, false, true},
		{"refused, single-use subjects", &single, policy.Request{Username: "bob", ClientID: "mcp-client", Audience: "https://as.files.example"}, true, false},
		{"unknown audience is a request error", cfg, policy.Request{Username: "alice", ClientID: "mcp-client", Audience: "https://unknown.example"}, false, false},
		{"client without token exchange is a request error", cfg, policy.Request{Username: "alice", ClientID: "other-client", Audience: chat}, false, false},
		{"unknown user is a denial", cfg, policy.Request{Username: "zed", ClientID: "mcp-client", Audience: chat}, true, false},
		{"step-up is a denial", cfg, policy.Request{Username: "dave", ClientID: "mcp-client", Audience: chat}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Now = now
			d := tc.cfg.Decide(tc.req)
			if d.Denied() != tc.denied {
				t.Errorf("Denied() = %v, want %v (%s: %s)", d.Denied(), tc.denied, d.Error, d.Reason)
			}
			if got := d.SingleUseFor != 0; got != tc.singleUse {
				t.Errorf("SingleUseFor = %v, want it set: %v", d.SingleUseFor, tc.singleUse)
			}
		})
	}
}

// TestDecide_AllowedAllocations: an allowed exchange allocates its Scopes
// and its Reason, and its Rule when several entries contribute; nothing
// else (Decide runs on every token exchange).
func TestDecide_AllowedAllocations(t *testing.T) {
	cfg := policytest.Config(t)
	client := cfg.Client("mcp-client")
	req := func(user string, login time.Duration, scopes ...string) policy.Request {
		return policy.Request{
			Username: user, ClientID: client.ClientID, Client: client, Audience: "https://as.chat.example",
			Resource: "https://mcp.chat.example/mcp", Scopes: scopes, AuthTime: now.Add(-login), Now: now,
		}
	}
	for _, tc := range []struct {
		name   string
		req    policy.Request
		allocs float64
	}{
		{"group", req("alice", time.Hour, "chat.read", "chat.write"), 2},
		{"all scopes, not requested", req("alice", time.Hour), 2},
		{"user through a client, a scope not assigned", req("bob", time.Hour, "chat.read", "chat.write"), 2},
		{"time-bound", req("ivy", time.Hour, "chat.read"), 2},
		{"step-up satisfied", req("dave", time.Minute), 2},
		{"two entries contribute", req("carol", time.Minute), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cfg.Decide(tc.req); !d.Allowed {
				t.Fatalf("refused: %s", d.Reason)
			}
			if got := testing.AllocsPerRun(100, func() { cfg.Decide(tc.req) }); got > tc.allocs {
				t.Errorf("%v allocations per decision, want at most %v", got, tc.allocs)
			}
		})
	}
}
