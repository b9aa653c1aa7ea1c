package idp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// postEndpoint posts form to the IdP's path with Basic credentials when
// user is not empty, as a client would, and answers the status and the
// JSON body (nil for an empty one).
func (p *testIdP) postEndpoint(t *testing.T, path string, form url.Values, user, password string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestAudit_IntrospectionAndRevocationRefusals: a client refused at the
// introspection or the revocation endpoint (a wrong secret, an unknown
// client, a public client at introspection, another client's token at
// revocation) is audited, as the token endpoint's refusals are: a token
// event without grant_type, details.endpoint naming the endpoint, the
// client as sent, the error the client got and the reason; never the
// token or the secret. Until 2026-12-06 none of them left an event.
func TestAudit_IntrospectionAndRevocationRefusals(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access")
	at := tok["access_token"].(string)
	rt, _ := tok["refresh_token"].(string)
	rows := []struct {
		name, path, endpoint string
		form                 url.Values
		user, password       string
		client, outcome      string
		sub                  string
	}{
		{"introspection wrong secret", "/oauth/introspect", "introspection", url.Values{"token": {at}}, "mcp-client", "wrong-secret", "mcp-client", audit.Error, ""},
		{"introspection unknown client", "/oauth/introspect", "introspection", url.Values{"token": {at}, "client_id": {"nobody"}, "client_secret": {"x-secret"}}, "", "", "nobody", audit.Error, ""},
		{"introspection public client", "/oauth/introspect", "introspection", url.Values{"token": {at}, "client_id": {"pub-client"}}, "", "", "pub-client", audit.Denied, ""},
		{"revocation wrong secret", "/revoke", "revocation", url.Values{"token": {at}}, "mcp-client", "wrong-secret", "mcp-client", audit.Error, ""},
		{"revocation unknown client", "/revoke", "revocation", url.Values{"token": {at}, "client_id": {"nobody"}}, "", "", "nobody", audit.Error, ""},
		{"revocation of another client's access token", "/revoke", "revocation", url.Values{"token": {at}}, "other-client", "s2", "other-client", audit.Denied, "u-alice"},
		{"revocation of another client's refresh token", "/revoke", "revocation", url.Values{"token": {rt}}, "other-client", "s2", "other-client", audit.Denied, "u-alice"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			before := len(p.Audit.Query(audit.Filter{Client: r.client, Limit: 1000}))
			status, body := p.postEndpoint(t, r.path, r.form, r.user, r.password)
			if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Fatalf("%d %v, want 401 invalid_client", status, body)
			}
			evs := p.Audit.Query(audit.Filter{Client: r.client, Limit: 1000})
			if len(evs) != before+1 {
				t.Fatalf("events of client %s: %d, want %d (one for the refusal)", r.client, len(evs), before+1)
			}
			ev := evs[0]
			if ev.Type != audit.TypeToken || ev.Outcome != r.outcome || ev.Error != "invalid_client" || ev.GrantType != "" ||
				strings.ReplaceAll(ev.Reason, `"`, "'") != body["error_description"] || ev.Details["endpoint"] != r.endpoint {
				t.Errorf("event %+v, want type token, outcome %s, error invalid_client, the description as reason (quoted with \" where the wire has '), details.endpoint %s", ev, r.outcome, r.endpoint)
			}
			if ev.Sub != r.sub {
				t.Errorf("sub %q, want %q (the token's user, for another client's token)", ev.Sub, r.sub)
			}
			line, _ := json.Marshal(ev)
			for _, secret := range []string{at, rt, "wrong-secret", "x-secret"} {
				if secret != "" && strings.Contains(string(line), secret) {
					t.Errorf("the event holds a token or a secret: %s", line)
				}
			}
		})
	}
	// What reaches no decision about a client is not audited: a request
	// without a token, and a token the client may see that is not active.
	n := len(p.Audit.Query(audit.Filter{Limit: 1000}))
	p.postEndpoint(t, "/oauth/introspect", url.Values{}, "mcp-client", "s1")
	p.postEndpoint(t, "/oauth/introspect", url.Values{"token": {"unknown"}}, "mcp-client", "s1")
	p.postEndpoint(t, "/revoke", url.Values{"token": {"unknown"}}, "mcp-client", "s1")
	if got := len(p.Audit.Query(audit.Filter{Limit: 1000})); got != n {
		t.Errorf("%d events after requests that reach no refusal, want none", got-n)
	}
}

// TestRevoke_AnotherClientsRefreshTokenAlwaysRefused: op took a refresh
// token it did not find for the revoking client for an access token and
// decrypted it with its legacy AES-CFB, which turns any string into
// something; about one refresh token in nine came out holding one ':',
// and op answered 200 and left it live. Every one is refused now.
func TestRevoke_AnotherClientsRefreshTokenAlwaysRefused(t *testing.T) {
	p := startConformanceIdP(t)
	for i := range 40 {
		rt := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access").RefreshToken()
		if status, body := p.postEndpoint(t, "/revoke", url.Values{"token": {rt}}, "other-client", "s2"); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Fatalf("refresh token %d of mcp-client revoked by other-client: %d %v, want 401 invalid_client", i, status, body)
		}
	}
}

// TestAudit_IntrospectionOfAnotherClientsToken: a client that introspects
// a token issued to another client is answered {"active": false} (RFC 7662
// section 4), and the refusal is audited as the revocation endpoint's is:
// outcome denied, details.endpoint introspection, the client as sent and
// the token's user, never the token. Until 2026-12-06 it left no event,
// the one refusal at the endpoint that did not.
func TestAudit_IntrospectionOfAnotherClientsToken(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access")
	at := tok["access_token"].(string)
	rt := tok.RefreshToken()
	for _, token := range []string{at, rt} {
		before := len(p.Audit.Query(audit.Filter{Client: "other-client", Limit: 1000}))
		status, body := p.postEndpoint(t, "/oauth/introspect", url.Values{"token": {token}}, "other-client", "s2")
		if status != http.StatusOK || body["active"] != false || len(body) != 1 {
			t.Fatalf("%d %v, want 200 {\"active\": false}", status, body)
		}
		evs := p.Audit.Query(audit.Filter{Client: "other-client", Limit: 1000})
		if len(evs) != before+1 {
			t.Fatalf("events of other-client: %d, want %d (one for the refusal)", len(evs), before+1)
		}
		ev := evs[0]
		if ev.Type != audit.TypeToken || ev.Outcome != audit.Denied || ev.Details["endpoint"] != "introspection" ||
			ev.Sub != "u-alice" || ev.User != "alice" || ev.Reason == "" || ev.GrantType != "" {
			t.Errorf("event %+v, want type token, outcome denied, details.endpoint introspection, sub u-alice, user alice, a reason", ev)
		}
		line, _ := json.Marshal(ev)
		if strings.Contains(string(line), token) {
			t.Errorf("the event holds the token: %s", line)
		}
	}
	// The token's own client sees it active, unaudited, as before.
	n := len(p.Audit.Query(audit.Filter{Limit: 1000}))
	if _, body := p.postEndpoint(t, "/oauth/introspect", url.Values{"token": {at}}, "mcp-client", "s1"); body["active"] != true {
		t.Fatalf("own token: %v, want active", body)
	}
	if got := len(p.Audit.Query(audit.Filter{Limit: 1000})); got != n {
		t.Errorf("%d events after the owner's introspection, want none", got-n)
	}
}
