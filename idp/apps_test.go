package idp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/access"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

const appsConfig = `
users:
  - {username: bob, password: bob-pw, sub: u-bob}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: crm
    name: CRM
    issuer: https://as.crm.example
    resources: [https://mcp.crm.example/mcp]
    scopes: [crm.read, crm.write]
    access:
      - {users: [bob], scopes: [crm.read], expires: "2030-01-01T08:00:00Z"}
  - id: wiki
    name: Wiki
    issuer: https://as.wiki.example
    resources: [https://mcp.wiki.example/mcp]
    scopes: [wiki.read, wiki.write]
  - id: hr
    name: HR
    issuer: https://as.hr.example
    resources: [https://mcp.hr.example/mcp]
    deny:
      - users: [bob]
`

// cookieClient is an HTTP client with cookies, as a browser signs in.
func cookieClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// startApps starts an IdP on the configuration yaml (named apps.yaml) and
// returns it with a browser's cookie client.
func startApps(t *testing.T, yaml string) (*testIdP, *http.Client) {
	t.Helper()
	cfg, err := policy.Parse([]byte(yaml), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return startIdP(t, cfg), cookieClient(t)
}

func fetch(t *testing.T, hc *http.Client, method, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func hidden(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in the page:\n%s", name, page)
	}
	return m[1]
}

// requestCSRF is the token of the page's request forms (its sign-out
// form, first in the page, carries end_session's).
func requestCSRF(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, `/apps">`)
	if i < 0 {
		t.Fatalf("no request form in the page:\n%s", page)
	}
	return hidden(t, page[i:], "csrf")
}

func TestApps_SignInListRequest(t *testing.T) {
	p, hc := startApps(t, appsConfig)
	p.Clock().Freeze()
	p.Clock().Set(time.Date(2030, 1, 1, 0, 1, 0, 0, time.UTC))

	// Signed out: the page starts a sign-in at the IdP's own login.
	resp, page := fetch(t, hc, http.MethodGet, p.URL+"/apps", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="password"`) {
		t.Fatalf("GET /apps signed out: %d, want the login form:\n%s", resp.StatusCode, page)
	}
	resp, page = fetch(t, hc, http.MethodPost, p.URL+"/login", url.Values{
		"authRequestID": {hidden(t, page, "authRequestID")}, "username": {"bob"}, "password": {"bob-pw"},
	})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != p.URL+"/apps" {
		t.Fatalf("after the login: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	for _, want := range []string{`id="user"><bdi>bob</bdi><`, `<td><bdi>CRM</bdi></td>`, `<span class="tag"><bdi>crm.read</bdi></span>`, "expires in 7h 59m",
		`id="request-wiki"`, `value="wiki.write"`, `<label for="reason-wiki">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s:\n%s", want, page)
		}
	}
	// ">HR<" and "hr." rather than "HR": the page's random CSRF token may hold those letters.
	if strings.Contains(page, ">HR<") || strings.Contains(page, "hr.example") || strings.Contains(page, `id="request-hr"`) || strings.Contains(page, `id="request-crm"`) {
		t.Errorf("the page offers a server bob is denied or assigned to:\n%s", page)
	}

	// The address of the page shown after a request, typed or linked
	// with no request made, does not say one was sent.
	for _, id := range []string{"wiki", "crm"} {
		if _, page := fetch(t, hc, http.MethodGet, p.URL+"/apps?requested="+id, nil); strings.Contains(page, "was sent to the administrators") {
			t.Errorf("GET /apps?requested=%s with no request made says one was sent:\n%s", id, page)
		}
	}

	csrf := requestCSRF(t, page)
	request := url.Values{"server": {"wiki"}, "scopes": {"wiki.read"}, "reason": {"team docs"}}
	resp, refused := fetch(t, hc, http.MethodPost, p.URL+"/apps", request)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(refused, "security token") {
		t.Errorf("POST without the CSRF token: %d\n%s", resp.StatusCode, refused)
	}
	if n := len(p.AccessRequests().List("")); n != 0 {
		t.Fatalf("a request without the CSRF token was recorded")
	}
	request.Set("csrf", csrf)
	resp, page = fetch(t, hc, http.MethodPost, p.URL+"/apps", request)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Request pending since") || !strings.Contains(page, "was sent to the administrators") {
		t.Fatalf("after the request: %d\n%s", resp.StatusCode, page)
	}
	list := p.AccessRequests().List(access.Pending)
	if len(list) != 1 || list[0].User != "bob" || list[0].Server != "wiki" || list[0].Reason != "team docs" || strings.Join(list[0].Scopes, " ") != "wiki.read" {
		t.Errorf("recorded: %+v", list)
	}
	request.Set("server", "hr")
	if resp, page := fetch(t, hc, http.MethodPost, p.URL+"/apps", request); resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "deny entry") {
		t.Errorf("a request for a server that denies bob: %d\n%s", resp.StatusCode, page)
	}

	// Without the SSO session, nothing is requested.
	resp, page = fetch(t, &http.Client{}, http.MethodPost, p.URL+"/apps", url.Values{"server": {"wiki"}, "csrf": {csrf}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Sign in again") {
		t.Errorf("POST without a session: %d\n%s", resp.StatusCode, page)
	}
}

