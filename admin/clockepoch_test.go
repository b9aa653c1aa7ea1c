package admin_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestAdminAPI_TheClockStartsAtTheFirstSecondAfterTheEpoch: at
// 1970-01-01T00:00:00Z every time the IdP issues reads 0, and 0 is no
// time to JWT libraries and to the IdP itself: the ID token of a login
// made there carried no auth_time (zitadel leaves a zero one out), so
// under "serve --clock 1970-01-01T00:00:00Z --clock-frozen" every
// exchange for a server with max_auth_age was refused for a login too old
// (insufficient_user_authentication), for ever. The clock's range starts
// a second later; there a login is a login.
func TestAdminAPI_TheClockStartsAtTheFirstSecondAfterTheEpoch(t *testing.T) {
	base, _ := serveConfig(t, strings.Replace(testConfig, "access: [{groups: [eng], scopes: [files.read]}]",
		"access: [{groups: [eng], scopes: [files.read], max_auth_age: 15m}]", 1), "test.yaml")
	for _, body := range []string{`{"time": "1970-01-01T00:00:00Z", "frozen": true}`, `{"time": "1970-01-01T00:00:00.5Z"}`} {
		if resp, b := call(t, http.MethodPut, base+"/admin/api/clock", "alice", "alice-pw", body); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "1970-01-01T00:00:01Z") {
			t.Errorf("PUT %s: %d %s, want 400 naming the range from 1970-01-01T00:00:01Z", body, resp.StatusCode, b)
		}
	}
	if resp, b := call(t, http.MethodPut, base+"/admin/api/clock", "alice", "alice-pw", `{"time": "1970-01-01T00:00:01Z", "frozen": true}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT the clock at 1970-01-01T00:00:01Z: %d %s", resp.StatusCode, b)
	}
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: base, ClientID: "mcp-client", ClientSecret: "s1", Username: "alice", Password: "alice-pw",
	})
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.IDToken(), ".")[1])
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims["auth_time"] != float64(1) {
		t.Errorf("the ID token of a login at 1970-01-01T00:00:01Z: %s, want auth_time 1", payload)
	}
	if _, err := idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{
		Issuer: base, ClientID: "mcp-client", ClientSecret: "s1", SubjectToken: tok.IDToken(), Audience: "https://as.files.example",
	}); err != nil {
		t.Errorf("the exchange for a server with max_auth_age 15m, just after the login: %v", err)
	}
}
