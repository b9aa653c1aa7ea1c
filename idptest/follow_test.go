package idptest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestStartDemoServers_FollowSetConfig: a client added by SetConfig after
// StartDemoServers, and mapped at the tracker, redeems its ID-JAGs at the
// tracker's authorization server; once SetConfig unmaps it again, the
// server no longer knows it.
func TestStartDemoServers_FollowSetConfig(t *testing.T) {
	srv := idptest.New(t)
	tracker := srv.StartDemoServers()["tracker"]
	const newClient = `  - client_id: new-app
    client_secret: new-secret
    redirect_uris: [http://127.0.0.1/callback]
    token_exchange: true
`
	withClient := strings.Replace(string(fixtures.Demo), "clients:\n", "clients:\n"+newClient, 1)
	mapped := strings.Replace(withClient, "      mcp-client: mcp-client-at-tracker\n", "      mcp-client: mcp-client-at-tracker\n      new-app: new-app-at-tracker\n", 1)
	if mapped == withClient {
		t.Fatal("the fixture's tracker mapping moved; update the test")
	}
	srv.SetConfig(mapped)

	// redeem posts an ID-JAG of new-app to the tracker's authorization server.
	redeem := func(jag string) (int, map[string]any) {
		t.Helper()
		return redeemIDJAG(t, tracker.AuthServer, "new-app-at-tracker", "new-secret", jag)
	}
	idjag := func() string {
		t.Helper()
		jag, err := srv.Exchange(srv.LoginVia("new-app", "alice"), "tracker", "issues.read")
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		return jag
	}
	if status, body := redeem(idjag()); status != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("the new client at the tracker: %d %v, want an access token", status, body)
	}

	// Still a client of the IdP, no longer of the tracker's authorization
	// server. The IdP no longer issues it ID-JAGs for the tracker either,
	// so the refusal is seen with an ID-JAG issued before.
	jag := idjag()
	srv.SetConfig(withClient)
	if status, body := redeem(jag); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("the unmapped client: %d %v, want 401 invalid_client", status, body)
	}
}

// redeemIDJAG posts the ID-JAG jag to the token endpoint of the demo
// authorization server asURL (RFC 7523 JWT bearer grant) as the client
// id (client_secret_basic) and returns the status and the JSON answer.
func redeemIDJAG(t *testing.T, asURL, id, secret, jag string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}}
	req, _ := http.NewRequest(http.MethodPost, asURL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}