func TestAccessRequests_KeptAcrossARestartWithAStateDir(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := startIdP(t, cfg, func(o *idp.Options) { o.StateDir = dir })
	tok, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/me/access-requests", strings.NewReader(`{"server": "wiki", "reason": "docs"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("request: %v %v", resp, err)
	}
	resp.Body.Close()

	again := startIdP(t, cfg, func(o *idp.Options) { o.StateDir = dir })
	if list := again.AccessRequests().List(access.Pending); len(list) != 1 || list[0].Server != "wiki" || list[0].Reason != "docs" {
		t.Errorf("after the restart: %+v", list)
	}
	if list := startIdP(t, cfg).AccessRequests().List(""); len(list) != 0 {
		t.Errorf("without a state dir: %+v, want none", list)
	}
}

// TestApps_ADenyWinsOverAnAssignment: a user whom a group assigns to a
// server and a deny entry names cannot use it, as every token exchange
// says; the page lists it neither as assigned nor as requestable.
func TestApps_ADenyWinsOverAnAssignment(t *testing.T) {
	p, hc := startApps(t, `
groups:
  - name: sales
users:
  - {username: mallory, password: mallory-pw, groups: [sales]}
clients:
  - {client_id: mcp-client, client_secret: s1, redirect_uris: [http://127.0.0.1/callback], token_exchange: true}
mcp_servers:
  - id: crm
    name: CRM
    issuer: https://as.crm.example
    resources: [https://mcp.crm.example/mcp]
    scopes: [crm.read]
    clients: {mcp-client: mcp-client}
    access:
      - {groups: [sales], scopes: [crm.read]}
    deny:
      - users: [mallory]
  - id: wiki
    name: Wiki
    issuer: https://as.wiki.example
    resources: [https://mcp.wiki.example/mcp]
    scopes: [wiki.read]
`)
	_, page := fetch(t, hc, http.MethodGet, p.URL+"/apps", nil)
	resp, page := fetch(t, hc, http.MethodPost, p.URL+"/login", url.Values{
		"authRequestID": {hidden(t, page, "authRequestID")}, "username": {"mallory"}, "password": {"mallory-pw"},
	})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != p.URL+"/apps" {
		t.Fatalf("after the login: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if strings.Contains(page, "CRM") || strings.Contains(page, "crm.read") {
		t.Errorf("the page shows CRM, which denies mallory:\n%s", page)
	}
	if !strings.Contains(page, "You are assigned to no MCP server yet.") || !strings.Contains(page, `id="request-wiki"`) {
		t.Errorf("the page should list no assignment and offer the wiki:\n%s", page)
	}
}

// TestApps_AReasonTheFormAcceptsIsKept: the form's reason field takes 1024
// characters (maxlength counts characters), in any script; the request is
// recorded with all of them, and one character more is refused.
func TestApps_AReasonTheFormAcceptsIsKept(t *testing.T) {
	p, hc := startApps(t, appsConfig)
	_, page := fetch(t, hc, http.MethodGet, p.URL+"/apps", nil)
	_, page = fetch(t, hc, http.MethodPost, p.URL+"/login", url.Values{
		"authRequestID": {hidden(t, page, "authRequestID")}, "username": {"bob"}, "password": {"bob-pw"},
	})
	if !strings.Contains(page, `maxlength="1024"`) {
		t.Fatalf("the form's reason field is not 1024 characters long:\n%s", page)
	}
	form := url.Values{"csrf": {requestCSRF(t, page)}, "server": {"wiki"}, "scopes": {"wiki.read"}, "reason": {strings.Repeat("é", 1025)}}
	if resp, page := fetch(t, hc, http.MethodPost, p.URL+"/apps", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "1025 characters") {
		t.Errorf("a reason of 1025 characters: %d, want 400 saying so\n%s", resp.StatusCode, page)
	}
	reason := strings.Repeat("é", 1024) // 2048 bytes
	form.Set("reason", reason)
	if resp, page := fetch(t, hc, http.MethodPost, p.URL+"/apps", form); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Request pending since") {
		t.Fatalf("a reason of 1024 characters: %d\n%s", resp.StatusCode, page)
	}
	if list := p.AccessRequests().List(access.Pending); len(list) != 1 || list[0].Reason != reason {
		t.Errorf("recorded: %+v", list)
	}
}

