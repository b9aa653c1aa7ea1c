package idptest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// TestExplain_MalformedScopeAsTheExchange (found by
// TestPolicyOracle_Sequences): GET /admin/api/explain answers "the decision
// a token exchange would get now" (README "Endpoints"), so a scope the
// token endpoint refuses as malformed (docs/http.md, "Token exchange": a
// quoted scope, a no-break space between two) is invalid_scope there too,
// naming it. Explain granted such a request, or refused it for another
// reason, and an admin reproducing a client's invalid_scope read
// "allowed".
func TestExplain_MalformedScopeAsTheExchange(t *testing.T) {
	srv := idptest.New(t)
	tok := srv.Login("alice")
	for _, scope := range []string{`"issues.read"`, "issues.read\u00a0issues.write", `issues.read a\b`} {
		_, err := srv.Exchange(tok, "tracker", scope)
		var oe *idpclient.Error
		if !errors.As(err, &oe) || oe.Code != "invalid_scope" {
			t.Fatalf("exchange with scope %q: %v, want invalid_scope", scope, err)
		}
		v := url.Values{"user": {"alice"}, "client": {"mcp-client"}, "audience": {"tracker"}, "scope": {scope}}
		req, err := http.NewRequest(http.MethodGet, srv.Issuer()+"/admin/api/explain?"+v.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("alice", "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Allowed     bool   `json:"allowed"`
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("explain with scope %q: %s %v", scope, resp.Status, err)
		}
		if got.Allowed || got.Error != "invalid_scope" || !strings.Contains(got.Description, "malformed") {
			t.Errorf("explain with scope %q: allowed %t, error %q (%s); the exchange answers invalid_scope (%s)", scope, got.Allowed, got.Error, got.Description, oe.Description)
		}
	}
}
