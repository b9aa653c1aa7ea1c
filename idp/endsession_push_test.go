package idp_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestEndSession_AHintWhoseBrowserSessionIsGoneStillTellsTheServers: bob
// logs in, the IdP restarts on its state directory (browser sessions live
// in memory), and his client ends his login with its id_token_hint. The
// login ends (its ID tokens are refused from then on), and so must what the
// servers hold of it: the revocation push is told of bob's sub, as when
// the browser session was still there, and the logout names bob.
func TestEndSession_AHintWhoseBrowserSessionIsGoneStillTellsTheServers(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	before := startIdP(t, cfg, func(o *idp.Options) { o.StateDir = dir })
	idToken := before.login(t, "mcp-client", "s1", "bob", "bob-pw").IDToken()
	before.Close()

	after := startIdP(t, cfg, func(o *idp.Options) { o.StateDir, o.Issuer = dir, before.URL })
	var mu sync.Mutex
	var ended []string
	after.OnSessionEnd(func(sub string) {
		mu.Lock()
		defer mu.Unlock()
		ended = append(ended, sub)
	})
	for range 2 { // the second ends nothing more
		resp, err := noRedirects.Get(after.URL + "/end_session?id_token_hint=" + url.QueryEscape(idToken))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("end_session: %s", resp.Status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ended) != 1 || ended[0] != "u-bob" {
		t.Errorf("session ends told to the push: %q, want [u-bob] once", ended)
	}
	logouts := after.Audit.Query(audit.Filter{Type: audit.TypeLogout})
	if len(logouts) != 1 || logouts[0].User != "bob" {
		t.Errorf("logout events %+v, want one naming bob", logouts)
	}
}
