package demo_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/xaa-idp/xaa-idp/demo"
)

// sharedSubYAML is two tenants listing the tracker, each with a user of
// sub u-alice: a's alice (the default sub of username alice) and b's
// alicia; subject is the tracker's subject key.
func sharedSubYAML(subject string) string {
	tenant := func(id, username, user string) string {
		return `
  - id: ` + id + `
    users: [` + user + `]
    clients: [{client_id: desk-` + id + `, client_secret: desk-` + id + `-secret, token_exchange: true}]
    mcp_servers:
      - id: tracker
        issuer: http://127.0.0.1:9101
        resources: [http://127.0.0.1:9201/mcp]
        scopes: [issues.read, issues.write]
        subject: ` + subject + `
        include_email: true
        clients: {desk-` + id + `: ` + id + `-at-tracker}
        access: [{users: [` + username + `], scopes: [issues.read, issues.write]}]`
	}
	return "tenants:" +
		tenant("a", "alice", `{username: alice, password: alice, email: alice@a.example}`) +
		tenant("b", "alicia", `{username: alicia, password: alicia, sub: u-alice, email: alicia@b.example}`) + "\n"
}

// sharedSub is the tracker of sharedSubYAML, served: its authorization
// server and its MCP server, with the fake IdP behind both tenants.
type sharedSub struct {
	as, mcp, idp string
	jags, sets   jose.Signer
}

func startSharedSub(t *testing.T, subject string) *sharedSub {
	t.Helper()
	idp, key := fakeIdPKey(t)
	cfg := parse(t, sharedSubYAML(subject))
	stack, err := demo.Stack(cfg, idp.URL, nil)
	if err != nil {
		t.Fatalf("Stack: %v", err)
	}
	s := &sharedSub{idp: idp.URL, jags: signerOf(t, key, "oauth-id-jag+jwt"), sets: signerOf(t, key, "secevent+jwt")}
	for _, svc := range stack {
		srv := httptest.NewServer(svc.Handler)
		t.Cleanup(srv.Close)
		if svc.Role == "authorization server" {
			s.as = srv.URL
		} else {
			s.mcp = srv.URL + "/mcp"
		}
	}
	return s
}

// grant redeems an ID-JAG of tenant for the user sub (and email) as the
// tenant's client, and returns the access token or the error.
func (s *sharedSub) grant(t *testing.T, tenant, sub, email string) (string, map[string]any) {
	t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": s.idp + "/t/" + tenant, "sub": sub, "aud": "http://127.0.0.1:9101", "client_id": tenant + "-at-tracker",
		"resource": "http://127.0.0.1:9201/mcp", "scope": "issues.read issues.write",
		"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	if email != "" {
		claims["email"] = email
	}
	jag, err := jwt.Signed(s.jags).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	status, body := postForm(t, s.as+"/token", tenant+"-at-tracker", "desk-"+tenant+"-secret",
		url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}})
	token, _ := body["access_token"].(string)
	if status != http.StatusOK {
		return "", body
	}
	return token, body
}

// introspect asks the tracker's authorization server about token, as
// the tracker.
func (s *sharedSub) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	id, secret := demo.IntrospectionCredentials("tracker")
	_, body := postForm(t, s.as+"/introspect", id, secret, url.Values{"token": {token}})
	return body
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// call calls a tool of the tracker with token through the official Go
// SDK client and returns its structured result, or the error.
func (s *sharedSub) call(t *testing.T, token, tool string, args map[string]any) (map[string]any, error) {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: s.mcp, HTTPClient: &http.Client{Transport: bearerTransport{token}}, MaxRetries: -1,
	}, nil)
	if err != nil {
		return nil, err
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return nil, err
	}
	if res.IsError {
		t.Fatalf("%s: tool error %v", tool, res.Content)
	}
	raw, _ := json.Marshal(res.StructuredContent)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out, nil
}

// issueTitles lists the titles of the user's issues.
func (s *sharedSub) issueTitles(t *testing.T, token string) []string {
	t.Helper()
	out, err := s.call(t, token, "list_issues", nil)
	if err != nil {
		t.Fatalf("list_issues: %v", err)
	}
	var titles []string
	for _, it := range out["issues"].([]any) {
		titles = append(titles, it.(map[string]any)["title"].(string))
	}
	return titles
}

