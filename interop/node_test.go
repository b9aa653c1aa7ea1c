package interop_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestTypeScriptClient runs the official MCP TypeScript client
// (@modelcontextprotocol/client, interop/node) through run-node.sh, which
// starts `xaa-idp demo` (the binary built for this package) and runs the
// Node tests against it: ID-JAG requests at the IdP, and
// CrossAppAccessProvider connecting to the demo's MCP servers, also as a
// metadata document client (cimd.test.mjs serves its document on port
// 8390, the URL fixtures/demo.yaml names) and with DPoP (dpop.test.mjs).
// Without Node it is skipped locally and fails in CI, where .ci/run
// installs what it needs. Like TestDemo it uses the demo's fixed ports:
// not parallel.
func TestTypeScriptClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Node: skipped with -short")
	}
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed, but CI must run the TypeScript interop test")
		}
		t.Skip("node is not installed: the TypeScript interop test needs Node >= 20 and npm")
	}
	bin := xaaIDPBinary(t)
	lockDemoPorts(t)
	requireDemoPortsFree(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "run-node.sh")
	// XAA_IDP_ISSUER would make the script use a running demo: this test
	// wants the script to start its own.
	cmd.Env = append(withoutEnv(os.Environ(), "XAA_IDP_ISSUER"), "XAA_IDP_BIN="+bin)
	// On timeout, SIGTERM the whole group (bash, node, the demo): the
	// script's trap then stops the demo, freeing the fixed ports.
	cmd.SysProcAttr = childProcAttr()
	cmd.Cancel = func() error { return signalGroup(cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("run-node.sh output:\n%s", out.Bytes())
	if ctx.Err() != nil {
		t.Fatalf("run-node.sh did not finish within 5 minutes: %v", err)
	}
	if err != nil {
		t.Fatalf("the TypeScript client failed against xaa-idp demo: %v", err)
	}
	if busy := busyDemoPorts(demoPorts(t)); len(busy) > 0 {
		t.Errorf("run-node.sh left the demo's ports taken: %v", busy)
	}
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if len(kv) > len(name) && kv[:len(name)+1] == name+"=" {
			continue
		}
		out = append(out, kv)
	}
	return out
}
