package idp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestMetrics_FaultCodesShareOneSeries: an error fault may answer any
// code an admin typed, and each became a value of the exchanges' error
// label, a series kept for the life of the process: 50 codes, 50 series.
// Codes the IdP cannot answer itself are counted as "other"; the answer
// keeps the fault's code, and a fault of a code the IdP answers keeps its
// own series.
func TestMetrics_FaultCodesShareOneSeries(t *testing.T) {
	f := startOpsFixture(t, idp.NewClock(nil))
	alice := f.loginAlice(t)
	codes := []string{"temporarily_unavailable"}
	for i := range 50 {
		codes = append(codes, fmt.Sprintf("made_up_%d", i))
	}
	for _, code := range codes {
		if _, err := f.AddFaults(policy.Fault{Match: policy.FaultMatch{GrantType: policy.FaultGrantTokenExchange}, Error: policy.FaultError{Code: code}, Times: 1}); err != nil {
			t.Fatal(err)
		}
		if resp, body := f.exchangeIDToken(t, alice.IDToken()); resp.StatusCode < 400 || body["error"] != code {
			t.Fatalf("HTTP %d %v, want the fault's %s", resp.StatusCode, body, code)
		}
	}
	series := map[string]float64{}
	for s, n := range scrape(t, f.URL) {
		if strings.HasPrefix(s, "xaa_idp_token_exchanges_total{") {
			series[s] = n
		}
	}
	want := map[string]float64{
		`xaa_idp_token_exchanges_total{error="temporarily_unavailable",outcome="error",server="tracker"}`: 1,
		`xaa_idp_token_exchanges_total{error="other",outcome="error",server="tracker"}`:                   50,
	}
	if len(series) != len(want) {
		t.Errorf("%d series of xaa_idp_token_exchanges_total, want %d: %v", len(series), len(want), series)
	}
	for s, n := range want {
		if series[s] != n {
			t.Errorf("%s = %v, want %v", s, series[s], n)
		}
	}
}
