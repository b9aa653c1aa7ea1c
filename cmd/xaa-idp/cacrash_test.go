package main

import (
	"crypto/tls"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCA_KilledWhileCreatingTheCAStartsAgain kills `xaa-idp ca`, which
// creates the local CA of --tls on first use, at random moments, and runs
// it again on the same state directory each time: it must succeed with a
// CA whose certificate and key pair, and leave no temporary file. Then it
// leaves what a kill between the two files leaves, the key alone, and
// starts serve --tls on it: it must serve, not refuse until someone
// removes the directory.
func TestCA_KilledWhileCreatingTheCAStartsAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the binary")
	}
	bin := xaaIDPBinary(t)
	for round := range 15 {
		state := t.TempDir()
		cmd := exec.Command(bin, "ca", "--state-dir", state)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(15000)) * time.Microsecond)
		cmd.Process.Kill()
		cmd.Wait()
		_, keyErr := os.Stat(filepath.Join(state, "tls", "ca-key.pem"))
		_, certErr := os.Stat(filepath.Join(state, "tls", "ca.pem"))
		code, stdout, stderr := runBinary(t, "ca", "--state-dir", state)
		if code != exitOK {
			t.Fatalf("round %d (key on disk: %v, certificate: %v): ca after the kill: exit %d\n%s", round, keyErr == nil, certErr == nil, code, stderr)
		}
		certPEM, _ := os.ReadFile(filepath.Join(state, "tls", "ca.pem"))
		keyPEM, _ := os.ReadFile(filepath.Join(state, "tls", "ca-key.pem"))
		if stdout != string(certPEM) {
			t.Errorf("round %d: ca printed a certificate other than the one on disk", round)
		}
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			t.Errorf("round %d: the CA's certificate and key: %v", round, err)
		}
		if left := temporaries(t, state); len(left) > 0 {
			t.Errorf("round %d: temporary files left: %v", round, left)
		}
	}

	state := t.TempDir()
	if code, _, stderr := runBinary(t, "ca", "--state-dir", state); code != exitOK {
		t.Fatalf("ca: exit %d\n%s", code, stderr)
	}
	os.Remove(filepath.Join(state, "tls", "ca.pem")) // the key is written first
	issuer, _ := startBinary(t, &syncBuffer{}, "serve", "--addr", "127.0.0.1:0", "--tls", "--state-dir", state)
	if !strings.HasPrefix(issuer, "https://") {
		t.Fatalf("serve --tls printed %q", issuer)
	}
	if _, err := trustOnly(t, state).Get(issuer + "/.well-known/openid-configuration"); err != nil {
		t.Errorf("a client trusting the new CA: %v", err)
	}
}
