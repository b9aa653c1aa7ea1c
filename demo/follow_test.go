package demo_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/policy"
)

// parse parses a configuration of a Follow test.
func parse(t *testing.T, yaml string) *policy.Config {
	t.Helper()
	cfg, err := policy.Parse([]byte(yaml), "follow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// notesAS is the demo authorization server of the MCP server notes, at
// http://127.0.0.1:9101 in the configurations, served on a test port,
// with an IdP that signs its ID-JAGs.
type notesAS struct {
	url    string
	idp    string // the fake IdP's URL: the issuer without tenants, their base with
	signer jose.Signer
}

// redeem runs the JWT bearer grant with an ID-JAG of iss for the user
// sub (and email) and the client clientID, authenticated with secret.
func (n notesAS) redeem(t *testing.T, iss, sub, email, clientID, secret, scope string) (int, map[string]any) {
	t.Helper()
	return n.redeemJAG(t, n.jag(t, iss, sub, email, clientID, scope), clientID, secret)
}

// redeemJAG runs the JWT bearer grant with the ID-JAG jag for the client
// clientID, authenticated with secret.
func (n notesAS) redeemJAG(t *testing.T, jag, clientID, secret string) (int, map[string]any) {
	t.Helper()
	return n.post(t, "/token", clientID, secret, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}})
}

// jag signs an ID-JAG of iss for the user sub (and email) and the client
// clientID at notes, good for a minute.
func (n notesAS) jag(t *testing.T, iss, sub, email, clientID, scope string) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": iss, "sub": sub, "aud": "http://127.0.0.1:9101",
		"client_id": clientID, "resource": "http://127.0.0.1:9201/mcp", "scope": scope,
		"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	if email != "" {
		claims["email"] = email
	}
	jag, err := jwt.Signed(n.signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return jag
}

func (n notesAS) post(t *testing.T, path, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	return postForm(t, n.url+path, user, pass, form)
}

// postForm posts form to target with HTTP Basic and decodes the JSON answer.
func postForm(t *testing.T, target, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("POST %s: HTTP %d, not JSON: %v", target, resp.StatusCode, err)
	}
	return resp.StatusCode, body
}

