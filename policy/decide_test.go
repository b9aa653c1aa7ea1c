package policy_test

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// decisionCase is one row of testdata/decision_cases.md.
type decisionCase struct {
	line                                   int
	name, user, client, audience, resource string
	scopes                                 []string
	login                                  time.Duration // 0: unknown
	options                                []string
	outcome, granted, rule                 string
	maxAge                                 time.Duration
}

const casesFile = "testdata/decision_cases.md"

// readCases parses the Markdown table of decision cases. A "-" cell is empty.
func readCases(t *testing.T) []decisionCase {
	t.Helper()
	f, err := os.Open(casesFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []decisionCase
	header := true
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(text, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
			if cells[i] == "-" {
				cells[i] = ""
			}
		}
		if len(cells) != 12 {
			t.Fatalf("%s:%d: %d cells, want 12", casesFile, line, len(cells))
		}
		if header || strings.HasPrefix(cells[0], "---") {
			header = false
			continue
		}
		c := decisionCase{
			line: line, name: cells[0], user: cells[1], client: cells[2],
			audience: cells[3], resource: cells[4], scopes: strings.Fields(cells[5]),
			login:   duration(t, line, cells[6]),
			options: strings.Fields(cells[7]), outcome: cells[8], granted: cells[9],
			rule: cells[10], maxAge: duration(t, line, cells[11]),
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", casesFile)
	}
	return cases
}

func duration(t *testing.T, line int, s string) time.Duration {
	t.Helper()
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s:%d: %v", casesFile, line, err)
	}
	return d
}

// withOptions returns a copy of cfg with a case's exchange options set.
func withOptions(t *testing.T, cfg *policy.Config, c decisionCase) *policy.Config {
	t.Helper()
	out := *cfg
	for _, o := range c.options {
		switch {
		case o == "require_resource":
			out.Exchange.RequireResource = true
		case strings.HasPrefix(o, "denied_error="):
			out.Exchange.DeniedError = strings.TrimPrefix(o, "denied_error=")
		default:
			t.Fatalf("%s:%d: unknown option %q", casesFile, c.line, o)
		}
	}
	return &out
}

func loadDecideConfig(t *testing.T) *policy.Config {
	t.Helper()
	cfg, err := policy.Load("testdata/decide.yaml")
	if err != nil {
		t.Fatalf("testdata/decide.yaml does not load:\n%v", err)
	}
	return cfg
}

var now = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

func TestDecide_Cases(t *testing.T) {
	cfg := loadDecideConfig(t)
	for _, c := range readCases(t) {
		t.Run(c.name, func(t *testing.T) {
			req := policy.Request{
				Username: c.user, ClientID: c.client, Audience: c.audience,
				Resource: c.resource, Scopes: c.scopes, Now: now,
			}
			if c.login > 0 {
				req.AuthTime = now.Add(-c.login)
			}
			d := withOptions(t, cfg, c).Decide(req)

			outcome := d.Error
			if d.Allowed {
				outcome = "allowed"
			}
			got := []string{outcome, strings.Join(d.Scopes, " "), d.Rule, fmtAge(d.MaxAge)}
			want := []string{c.outcome, c.granted, c.rule, fmtAge(c.maxAge)}
			if strings.Join(got, " | ") != strings.Join(want, " | ") {
				t.Errorf("%s:%d\n got: %s\nwant: %s\nreason: %s\ndescription: %s",
					casesFile, c.line, strings.Join(got, " | "), strings.Join(want, " | "), d.Reason, d.Description)
			}
			checkDecisionShape(t, cfg, req, d)
		})
	}
}

func fmtAge(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return policy.Duration(d).String()
}

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
	cfg := loadDecideConfig(t)
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
	cfg := loadDecideConfig(t)
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

func TestDecide_StepUpDescriptionSaysWhatToDo(t *testing.T) {
	cfg := loadDecideConfig(t)
	d := cfg.Decide(policy.Request{Username: "dave", ClientID: "mcp-client", Audience: "https://as.chat.example", Now: now})
	want := `MCP server "Chat" requires a login within the last 10m: log in again and retry`
	if d.Description != want {
		t.Errorf("Description = %q, want %q", d.Description, want)
	}
}

func TestDecide_ZeroNowMeansTimeNow(t *testing.T) {
	cfg := loadDecideConfig(t)
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