// TestStack_OneSubInTwoTenantsIsTwoUsers: two tenants that list one MCP
// server, each with a user of sub u-alice, have two users there, told
// apart by their IdP (the issuer that signed the ID-JAG) as well as their
// sub: each access token names its own user (username, email, sub_id),
// whoami and the MCP server's records are each user's own, introspection
// tells them apart, and a SET of tenant a revokes a's alice and not b's
// user.
func TestStack_OneSubInTwoTenantsIsTwoUsers(t *testing.T) {
	s := startSharedSub(t, "sub")
	tokA, body := s.grant(t, "a", "u-alice", "")
	if tokA == "" {
		t.Fatalf("tenant a: %v", body)
	}
	tokB, body := s.grant(t, "b", "u-alice", "")
	if tokB == "" {
		t.Fatalf("tenant b: %v", body)
	}

	for _, c := range []struct{ token, tenant, username, email string }{
		{tokA, "a", "alice", "alice@a.example"},
		{tokB, "b", "alicia", "alicia@b.example"},
	} {
		iss := s.idp + "/t/" + c.tenant
		info := s.introspect(t, c.token)
		subID, _ := info["sub_id"].(map[string]any)
		if info["active"] != true || info["username"] != c.username || info["sub"] != "u-alice" || subID["iss"] != iss || subID["sub"] != "u-alice" {
			t.Errorf("tenant %s: introspection %v, want %s (sub u-alice) with sub_id iss %s", c.tenant, info, c.username, iss)
		}
		who, err := s.call(t, c.token, "whoami", nil)
		if err != nil {
			t.Fatalf("tenant %s: whoami: %v", c.tenant, err)
		}
		if who["username"] != c.username || who["email"] != c.email || who["idp_issuer"] != iss {
			t.Errorf("tenant %s: whoami %v, want %s <%s> of %s", c.tenant, who, c.username, c.email, iss)
		}
	}

	if _, err := s.call(t, tokA, "create_issue", map[string]any{"title": "alice of a was here"}); err != nil {
		t.Fatalf("create_issue: %v", err)
	}
	if got := s.issueTitles(t, tokA); !slices.Contains(got, "alice of a was here") {
		t.Errorf("a's issues %q lack the one a created", got)
	}
	if got := s.issueTitles(t, tokB); slices.Contains(got, "alice of a was here") {
		t.Errorf("b's issues %q hold the one a's alice created", got)
	}

	// Tenant a ends its alice's session.
	iat := time.Now()
	subID := map[string]any{"format": "iss_sub", "iss": s.idp + "/t/a", "sub": "u-alice"}
	set, err := jwt.Signed(s.sets).Claims(map[string]any{
		"iss": s.idp + "/t/a", "iat": iat.Unix(), "jti": rand.Text(), "aud": "http://127.0.0.1:9101", "sub_id": subID,
		"events": map[string]any{"https://schemas.openid.net/secevent/caep/event-type/session-revoked": map[string]any{
			"subject": subID, "event_timestamp": iat.Unix()}},
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.as+"/events", strings.NewReader(set))
	req.Header.Set("Content-Type", "application/secevent+jwt")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("SET push: HTTP %d", resp.StatusCode)
	}
	if info := s.introspect(t, tokA); info["active"] != false {
		t.Errorf("a's token after a's SET: %v, want inactive", info)
	}
	if _, err := s.call(t, tokA, "whoami", nil); err == nil {
		t.Error("a's token after a's SET still reaches the MCP server")
	}
	if info := s.introspect(t, tokB); info["active"] != true {
		t.Errorf("b's token after a's SET: %v, want active", info)
	}
	if who, err := s.call(t, tokB, "whoami", nil); err != nil || who["username"] != "alicia" {
		t.Errorf("b's token after a's SET: whoami %v, %v", who, err)
	}
}

// TestStack_EmailMapsWithinTheTenantOfTheIDJAG: a server that maps users
// by email looks the email up among the users of the tenant whose issuer
// signed the ID-JAG, not among every tenant's: tenant a's ID-JAG with
// the email of b's user maps to nobody.
func TestStack_EmailMapsWithinTheTenantOfTheIDJAG(t *testing.T) {
	s := startSharedSub(t, "email")
	for _, c := range []struct{ tenant, email, wantUser string }{
		{"a", "alice@a.example", "alice"},
		{"b", "ALICIA@b.example", "alicia"},
		{"a", "alicia@b.example", ""},
		{"b", "alice@a.example", ""},
	} {
		token, body := s.grant(t, c.tenant, "idp-"+c.tenant+"-someone", c.email)
		if c.wantUser == "" {
			if token != "" || body["error"] != "invalid_grant" {
				t.Errorf("tenant %s, %s: %v, want invalid_grant", c.tenant, c.email, body)
			}
			continue
		}
		info := s.introspect(t, token)
		if info["active"] != true || info["username"] != c.wantUser {
			t.Errorf("tenant %s, %s: introspection %v, want %s", c.tenant, c.email, info, c.wantUser)
		}
	}
}