// startNotes runs Stack on the configuration yaml and serves the notes authorization server.
func startNotes(t *testing.T, yaml string) (notesAS, []demo.Service) {
	t.Helper()
	idp, signer := fakeIdP(t)
	stack, err := demo.Stack(parse(t, yaml), idp.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAuthorizationServer(t, stack, "notes")
	return notesAS{url: srv.URL, idp: idp.URL, signer: signer}, stack
}

// wantGrant checks a token response: an access token when wantErr is "",
// else that error.
func wantGrant(t *testing.T, what string, status int, body map[string]any, wantErr string) {
	t.Helper()
	if got, _ := body["error"].(string); got != wantErr || (wantErr == "" && (status != http.StatusOK || body["access_token"] == nil)) {
		t.Errorf("%s: HTTP %d %v, want error %q", what, status, body, wantErr)
	}
}

const followV1 = `
users:
  - {username: alice, password: alice, email: alice@acme.example}
clients:
  - {client_id: desk, client_secret: desk-secret, token_exchange: true}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [notes.read]
    subject: email
    include_email: true
    clients: {desk: desk-at-notes}
    access: [{users: [alice], scopes: [notes.read]}]
`

// followV2 is followV1 after an admin added a user, a client mapped at
// notes, and a scope.
var followV2 = strings.NewReplacer(
	"  - {username: alice, password: alice, email: alice@acme.example}\n",
	"  - {username: alice, password: alice, email: alice@acme.example}\n  - {username: newbie, password: newbie, sub: 00u-newbie, email: newbie@acme.example}\n",
	"  - {client_id: desk, client_secret: desk-secret, token_exchange: true}\n",
	"  - {client_id: desk, client_secret: desk-secret, token_exchange: true}\n  - {client_id: app2, client_secret: app2-secret, redirect_uris: [\"https://app2.example/cb\"], token_exchange: true}\n",
	"scopes: [notes.read]", "scopes: [notes.read, notes.admin]",
	"clients: {desk: desk-at-notes}", "clients: {desk: desk-at-notes, app2: app2-at-notes}",
	"access: [{users: [alice], scopes: [notes.read]}]", "access: [{users: [alice, newbie], scopes: [notes.read, notes.admin]}]",
).Replace(followV1)

// TestFollow_RegistersNewUsersClientsAndScopes: after an admin adds a
// user, a client mapped at the server and a scope, Follow makes the demo
// authorization server (which maps users by email) redeem that user's
// ID-JAG for that client with that scope, which it refused before; when
// the admin takes them away again, it refuses them again. The MCP
// server's scopes are the one thing that waits for a restart.
func TestFollow_RegistersNewUsersClientsAndScopes(t *testing.T) {
	as, stack := startNotes(t, followV1)
	newbie := func() (int, map[string]any) {
		return as.redeem(t, as.idp, "idp-newbie", "newbie@acme.example", "app2-at-notes", "app2-secret", "notes.read notes.admin")
	}
	status, body := newbie()
	wantGrant(t, "before Follow", status, body, "invalid_client")

	warnings := demo.Follow(stack, parse(t, followV2))
	if len(warnings) != 1 || !strings.Contains(warnings[0], "server notes: its authorization server grants the scopes notes.read notes.admin now, but its MCP server keeps") {
		t.Errorf("warnings %q, want one about the MCP server's scopes", warnings)
	}
	status, body = newbie()
	wantGrant(t, "after Follow", status, body, "")
	if body["scope"] != "notes.read notes.admin" {
		t.Errorf("scope %v", body["scope"])
	}
	id, secret := demo.IntrospectionCredentials("notes")
	token, _ := body["access_token"].(string)
	_, info := as.post(t, "/introspect", id, secret, url.Values{"token": {token}})
	if info["active"] != true || info["username"] != "newbie" || info["sub"] != "00u-newbie" || info["client_id"] != "app2-at-notes" {
		t.Errorf("introspection %v, want newbie's local account and app2", info)
	}

	if w := demo.Follow(stack, parse(t, followV1)); len(w) != 0 {
		t.Errorf("back to the start: warnings %q", w)
	}
	status, body = newbie()
	wantGrant(t, "the client unmapped", status, body, "invalid_client")
	status, body = as.redeem(t, as.idp, "idp-newbie", "newbie@acme.example", "desk-at-notes", "desk-secret", "notes.read")
	wantGrant(t, "the user removed", status, body, "invalid_grant")
	status, body = as.redeem(t, as.idp, "idp-alice", "alice@acme.example", "desk-at-notes", "desk-secret", "notes.admin")
	wantGrant(t, "the scope removed", status, body, "invalid_scope")
	_, info = as.post(t, "/introspect", id, secret, url.Values{"token": {token}})
	if info["active"] != true {
		t.Errorf("the access token issued before: %v, want active until it expires", info)
	}
}

// tenantsYAML lists notes, shared, in the tenants given, each with its own
// alice and client.
func tenantsYAML(listing ...string) string {
	y := "tenants:"
	for _, id := range []string{"a", "b"} {
		y += `
  - id: ` + id + `
    users: [{username: alice, password: alice, sub: u-alice-` + id + `}]
    clients: [{client_id: desk-` + id + `, client_secret: desk-` + id + `-secret, token_exchange: true}]
    mcp_servers:`
		if !slices.Contains(listing, id) {
			y += " []"
			continue
		}
		y += `
      - id: notes
        issuer: http://127.0.0.1:9101
        resources: [http://127.0.0.1:9201/mcp]
        scopes: [notes.read]
        clients: {desk-` + id + `: ` + id + `-at-notes}
        access: [{users: [alice], scopes: [notes.read]}]`
	}
	return y + "\n"
}

// TestFollow_TrustsOnlyTheTenantsThatListTheServer: when a tenant stops
// listing a shared MCP server, its ID-JAGs are from an untrusted issuer
// there; when no tenant lists it, its authorization server refuses every
// grant, and Follow says so.
func TestFollow_TrustsOnlyTheTenantsThatListTheServer(t *testing.T) {
	as, stack := startNotes(t, tenantsYAML("a", "b"))
	grantOf := func(tenant string) (int, map[string]any) {
		return as.redeem(t, as.idp+"/t/"+tenant, "u-alice-"+tenant, "", tenant+"-at-notes", "desk-"+tenant+"-secret", "notes.read")
	}
	for _, tenant := range []string{"a", "b"} {
		status, body := grantOf(tenant)
		wantGrant(t, "tenant "+tenant+" at the start", status, body, "")
	}

	if w := demo.Follow(stack, parse(t, tenantsYAML("a"))); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	status, body := grantOf("a")
	wantGrant(t, "tenant a, listing it", status, body, "")
	status, body = grantOf("b")
	wantGrant(t, "tenant b, no longer listing it", status, body, "invalid_client")
	status, body = as.redeem(t, as.idp+"/t/b", "u-alice-b", "", "a-at-notes", "desk-a-secret", "notes.read")
	wantGrant(t, "tenant b's ID-JAG for tenant a's client", status, body, "invalid_grant")
	if desc, _ := body["error_description"].(string); !strings.Contains(desc, `untrusted issuer '`+as.idp+`/t/b'`) {
		t.Errorf("description %q", desc)
	}

	w := demo.Follow(stack, parse(t, tenantsYAML()))
	if len(w) != 1 || !strings.Contains(w[0], "no MCP server of the configuration has the issuer http://127.0.0.1:9101 any more") {
		t.Errorf("warnings %q", w)
	}
	status, body = grantOf("a")
	wantGrant(t, "listed by no tenant", status, body, "invalid_client")
}

// TestFollow_ReportsWhatNeedsARestart: what needs new listeners or is
// fixed in a running server is reported, and the rest followed.
func TestFollow_ReportsWhatNeedsARestart(t *testing.T) {
	wiki := `
  - id: wiki
    issuer: http://127.0.0.1:9102
    resources: [http://127.0.0.1:9202/mcp]
    scopes: [wiki.read]
    clients: {desk: desk-at-wiki}
    access: [{users: [alice], scopes: [wiki.read]}]
`
	tests := []struct {
		name    string
		edit    func(string) string
		want    []string // one substring per warning
		follows bool     // app2, added by every edit, is then registered
	}{
		{"nothing else", func(y string) string { return y }, nil, true},
		{"a new server", func(y string) string { return y + wiki },
			[]string{"server wiki (http://127.0.0.1:9102) is new; the demo serves it once it restarts"}, true},
		{"another issuer", func(y string) string { return strings.Replace(y, "9101", "9109", 1) },
			[]string{"no MCP server of the configuration has the issuer http://127.0.0.1:9101 any more",
				"server notes: its issuer is now http://127.0.0.1:9109, but the demo serves its authorization server at http://127.0.0.1:9101"}, false},
		{"other resources", func(y string) string { return strings.Replace(y, "9201/mcp", "9209/mcp", 1) },
			[]string{"server notes: its resources are now http://127.0.0.1:9209/mcp, but the demo serves http://127.0.0.1:9201/mcp until it restarts"}, true},
		{"another subject", func(y string) string { return strings.Replace(y, "subject: email", "subject: sub", 1) },
			[]string{`server notes: its subject is now "sub", but its authorization server finds users by email until the demo restarts`}, true},
		{"another cimd allow list", func(y string) string { return "cimd: {allow: [\"https://clients.example/*\"]}\n" + y },
			[]string{"server notes: the cimd sections of the tenants that list it changed"}, true},
	}
	addApp2 := strings.NewReplacer(
		"  - {client_id: desk, client_secret: desk-secret, token_exchange: true}\n",
		"  - {client_id: desk, client_secret: desk-secret, token_exchange: true}\n  - {client_id: app2, client_secret: app2-secret, token_exchange: true}\n",
		"clients: {desk: desk-at-notes}", "clients: {desk: desk-at-notes, app2: app2-at-notes}",
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, stack := startNotes(t, followV1)
			w := demo.Follow(stack, parse(t, tt.edit(addApp2.Replace(followV1))))
			if len(w) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", w, len(tt.want))
			}
			for i := range w {
				if !strings.Contains(w[i], tt.want[i]) {
					t.Errorf("warning %q, want %q", w[i], tt.want[i])
				}
			}
			status, body := as.redeem(t, as.idp, "idp-alice", "alice@acme.example", "app2-at-notes", "app2-secret", "notes.read")
			wantErr := "invalid_client"
			if tt.follows {
				wantErr = ""
			}
			wantGrant(t, "app2", status, body, wantErr)
		})
	}
}

