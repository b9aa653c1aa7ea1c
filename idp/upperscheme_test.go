package idp_test

import (
	"net/http"
	"testing"
)

// TestAuthorize_RegisteredUpperCaseLoopbackSchemeTakesAnyPort: a loopback
// redirect URI registered with its scheme in capitals (HTTP://127.0.0.1)
// matches on any port, as the refusal and docs/configuration.md say, when
// the request writes the scheme as registered; the scheme is compared as
// written, so a request that writes it otherwise is still refused.
func TestAuthorize_RegisteredUpperCaseLoopbackSchemeTakesAnyPort(t *testing.T) {
	cfg := conformanceConfigWith(t, "  - client_id: pub-client\n    redirect_uris: [http://127.0.0.1/callback]\n", "  - client_id: pub-client\n    redirect_uris: [HTTP://127.0.0.1/callback]\n")
	p := startIdP(t, cfg)
	_, challenge := pkce()
	for _, c := range []struct {
		uri string
		ok  bool
	}{
		{"HTTP://127.0.0.1/callback", true},
		{"HTTP://127.0.0.1:53123/callback", true},
		{"http://127.0.0.1:53123/callback", false},
		{"Http://127.0.0.1:53123/callback", false},
	} {
		params := authParams(c.uri, challenge)
		params.Set("client_id", "pub-client")
		res := newBrowser(p).authorize(t, params, "", "")
		if res.loginShown != c.ok || !c.ok && res.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, login shown %v; want login shown %v", c.uri, res.status, res.loginShown, c.ok)
		}
	}
}
