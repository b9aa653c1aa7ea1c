package idp_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idp"
)

// TestRevoke_UnrecordedLoginRevocationIsServerError: a /revoke of a
// refresh token revokes its login's ID tokens at the exchange too, a
// record of ended-logins.jsonl; when that file cannot take it the answer
// is 500 server_error naming it, as when refresh-tokens.jsonl cannot take
// the token's end: a 200 said the grant was revoked, yet a restart gave
// the login's ID tokens back to the token exchange.
func TestRevoke_UnrecordedLoginRevocationIsServerError(t *testing.T) {
	dir := t.TempDir()
	p := startIdP(t, conformanceConfig(t), func(o *idp.Options) { o.StateDir = dir })
	rt := newBrowser(p).codeTokens(t)["refresh_token"].(string)
	name := filepath.Join(dir, "ended-logins.jsonl")
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(name, 0o700); err != nil {
		t.Fatal(err)
	}
	body := postJSON(t, p.URL+"/revoke", url.Values{"token": {rt}}, basicS1, http.StatusInternalServerError)
	if body["error"] != "server_error" || !strings.Contains(body["error_description"].(string), "ended-logins.jsonl") ||
		strings.Contains(body["error_description"].(string), "refresh-tokens.jsonl") {
		t.Errorf("a revocation whose login's record cannot be written: %v, want server_error naming ended-logins.jsonl alone", body)
	}
}
