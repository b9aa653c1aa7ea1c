package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestServe_RotatedOutKeyLostFromTheStateDirectoryIsLogged: a copy of the
// state directory made while the IdP ran can hold keys/previous.json from
// before a key rotation and the new current keys from after it, so the key
// the rotation replaced is in neither; the ID tokens it signed, still
// alive, are then refused as signed by an unknown key. The start says
// which key is missing and why, rather than leave the operator to find out
// from the refusals (README, "Backup and restore"); a plain restart after
// a rotation says nothing of the kind.
func TestServe_RotatedOutKeyLostFromTheStateDirectoryIsLogged(t *testing.T) {
	const says = "a signing key that a rotation replaced is missing from the state directory"
	state := t.TempDir()
	start := func(addr string) (string, *exec.Cmd, *syncBuffer) {
		t.Helper()
		cmd, out, stderr := startKilledAtEnd(t, "serve", "--addr", addr, "--state-dir", state, "--log-format", "text")
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("serve printed no issuer: %v\n%s", err, stderr)
		}
		// Everything the start logged comes before this record.
		waitFor(t, stderr, "msg=serving issuer=")
		return strings.TrimSpace(line), cmd, stderr
	}
	stop := func(cmd *exec.Cmd) {
		t.Helper()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
	}

	issuer, cmd, _ := start("127.0.0.1:0")
	idToken, _ := loginAlice(t, issuer)["id_token"].(string)
	jws, err := jose.ParseSignedCompact(idToken, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	oldKID := jws.Signatures[0].Header.KeyID
	if _, err := os.Stat(filepath.Join(state, "keys", "previous.json")); !os.IsNotExist(err) {
		t.Fatalf("keys/previous.json before any rotation: %v, want none", err)
	}
	if code, out, stderr := runBinary(t, "keys", "rotate", "--issuer", issuer, "--admin-user", "alice", "--admin-password", "alice"); code != 0 {
		t.Fatalf("keys rotate: exit %d\n%s%s", code, out, stderr)
	}
	stop(cmd)
	addr := strings.TrimPrefix(issuer, "http://")

	issuer, cmd, stderr := start(addr)
	if !verifiesAtJWKS(t, issuer, idToken) {
		t.Errorf("a restart after the rotation: /keys does not verify the ID token signed before it\n%s", stderr)
	}
	stop(cmd)
	if strings.Contains(stderr.String(), says) {
		t.Errorf("a restart of the state directory as the IdP left it warns of a missing key:\n%s", stderr)
	}

	// The copy: previous.json as it was before the rotation (none), the
	// current keys as after it.
	if err := os.Remove(filepath.Join(state, "keys", "previous.json")); err != nil {
		t.Fatal(err)
	}
	issuer, cmd, stderr = start(addr)
	if verifiesAtJWKS(t, issuer, idToken) {
		t.Fatalf("/keys still verifies the ID token whose key was removed: the test does not lose the key")
	}
	stop(cmd)
	logs := stderr.String()
	var line string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, says) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("the start on a state directory that lost key %s, which signed a live ID token, does not say so:\n%s", oldKID, logs)
	}
	for _, want := range []string{"level=WARN", "kid=" + oldKID, "previous.json", "copied while the IdP ran"} {
		if !strings.Contains(line, want) {
			t.Errorf("the warning lacks %q: %s", want, line)
		}
	}
}