// TestApps_ServerNamesAreBidiIsolated: a server name holding an unbalanced U+202E (RIGHT-TO-LEFT
// OVERRIDE) is shown alone in a <bdi> wherever the page shows it (the assigned table, the
// request form's heading and button), so that it cannot reorder the words around it. The
// file's check refuses such a name (since 2026-12-06); the page isolates it all the same, so
// the names here are set past the check.
func TestApps_ServerNamesAreBidiIsolated(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for plain, hostile := range map[string]string{"CRM": "CRM \u202eone", "Wiki": "Wiki \u202etwo"} {
		for j := range cfg.MCPServers {
			if cfg.MCPServers[j].Name == plain {
				cfg.MCPServers[j].Name = hostile
			}
		}
	}
	p, hc := startIdP(t, cfg), cookieClient(t)
	p.Clock().Freeze()
	p.Clock().Set(time.Date(2030, 1, 1, 0, 1, 0, 0, time.UTC))
	_, page := fetch(t, hc, http.MethodGet, p.URL+"/apps", nil)
	_, page = fetch(t, hc, http.MethodPost, p.URL+"/login", url.Values{
		"authRequestID": {hidden(t, page, "authRequestID")}, "username": {"bob"}, "password": {"bob-pw"},
	})
	all := strings.Count(page, "\u202e")
	isolated := len(regexp.MustCompile("<bdi>[^<]*\u202e[^<]*</bdi>").FindAllString(page, -1))
	if all < 3 || isolated != all {
		t.Errorf("%d of the %d names holding U+202E are alone in a <bdi>:\n%s", isolated, all, page)
	}
}

// TestApps_CSRFRefusalIsAudited: the apps page's request form posted
// with a stale or wrong CSRF token by a signed-in user is refused 403
// and audited as the console's refusal is: a denied login of the user
// at the apps client, with the method and path, never the token. Until
// 2026-12-06 it left no event.
func TestApps_CSRFRefusalIsAudited(t *testing.T) {
	p, hc := startApps(t, appsConfig)
	_, page := fetch(t, hc, http.MethodGet, p.URL+"/apps", nil)
	resp, page := fetch(t, hc, http.MethodPost, p.URL+"/login", url.Values{
		"authRequestID": {hidden(t, page, "authRequestID")}, "username": {"bob"}, "password": {"bob-pw"},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the login: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	csrf := requestCSRF(t, page)
	f := audit.Filter{Type: audit.TypeLogin, User: "bob", Outcome: audit.Denied}
	for _, token := range []string{"", "stale-" + csrf} {
		before := len(p.Audit.Query(f))
		if resp, page := fetch(t, hc, http.MethodPost, p.URL+"/apps", url.Values{"server": {"wiki"}, "csrf": {token}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("POST with csrf %q: %d\n%s", token, resp.StatusCode, page)
		}
		evs := p.Audit.Query(f)
		if len(evs) != before+1 {
			t.Fatalf("bob's denied logins: %d, want %d (one for the refusal)", len(evs), before+1)
		}
		ev := evs[0]
		if ev.ClientID != idp.AppsClientID || ev.Error != "access_denied" || ev.Sub == "" || !strings.Contains(ev.Reason, "CSRF") ||
			ev.Details["method"] != http.MethodPost || ev.Details["path"] != "/apps" {
			t.Errorf("event %+v, want client %s, access_denied, bob's sub, a reason naming the CSRF token, POST /apps", ev, idp.AppsClientID)
		}
		if line, _ := json.Marshal(ev); strings.Contains(string(line), csrf) {
			t.Errorf("the event holds the page's CSRF token: %s", line)
		}
	}
}
