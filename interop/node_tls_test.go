package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTypeScriptClient_TLS runs the TypeScript client's ID-JAG tests
// (interop/node/idjag.test.mjs) against `xaa-idp serve --tls`, trusting
// only the CA that `xaa-idp ca` prints, through NODE_EXTRA_CA_CERTS: what
// the README tells a Node client to do. The TypeScript client refuses plain
// http off loopback, so https is how a compose demo reaches it.
func TestTypeScriptClient_TLS(t *testing.T) {
	requireTypeScriptClient(t)
	bin := xaaIDPBinary(t)
	state := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	issuer := startServe(t, ctx, bin, "serve", "--tls", "--state-dir", state, "--addr", "127.0.0.1:0")
	if !strings.HasPrefix(issuer, "https://127.0.0.1:") {
		t.Fatalf("serve --tls printed %q, want its https issuer", issuer)
	}

	// The CA's path, as a user learns it.
	ca := exec.CommandContext(ctx, bin, "ca", "--state-dir", state)
	var caOut, caErr bytes.Buffer
	ca.Stdout, ca.Stderr = &caOut, &caErr
	if err := ca.Run(); err != nil || !strings.Contains(caOut.String(), "BEGIN CERTIFICATE") {
		t.Fatalf("xaa-idp ca: %v\n%s%s", err, caOut.String(), caErr.String())
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caOut.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := runNodeTest(t, ctx, "idjag.test.mjs", "XAA_IDP_ISSUER="+issuer, "NODE_EXTRA_CA_CERTS="+caFile); err != nil {
		t.Fatalf("the TypeScript client failed against xaa-idp serve --tls: %v", err)
	}

	// Without the CA the same client is refused by TLS: the trust came
	// from the CA, not from a lax client.
	node := exec.CommandContext(ctx, "node", "--test", "--test-name-pattern=confidential client", "idjag.test.mjs")
	node.Dir = "node"
	node.Env = append(withoutEnv(withoutEnv(os.Environ(), "XAA_IDP_ISSUER"), "NODE_EXTRA_CA_CERTS"), "XAA_IDP_ISSUER="+issuer)
	if out, err := node.CombinedOutput(); err == nil {
		t.Fatalf("the client trusted the IdP without the CA:\n%s", out)
	}
}

// requireTypeScriptClient skips the test without Node or the TypeScript
// client's packages, except in CI, where .ci/run installs both and the
// test must run.
func requireTypeScriptClient(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and runs Node: skipped with -short")
	}
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed, but CI must run the TypeScript interop test")
		}
		t.Skip("node is not installed: the TypeScript interop test needs Node >= 20 and npm")
	}
	if _, err := os.Stat("node/node_modules/@modelcontextprotocol/client"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("interop/node has no node_modules: .ci/run runs npm ci there")
		}
		t.Skip("interop/node has no node_modules: run npm ci in interop/node")
	}
}

// runNodeTest runs `node --test script` in interop/node, the
// environment's XAA_IDP_ISSUER replaced by env (which names the IdP to
// test), logs its report and returns its error.
func runNodeTest(t *testing.T, ctx context.Context, script string, env ...string) error {
	t.Helper()
	node := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", script)
	node.Dir = "node"
	node.Env = append(withoutEnv(os.Environ(), "XAA_IDP_ISSUER"), env...)
	out, err := node.CombinedOutput()
	t.Logf("node --test %s:\n%s", script, out)
	return err
}

// startServe runs the binary with args until the test ends and returns
// the issuer it prints on stdout once it listens.
func startServe(t *testing.T, ctx context.Context, bin string, args ...string) string {
	t.Helper()
	serve := exec.CommandContext(ctx, bin, args...)
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	serve.Stderr = &stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("%s printed %q (%v); stderr:\n%s", strings.Join(args, " "), line, err, stderr.String())
	}
	return strings.TrimSpace(line)
}
