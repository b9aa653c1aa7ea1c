package idp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestCIMD_DisabledRefusesEveryURLClient: with cimd.enabled false, a
// client_id that is a metadata document URL, even one an MCP server's
// clients: map names, is invalid_client at /authorize, the token exchange
// and the refresh grant, with a description saying why, audited with the
// URL as client_id; the document is never fetched (the product contract,
// section 7: "a URL client_id that ... arrives while CIMD is disabled:
// invalid_client with a description naming the problem, audited").
func TestCIMD_DisabledRefusesEveryURLClient(t *testing.T) {
	f := startCIMD(t)
	idToken := f.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	cfg := *f.Config()
	off := false
	cfg.CIMD.Enabled = &off
	f.SetConfig(&cfg)
	const want = "client ID metadata documents are disabled"

	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {f.public}, "redirect_uri": {"http://127.0.0.1/callback"}, "response_type": {"code"}, "scope": {"openid"},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}, "state": {"st"}}
	resp, err := hc.Get(f.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if desc, _ := body["error_description"].(string); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_client" || !strings.Contains(desc, want) {
		t.Errorf("/authorize: %d %v; want 400 invalid_client saying %q", resp.StatusCode, body, want)
	}

	if resp, body := f.exchange(t, idToken, f.public, nil); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(body["error_description"].(string), want) {
		t.Errorf("token exchange: %d %v; want 401 invalid_client saying %q", resp.StatusCode, body, want)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"any"}, "client_id": {f.public}}
	if resp, body := f.postToken(t, form, nil); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(body["error_description"].(string), want) {
		t.Errorf("refresh grant: %d %v; want 401 invalid_client saying %q", resp.StatusCode, body, want)
	}

	for _, typ := range []string{audit.TypeLogin, audit.TypeTokenExchange, audit.TypeToken} {
		evs := f.Audit.Query(audit.Filter{Type: typ, Client: f.public})
		if len(evs) != 1 || evs[0].Outcome == audit.Allowed || evs[0].Error != "invalid_client" || !strings.Contains(evs[0].Reason, want) {
			t.Errorf("%s events of %s: %+v; want one refusal, invalid_client, with the reason", typ, f.public, evs)
		}
	}
	if n := f.docs.hitsOf("/public.json"); n != 0 {
		t.Errorf("the document was fetched %d times while CIMD is disabled, want 0", n)
	}
}

// TestCIMD_TokenExchangeOffKeepsTheLogin: with cimd.token_exchange false, a
// metadata document client still logs users in, but its token exchange is
// refused unauthorized_client (RFC 8693 section 2.2.2: the client may not
// use this grant), audited with a reason naming the switch that refused it,
// cimd.token_exchange (no clients: entry has a token_exchange for the URL);
// a configured client is unaffected (the product contract, section 7:
// "token_exchange: may CIMD clients request ID-JAGs").
func TestCIMD_TokenExchangeOffKeepsTheLogin(t *testing.T) {
	f := startCIMD(t)
	cfg := *f.Config()
	no := false
	cfg.CIMD.TokenExchange = &no
	f.SetConfig(&cfg)

	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: f.URL, ClientID: f.public, Username: "alice", Password: "alice-pw"})
	if err != nil {
		t.Fatalf("login through the metadata document client: %v", err)
	}
	resp, body := f.exchange(t, tok.IDToken(), f.public, nil)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Errorf("exchange by the metadata document client: %d %v; want 400 unauthorized_client", resp.StatusCode, body)
	}
	evs := f.Audit.Query(audit.Filter{Type: audit.TypeTokenExchange, Client: f.public})
	if len(evs) != 1 || evs[0].Outcome != audit.Error || evs[0].Error != "unauthorized_client" || !strings.Contains(evs[0].Reason, "cimd.token_exchange is false") {
		t.Errorf("audit events %+v; want one unauthorized_client whose reason names cimd.token_exchange", evs)
	}

	form := exchangeForm(f.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken())
	form.Set("client_id", "mcp-client")
	form.Set("client_secret", "s1")
	if resp, body := f.postToken(t, form, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("exchange by the configured client: %d %v; want 200", resp.StatusCode, body)
	}
}
