package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogin_UnregisteredRedirectNamesTheFlag: login and connect log in
// with --redirect-uri, http://127.0.0.1/callback unless given, which a
// client configured with other redirect_uris does not have. The IdP's
// refusal named that URI alone, and a newcomer who never typed it did not
// learn where it came from; the commands now say to pass --redirect-uri.
func TestLogin_UnregisteredRedirectNamesTheFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	config := `users:
  - {username: zoe, password: zoe-pw}
clients:
  - {client_id: app, client_secret: app-s, redirect_uris: ["http://127.0.0.1/cb"], token_exchange: true}
`
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer := startServe(t, "--config", file)
	const hint = "--redirect-uri with one of the client's redirect_uris"
	auth := []string{"--issuer", issuer, "--client-id", "app", "--client-secret", "app-s", "--username", "zoe", "--password", "zoe-pw"}
	for _, cmd := range []string{"login", "connect"} {
		code, _, stderr := runCLI(t, append([]string{cmd}, auth...)...)
		if code != exitFailure || !strings.Contains(stderr, "http://127.0.0.1/callback") || !strings.Contains(stderr, hint) {
			t.Errorf("%s without --redirect-uri: exit %d, stderr %q; want exit %d and %q", cmd, code, stderr, exitFailure, hint)
		}
	}
	if code, _, stderr := runCLI(t, append([]string{"login", "--redirect-uri", "http://127.0.0.1/cb", "--print", "id_token"}, auth...)...); code != exitOK || strings.Contains(stderr, hint) {
		t.Errorf("login --redirect-uri http://127.0.0.1/cb: exit %d, stderr %q", code, stderr)
	}
}
