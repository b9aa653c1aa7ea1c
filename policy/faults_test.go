package policy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/policy"
)

func demoConfig(t testing.TB) *policy.Config {
	t.Helper()
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestFault_MatchesWhatItNames(t *testing.T) {
	exchange := policy.FaultRequest{GrantType: "urn:ietf:params:oauth:grant-type:token-exchange", Client: "mcp-client", User: "alice", Server: "crm"}
	code := policy.FaultRequest{GrantType: "authorization_code", Client: "mcp-client", User: "alice"}
	anonymous := policy.FaultRequest{GrantType: "urn:ietf:params:oauth:grant-type:token-exchange", Server: "crm"}
	cases := []struct {
		name  string
		match policy.FaultMatch
		req   policy.FaultRequest
		want  bool
	}{
		{"empty match: every request", policy.FaultMatch{}, code, true},
		{"all four", policy.FaultMatch{Client: "mcp-client", User: "alice", Server: "crm", GrantType: "token-exchange"}, exchange, true},
		{"the grant type's URN", policy.FaultMatch{GrantType: "urn:ietf:params:oauth:grant-type:token-exchange"}, exchange, true},
		{"another grant type", policy.FaultMatch{GrantType: "refresh_token"}, code, false},
		{"another user", policy.FaultMatch{User: "bob"}, exchange, false},
		{"another server", policy.FaultMatch{Server: "wiki"}, exchange, false},
		{"a server, for a code grant", policy.FaultMatch{Server: "crm"}, code, false},
		{"a client, for an unauthenticated request", policy.FaultMatch{Client: "mcp-client"}, anonymous, false},
		{"a user, for an unknown subject", policy.FaultMatch{User: "alice"}, anonymous, false},
	}
	for _, c := range cases {
		f := policy.Fault{Match: c.match, HTTPStatus: 500}
		if got := f.Matches(c.req); got != c.want {
			t.Errorf("%s: Matches = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFault_ErrorStatusDefaults(t *testing.T) {
	for code, want := range map[string]int{
		"temporarily_unavailable": 503, "server_error": 500, "invalid_client": 401, "invalid_grant": 400, "custom_thing": 400,
	} {
		f := policy.Fault{Error: policy.FaultError{Code: code}}
		if got := f.ErrorStatus(); got != want {
			t.Errorf("%s: status %d, want %d", code, got, want)
		}
	}
	f := policy.Fault{Error: policy.FaultError{Code: "server_error", Status: 502}}
	if f.ErrorStatus() != 502 {
		t.Errorf("a given status is not kept: %d", f.ErrorStatus())
	}
}

func TestParseFaults_JSONAndYAML(t *testing.T) {
	cfg := demoConfig(t)
	faults, err := policy.ParseFaults([]byte(`[
  {"match": {"client": "mcp-client", "user": "bob", "server": "crm", "grant_type": "token-exchange"},
   "error": {"code": "temporarily_unavailable", "status": 503, "description": "maintenance"}},
  {"delay": "300ms", "times": 2},
  {"http_status": 502},
  {"id": "jag", "id_jag": "wrong_aud"}
]`), "body", cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []policy.Fault{
		{Match: policy.FaultMatch{Client: "mcp-client", User: "bob", Server: "crm", GrantType: "token-exchange"},
			Error: policy.FaultError{Code: "temporarily_unavailable", Status: 503, Description: "maintenance"}},
		{Delay: policy.Duration(300 * time.Millisecond), Times: 2},
		{HTTPStatus: 502},
		{ID: "jag", IDJAG: policy.FaultWrongAud},
	}
	if len(faults) != len(want) {
		t.Fatalf("%d faults, want %d", len(faults), len(want))
	}
	for i := range want {
		if faults[i] != want[i] {
			t.Errorf("fault %d = %+v, want %+v", i, faults[i], want[i])
		}
	}
	kinds := []string{}
	for _, f := range faults {
		kinds = append(kinds, f.Kind()+": "+f.Describe())
	}
	if got := strings.Join(kinds, "; "); got != "error: error temporarily_unavailable (HTTP 503); delay: a delay of 300ms; http_status: a bare HTTP 502 without a JSON body; id_jag: a broken ID-JAG (wrong_aud)" {
		t.Errorf("kinds: %s", got)
	}

	one, err := policy.ParseFaults([]byte("match: {user: alice}\nid_jag: expired\ntimes: 1\n"), "body", cfg)
	if err != nil || len(one) != 1 || one[0].IDJAG != "expired" || one[0].Times != 1 {
		t.Errorf("one fault in YAML: %+v, %v", one, err)
	}
}

func TestParseFaults_ProblemsHaveLines(t *testing.T) {
	_, err := policy.ParseFaults([]byte("{\n\"http_status\": 404,\n\"times\": \"once\"\n}"), "body", demoConfig(t))
	var ps policy.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v, want Problems", err)
	}
	want := "body:2: fault.http_status: 404 is not a 5xx status; use 500 to 599, or error: {code: ..., status: 404} for an OAuth error answer\n" +
		`body:3: fault.times: expected a whole number, got "once"`
	if err.Error() != want {
		t.Errorf("problems:\n%v\nwant:\n%s", err, want)
	}
	for _, body := range []string{"", "[]", "null", "42", "--- a\n--- b"} {
		if _, err := policy.ParseFaults([]byte(body), "body", demoConfig(t)); err == nil {
			t.Errorf("body %q parses", body)
		}
	}
}

func TestCheckFaults_GoBuilt(t *testing.T) {
	cfg := demoConfig(t)
	if err := policy.CheckFaults([]policy.Fault{{Match: policy.FaultMatch{Server: "crm"}, IDJAG: policy.FaultExpired}}, "fault", cfg); err != nil {
		t.Errorf("a sound fault: %v", err)
	}
	err := policy.CheckFaults([]policy.Fault{
		{Match: policy.FaultMatch{Server: "crn"}, Error: policy.FaultError{Code: "bad code"}},
		{},
	}, "fault", cfg)
	want := `fault: faults[0].match.server: unknown MCP server "crn"; known MCP servers: tracker, wiki, design, crm; did you mean "crm"?` + "\n" +
		`fault: faults[0].error.code: "bad code" is not an OAuth error code; an error code is printable ASCII without spaces, quotes or backslashes (RFC 6749 section 5.2)` + "\n" +
		`fault: faults[1]: injects nothing; give one of error: {code: ...}, delay: 2s, http_status: 500 or id_jag: wrong_aud`
	if err == nil || err.Error() != want {
		t.Errorf("problems:\n%v\nwant:\n%s", err, want)
	}
}

// FuzzParseFaults: the admin API hands request bodies to ParseFaults. It
// must not panic, and what it accepts must pass CheckFaults.
func FuzzParseFaults(f *testing.F) {
	for _, seed := range []string{
		`{"error": {"code": "temporarily_unavailable"}}`,
		`[{"delay": "1s"}, {"http_status": 500, "times": 3}]`,
		"- {id_jag: wrong_typ, match: {server: crm}}\n",
		`{"match": {"grant_type": "refresh_token"}, "error": {"code": "invalid_grant", "status": 400}}`,
		`{"times": 99999999999999999999}`,
		"&a [*a, *a]",
		`[{"endpoint": "jwks", "jwks": "empty"}, {"endpoint": "discovery", "delay": "1s", "match": {}}]`,
		"endpoint: userinfo\nerror: {code: x}\n",
	} {
		f.Add([]byte(seed))
	}
	cfg := demoConfig(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		faults, err := policy.ParseFaults(data, "body", cfg)
		if err != nil {
			var ps policy.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %T %v, want Problems", err, err)
			}
			return
		}
		if err := policy.CheckFaults(faults, "fault", cfg); err != nil {
			t.Fatalf("ParseFaults accepted what CheckFaults refuses: %v", err)
		}
	})
}

// TestCheckFaults_ClientMayBeADocumentURL: a fault's client may be the
// URL of a metadata document client that cimd allows; with cimd off, or
// outside cimd.allow, the problem is named.
func TestCheckFaults_ClientMayBeADocumentURL(t *testing.T) {
	const doc = "http://127.0.0.1:9000/client.json"
	for _, tt := range []struct {
		name, cimd, want string
	}{
		{"allowed", `cimd: {allow: ["http://127.0.0.1:*/*"]}`, ""},
		{"cimd off", `cimd: {enabled: false}`, "cimd.enabled is false"},
		{"not allowed", `cimd: {allow: ["https://clients.example/*"]}`, "matches no cimd.allow pattern"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := policy.Parse([]byte(tt.cimd+"\nusers: [{username: alice, password: a}]\n"), "c.yaml")
			if err != nil {
				t.Fatal(err)
			}
			err = policy.CheckFaults([]policy.Fault{{Match: policy.FaultMatch{Client: doc}, HTTPStatus: 503}}, "fault", cfg)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("CheckFaults: %v, want %q", err, tt.want)
			}
		})
	}
}

