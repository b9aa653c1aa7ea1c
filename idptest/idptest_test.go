package idptest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// fatalRecorder is a TB whose Fatalf is recorded instead of failing the
// test, to check what New and the methods report.
type fatalRecorder struct {
	msg      string
	cleanups []func()
}

func (r *fatalRecorder) Helper()          {}
func (r *fatalRecorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(r)
}

// fatal runs f with a recorder and returns what it reported with Fatalf
// ("" when nothing).
func fatal(t *testing.T, f func(tb idptest.TB)) string {
	t.Helper()
	r := &fatalRecorder{}
	defer func() {
		for i := len(r.cleanups) - 1; i >= 0; i-- {
			r.cleanups[i]()
		}
	}()
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		f(r)
	}()
	return r.msg
}

func TestNew_ConfigurationProblemsFailWithLines(t *testing.T) {
	msg := fatal(t, func(tb idptest.TB) {
		idptest.New(tb, idptest.WithConfigYAML("users:\n  - {username: ann}\nclient: []\n"))
	})
	for _, want := range []string{
		"config.yaml:2: users[0]: no password",
		`config.yaml:3: unknown key "client" at the top level`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("New reported:\n%s\nwant it to contain %q", msg, want)
		}
	}
}

func TestNew_GoBuiltConfigIsValidatedWithDefaults(t *testing.T) {
	cfg := &policy.Config{
		Users:   []policy.User{{Username: "ann", Password: "pw", Groups: []string{"eng"}}},
		Clients: []policy.Client{{ClientID: "app", ClientSecret: "s", RedirectURIs: []string{"http://127.0.0.1/cb"}, TokenExchange: true}},
		MCPServers: []policy.MCPServer{{
			ID: "files", Issuer: "https://as.files.example", Resources: []string{"https://mcp.files.example/mcp"},
			Clients: map[string]string{"app": "app-at-files"}, Access: []policy.Access{{Users: []string{"ann"}}},
		}},
	}
	msg := fatal(t, func(tb idptest.TB) { idptest.New(tb, idptest.WithConfig(cfg)) })
	if !strings.Contains(msg, `users[0].groups[0]: unknown group "eng"`) {
		t.Errorf("New reported %q, want the unknown group", msg)
	}
	cfg.Groups = []policy.Group{{Name: "eng"}}
	srv := idptest.New(t, idptest.WithConfig(cfg))
	if got := srv.Config().Lifetimes.IDJAG.D(); got != policy.DefaultIDJAGLifetime {
		t.Errorf("ID-JAG lifetime %v, want the default", got)
	}
	if c := claims(srv.IDJAG("ann", "files")); c["sub"] != "u-ann" || c["client_id"] != "app-at-files" {
		t.Errorf("ID-JAG claims %v", c)
	}
}

func TestServer_LoginPrefersAConfidentialClient(t *testing.T) {
	srv := idptest.New(t)
	if tok := srv.Login("carol"); tok.ClientID != "mcp-client" || tok.IDToken == "" || tok.RefreshToken == "" || tok.AccessToken == "" {
		t.Errorf("Login: %+v", tok)
	}
	if tok := srv.LoginVia("mcp-public", "carol"); tok.ClientID != "mcp-public" || tok.IDToken == "" {
		t.Errorf("LoginVia mcp-public: %+v", tok)
	}
	if _, err := srv.TryLogin("mcp-client", "erin"); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("erin, disabled: %v", err)
	}
	if msg := fatal(t, func(tb idptest.TB) { idptest.New(tb).Login("zed") }); !strings.Contains(msg, `unknown user "zed"`) {
		t.Errorf("Login(zed) reported %q", msg)
	}
}

func TestServer_SetConfigSwapsAndRefusesProblems(t *testing.T) {
	srv := idptest.New(t)
	demo := srv.StartDemoServers()
	before := srv.Config().Server("tracker")
	if before.Issuer != demo["tracker"].AuthServer || before.Resources[0] != demo["tracker"].URL {
		t.Fatalf("the configuration's tracker is %s %v; the demo serves it at %+v", before.Issuer, before.Resources, demo["tracker"])
	}

	// The demo configuration again, with dave removed from support: its
	// MCP servers stay where the demo servers run.
	text := strings.Replace(string(fixtures.Demo), "groups: [support]", "groups: []", 1)
	srv.SetConfig(text)
	if got := srv.Config().Server("tracker").Issuer; got != demo["tracker"].AuthServer {
		t.Errorf("after SetConfig the tracker's issuer is %s, want the demo server's %s", got, demo["tracker"].AuthServer)
	}
	if _, err := srv.TryIDJAG("dave", "tracker"); err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Errorf("dave after leaving support: %v", err)
	}

	msg := fatal(t, func(tb idptest.TB) {
		s := idptest.New(tb)
		s.SetConfig("users: [{username: x}]")
	})
	if !strings.Contains(msg, "config.yaml:1: users[0]: no password") {
		t.Errorf("SetConfig reported %q", msg)
	}
	if msg := fatal(t, func(tb idptest.TB) { idptest.New(tb).SetConfig(42) }); !strings.Contains(msg, "not int") {
		t.Errorf("SetConfig(42) reported %q", msg)
	}
}

func TestServer_AuditAndAdminAPI(t *testing.T) {
	srv := idptest.New(t)
	srv.IDJAG("alice", "wiki")
	evs := srv.Audit(audit.Filter{Type: audit.TypeTokenExchange, User: "alice"})
	if len(evs) != 1 || evs[0].Server != "wiki" || evs[0].Outcome != audit.Allowed {
		t.Errorf("audit: %+v", evs)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.Issuer()+"/admin/api/audit?type=token_exchange", nil)
	req.SetBasicAuth("alice", "alice")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the admin API answers %s", resp.Status)
	}
}

func TestServer_InjectFaultRefusesProblems(t *testing.T) {
	msg := fatal(t, func(tb idptest.TB) {
		idptest.New(tb).InjectFault(policy.Fault{Match: policy.FaultMatch{User: "zed"}, Delay: policy.Duration(1)})
	})
	if !strings.Contains(msg, `fault.match.user: unknown user "zed"`) {
		t.Errorf("InjectFault reported %q", msg)
	}
}

// TestInjectFault_ProblemsSayFaultOnce: a fault with problems fails the
// test with each problem named once, after one prefix: no repeated
// "fault: fault:".
func TestInjectFault_ProblemsSayFaultOnce(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault policy.Fault
		want  string
	}{
		{"injects nothing", policy.Fault{}, "idptest: InjectFault: fault: injects nothing"},
		{"unknown server", policy.Fault{Match: policy.FaultMatch{Server: "crn"}, HTTPStatus: http.StatusBadGateway},
			`idptest: InjectFault: fault.match.server: unknown MCP server "crn"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := fatal(t, func(tb idptest.TB) { idptest.New(tb).InjectFault(c.fault) })
			if !strings.HasPrefix(msg, c.want) || strings.Count(msg, "fault: ")+strings.Count(msg, "fault.") != 1 {
				t.Errorf("InjectFault reported %q, want it to start with %q and name the fault once", msg, c.want)
			}
		})
	}
}
