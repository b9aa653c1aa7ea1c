package interop_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestTypeScriptClient runs the official MCP TypeScript client
// (@modelcontextprotocol/client, interop/node) against a started
// `xaa-idp serve`, through run-node.sh. Without Node it is skipped locally
// and fails in CI, where .ci/run installs what it needs.
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
	cmd := exec.Command("bash", "run-node.sh")
	out, err := cmd.CombinedOutput()
	t.Logf("run-node.sh output:\n%s", out)
	if err != nil {
		t.Fatalf("the TypeScript client failed against xaa-idp: %v", err)
	}
}