// TestParseFaults_Endpoints: faults of the JWKS, discovery and userinfo
// endpoints parse, and say where they act; what those endpoints cannot
// do is refused at the API as in the file (testdata/invalid/faults_endpoint).
func TestParseFaults_Endpoints(t *testing.T) {
	cfg := demoConfig(t)
	faults, err := policy.ParseFaults([]byte(`[
  {"endpoint": "jwks", "http_status": 503, "times": 1},
  {"endpoint": "jwks", "delay": "2s"},
  {"endpoint": "jwks", "jwks": "empty"},
  {"endpoint": "discovery", "http_status": 502},
  {"endpoint": "userinfo", "delay": "1s"},
  {"endpoint": "token", "http_status": 500}
]`), "body", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range faults {
		got = append(got, f.On()+": "+f.Describe())
	}
	want := []string{
		"jwks: a bare HTTP 503 without a JSON body at the jwks endpoint",
		"jwks: a delay of 2s at the jwks endpoint",
		`jwks: an empty JWKS ({"keys":[]})`,
		"discovery: a bare HTTP 502 without a JSON body at the discovery endpoint",
		"userinfo: a delay of 1s at the userinfo endpoint",
		"token: a bare HTTP 500 without a JSON body",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("faults:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f := (policy.Fault{HTTPStatus: 500}); f.On() != policy.FaultEndpointToken {
		t.Errorf("a fault without endpoint acts on %q", f.On())
	}

	_, err = policy.ParseFaults([]byte("endpoint: jwks\nmatch: {user: alice}\nerror: {code: temporarily_unavailable}\n"), "body", cfg)
	want2 := "body:2: fault.match: a fault of the jwks endpoint matches every request to it: no client or user is known on that request; remove match\n" +
		"body:3: fault.error: only the token endpoint answers with an OAuth error; a fault of the jwks endpoint gives delay, http_status or jwks: empty"
	if err == nil || err.Error() != want2 {
		t.Errorf("problems:\n%v\nwant:\n%s", err, want2)
	}
	if err := policy.CheckFaults([]policy.Fault{{Endpoint: policy.FaultEndpointDiscovery, Match: policy.FaultMatch{Client: "mcp-client"}, Delay: policy.Duration(time.Second)}}, "fault", cfg); err == nil {
		t.Error("a Go-built discovery fault with a match is accepted")
	}
}
