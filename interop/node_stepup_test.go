package interop_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
)

// TestTypeScriptClient_StepUp runs interop/node/stepup.mjs: the
// TypeScript client's CrossAppAccessProvider against `xaa-idp demo` with
// the demo configuration, its ports moved to free ones and the CRM's
// step-up rule for alice (max_auth_age) cut to 2 s, so that a login can
// grow too old within the test. The step-up refusal and a denial must
// reach the application with the IdP's error code and description.
func TestTypeScriptClient_StepUp(t *testing.T) {
	requireTypeScriptClient(t)
	bin := xaaIDPBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var pairs []string
	for _, port := range []string{"8101", "8102", "8103", "8104", "8201", "8202", "8203", "8204", "8390"} {
		pairs = append(pairs, "http://127.0.0.1:"+port, fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))
	}
	moved := strings.NewReplacer(pairs...)
	text := moved.Replace(string(fixtures.Demo))
	const rule = "max_auth_age: 15m"
	if strings.Count(text, rule) != 1 {
		t.Fatalf("the demo configuration has %d %q rules, want the CRM's one", strings.Count(text, rule), rule)
	}
	text = strings.Replace(text, rule, "max_auth_age: 2s", 1)
	crmAS, crmMCP := moved.Replace("http://127.0.0.1:8104"), moved.Replace("http://127.0.0.1:8204")+"/mcp"
	issuer := startDemoConfig(t, ctx, bin, text, strings.TrimSuffix(crmMCP, "/mcp")+"/.well-known/oauth-protected-resource/mcp")

	if err := runNodeTest(t, ctx, "stepup.mjs", "XAA_IDP_ISSUER="+issuer,
		"XAA_IDP_CRM_AS="+crmAS, "XAA_IDP_CRM_RESOURCE="+crmMCP, "XAA_IDP_MAX_AUTH_AGE_MS=2000"); err != nil {
		t.Fatalf("the TypeScript client against the step-up rule: %v", err)
	}
}
