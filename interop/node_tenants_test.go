package interop_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestTypeScriptClient_Tenants runs the TypeScript client
// (interop/node/tenants.mjs) against two tenants of one `xaa-idp serve
// --config fixtures/samples/tenants.yaml`: each tenant's issuer has a
// path, its own keys and its own claim shape (generic: tenant and
// resource; okta: email, no resource), and the client's discovery must
// find each one.
func TestTypeScriptClient_Tenants(t *testing.T) {
	requireTypeScriptClient(t)
	bin := xaaIDPBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// serve prints the first tenant's issuer: the base URL is what precedes
	// its path.
	first := startServe(t, ctx, bin, "serve", "--config", "../fixtures/samples/tenants.yaml", "--addr", "127.0.0.1:0")
	if !strings.HasSuffix(first, "/t/acme") {
		t.Fatalf("serve printed %q, want acme's issuer", first)
	}
	base := strings.TrimSuffix(first, "/t/acme")

	for _, tc := range []struct {
		tenant string
		env    []string
	}{
		{"acme", []string{"XAA_IDP_ISSUER=" + base + "/t/acme", "XAA_IDP_CLIENT_ID=desktop", "XAA_IDP_CLIENT_SECRET=acme-desktop-secret",
			"XAA_IDP_USER=alice", "XAA_IDP_TENANT=acme", "XAA_IDP_EMAIL=", "XAA_IDP_RESOURCE=1"}},
		{"okta", []string{"XAA_IDP_ISSUER=" + base + "/t/okta", "XAA_IDP_CLIENT_ID=0oa-desktop", "XAA_IDP_CLIENT_SECRET=okta-desktop-secret",
			"XAA_IDP_USER=alice", "XAA_IDP_TENANT=", "XAA_IDP_EMAIL=" + oktaAliceEmail(t), "XAA_IDP_RESOURCE=0"}},
	} {
		t.Run(tc.tenant, func(t *testing.T) {
			node := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "tenants.mjs")
			node.Dir = "node"
			node.Env = append(withoutEnv(os.Environ(), "XAA_IDP_ISSUER"), tc.env...)
			out, err := node.CombinedOutput()
			t.Logf("node --test tenants.mjs for %s:\n%s", tc.tenant, out)
			if err != nil {
				t.Fatalf("the TypeScript client failed against tenant %s: %v", tc.tenant, err)
			}
		})
	}
}

// oktaAliceEmail reads the okta tenant's alice's email from the sample,
// so that the test follows the file.
func oktaAliceEmail(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../fixtures/samples/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "id: okta")
	if i < 0 {
		t.Fatal("the sample has no okta tenant")
	}
	s = s[i:]
	j := strings.Index(s, "email:")
	if j < 0 {
		t.Fatal("okta's users have no email in the sample")
	}
	return strings.Fields(s[j+len("email:"):])[0]
}