// TestFollow_KeepsAServerItCannotMerge: a configuration that gives a
// shared server two subject mappings, which Stack refuses, is reported,
// and the server keeps what it had: the client added in the same edit
// stays unknown, the clients it had still work.
func TestFollow_KeepsAServerItCannotMerge(t *testing.T) {
	as, stack := startNotes(t, tenantsYAML("a", "b"))
	bad := strings.NewReplacer(
		"clients: {desk-b: b-at-notes}", "subject: email\n        clients: {desk-b: b-at-notes, desk-b2: b2-at-notes}",
		"[{client_id: desk-b, client_secret: desk-b-secret, token_exchange: true}]",
		"[{client_id: desk-b, client_secret: desk-b-secret, token_exchange: true}, {client_id: desk-b2, client_secret: b2-secret, token_exchange: true}]",
	).Replace(tenantsYAML("a", "b"))
	w := demo.Follow(stack, parse(t, bad))
	if len(w) != 1 || !strings.Contains(w[0], `tenants a and b list the MCP server at http://127.0.0.1:9101 with subject "sub" and "email"`) || !strings.Contains(w[0], "keeps the configuration it had") {
		t.Errorf("warnings %q", w)
	}
	status, body := as.redeem(t, as.idp+"/t/a", "u-alice-a", "", "a-at-notes", "desk-a-secret", "notes.read")
	wantGrant(t, "tenant a's client", status, body, "")
	status, body = as.redeem(t, as.idp+"/t/b", "u-alice-b", "", "b-at-notes", "desk-b-secret", "notes.read")
	wantGrant(t, "tenant b's client", status, body, "")
	status, body = as.redeem(t, as.idp+"/t/b", "u-alice-b", "", "b2-at-notes", "b2-secret", "notes.read")
	wantGrant(t, "the client of the refused edit", status, body, "invalid_client")
}

// TestFollow_KeepsAServerTwoEntriesClaim: two MCP servers of one tenant
// with one issuer (which policy validation refuses, and Stack too) cannot
// share its authorization server; it keeps what it had.
func TestFollow_KeepsAServerTwoEntriesClaim(t *testing.T) {
	as, stack := startNotes(t, followV1)
	cfg := parse(t, followV2+`  - id: notes2
    issuer: http://127.0.0.1:9102
    resources: [http://127.0.0.1:9202/mcp]
    scopes: [notes.read]
    clients: {app2: app2-at-notes2}
    access: [{users: [alice], scopes: [notes.read]}]
`)
	cfg.MCPServers[1].Issuer = cfg.MCPServers[0].Issuer
	w := demo.Follow(stack, cfg)
	if len(w) != 1 || !strings.Contains(w[0], "MCP servers notes and notes2 both have the issuer http://127.0.0.1:9101") {
		t.Errorf("warnings %q", w)
	}
	status, body := as.redeem(t, as.idp, "idp-newbie", "newbie@acme.example", "app2-at-notes", "app2-secret", "notes.read")
	wantGrant(t, "the client of the refused configuration", status, body, "invalid_client")
}

// TestFollow_IDJAGReuseAppliesAtOnce: allow_id_jag_reuse, turned on by an
// edit, makes the demo authorization server redeem an ID-JAG it already
// redeemed, each time for a new access token, with no restart; turned off
// again, it refuses that ID-JAG again.
func TestFollow_IDJAGReuseAppliesAtOnce(t *testing.T) {
	as, stack := startNotes(t, followV1)
	jag := as.jag(t, as.idp, "idp-alice", "alice@acme.example", "desk-at-notes", "notes.read")
	status, body := as.redeemJAG(t, jag, "desk-at-notes", "desk-secret")
	wantGrant(t, "first use", status, body, "")
	status, body = as.redeemJAG(t, jag, "desk-at-notes", "desk-secret")
	wantGrant(t, "reuse by default", status, body, "invalid_grant")
	if desc, _ := body["error_description"].(string); !strings.Contains(desc, "already redeemed") {
		t.Errorf("description %q", desc)
	}

	reuse := strings.Replace(followV1, "    subject: email\n", "    subject: email\n    allow_id_jag_reuse: true\n", 1)
	if w := demo.Follow(stack, parse(t, reuse)); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	tokens := map[any]bool{}
	for i := range 2 {
		status, body = as.redeemJAG(t, jag, "desk-at-notes", "desk-secret")
		wantGrant(t, fmt.Sprintf("reuse %d with allow_id_jag_reuse", i+1), status, body, "")
		if body["access_token"] != nil && tokens[body["access_token"]] {
			t.Errorf("reuse %d: the same access token again", i+1)
		}
		tokens[body["access_token"]] = true
	}

	if w := demo.Follow(stack, parse(t, followV1)); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	status, body = as.redeemJAG(t, jag, "desk-at-notes", "desk-secret")
	wantGrant(t, "reuse once the key is gone", status, body, "invalid_grant")
}

// TestFollow_KeepsAServerWithTwoReuseSettings: tenants that list one MCP
// server with different allow_id_jag_reuse values, which Stack refuses,
// leave its authorization server as it was, with a warning.
func TestFollow_KeepsAServerWithTwoReuseSettings(t *testing.T) {
	as, stack := startNotes(t, tenantsYAML("a", "b"))
	split := strings.Replace(tenantsYAML("a", "b"), "        clients: {desk-b: b-at-notes}", "        allow_id_jag_reuse: true\n        clients: {desk-b: b-at-notes}", 1)
	w := demo.Follow(stack, parse(t, split))
	if len(w) != 1 || !strings.Contains(w[0], "allow_id_jag_reuse") || !strings.Contains(w[0], "keeps the configuration it had") {
		t.Errorf("warnings %q", w)
	}
	jag := as.jag(t, as.idp+"/t/b", "u-alice-b", "", "b-at-notes", "notes.read")
	status, body := as.redeemJAG(t, jag, "b-at-notes", "desk-b-secret")
	wantGrant(t, "first use", status, body, "")
	status, body = as.redeemJAG(t, jag, "b-at-notes", "desk-b-secret")
	wantGrant(t, "reuse", status, body, "invalid_grant")
}
