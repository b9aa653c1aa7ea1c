package idp_test

import (
	"bufio"
	"context"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

// scrape reads /metrics as a Prometheus scraper would and returns each
// sample by its series, e.g. `xaa_idp_logins_total{outcome="allowed"}`.
func scrape(t *testing.T, issuer string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(issuer + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		samples[line[:i]] = v
	}
	return samples
}

func TestMetrics_CountLoginsGrantsAndExchanges(t *testing.T) {
	f := startOpsFixture(t, idp.NewClock(nil))
	alice := f.loginAlice(t)
	f.loginAlice(t)
	if _, err := idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: f.URL, ClientID: "mcp-client", ClientSecret: "s1", Username: "alice", Password: "wrong",
	}); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	bob := f.login(t, "mcp-client", "s1", "bob", "bob-pw")

	f.idJAG(t, alice.IDToken())
	f.idJAG(t, alice.IDToken())
	f.idJAG(t, alice.IDToken())
	if resp, body := f.exchangeIDToken(t, bob.IDToken()); resp.StatusCode != http.StatusBadRequest || body["error"] != "access_denied" {
		t.Fatalf("bob's exchange: HTTP %d %v, want access_denied", resp.StatusCode, body)
	}
	if resp, _ := f.exchangeIDToken(t, "not-a-token"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("garbage subject token: HTTP %d, want 400", resp.StatusCode)
	}
	if _, err := f.RotateKeys("alice"); err != nil {
		t.Fatal(err)
	}

	got := scrape(t, f.URL)
	want := map[string]float64{
		`xaa_idp_logins_total{outcome="allowed"}`:                                                                    3,
		`xaa_idp_logins_total{outcome="denied"}`:                                                                     1,
		`xaa_idp_token_grants_total{grant_type="authorization_code",outcome="allowed"}`:                              3,
		`xaa_idp_token_grants_total{grant_type="urn:ietf:params:oauth:grant-type:token-exchange",outcome="allowed"}`: 3,
		`xaa_idp_token_grants_total{grant_type="urn:ietf:params:oauth:grant-type:token-exchange",outcome="denied"}`:  1,
		`xaa_idp_token_grants_total{grant_type="urn:ietf:params:oauth:grant-type:token-exchange",outcome="error"}`:   1,
		`xaa_idp_token_exchanges_total{error="",outcome="allowed",server="tracker"}`:                                 3,
		`xaa_idp_token_exchanges_total{error="access_denied",outcome="denied",server="tracker"}`:                     1,
		`xaa_idp_token_exchanges_total{error="invalid_request",outcome="error",server=""}`:                           1,
		`xaa_idp_token_request_duration_seconds_count{grant_type="authorization_code"}`:                              3,
		`xaa_idp_token_request_duration_seconds_count{grant_type="urn:ietf:params:oauth:grant-type:token-exchange"}`: 5,
		`xaa_idp_key_rotations_total`: 2,
		// 4 logins, 3 code grants, 5 exchanges, 2 key rotations.
		`xaa_idp_audit_append_duration_seconds_count`: 14,
		`xaa_idp_audit_append_errors_total`:           0,
		`xaa_idp_audit_syncs_total`:                   0, // no file
	}
	for series, n := range want {
		if got[series] != n {
			t.Errorf("%s = %v, want %v", series, got[series], n)
		}
	}
	if got["go_goroutines"] == 0 {
		t.Error("the Go runtime collector is missing")
	}
}

// TestMetrics_AuditSyncs: with an audit file, each fsync is counted; one
// request at a time, each event has its own, the token endpoint's
// announced ones included (no commit waits for an event already appended).
func TestMetrics_AuditSyncs(t *testing.T) {
	log, err := audit.Open(audit.Options{Path: filepath.Join(t.TempDir(), "audit.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	f := startOpsFixture(t, idp.NewClock(nil), func(o *idp.Options) { o.Audit = log })
	alice := f.loginAlice(t)
	f.idJAG(t, alice.IDToken())
	f.idJAG(t, alice.IDToken())

	got := scrape(t, f.URL)
	// A login and its code grant, two exchanges.
	const events = 4
	if n := got[`xaa_idp_audit_append_duration_seconds_count`]; n != events {
		t.Fatalf("%v events appended, want %d", n, events)
	}
	if n := got[`xaa_idp_audit_syncs_total`]; n != events {
		t.Errorf("xaa_idp_audit_syncs_total = %v, want %d", n, events)
	}
}

func TestMetrics_EachServerCountsApart(t *testing.T) {
	a := startOpsFixture(t, idp.NewClock(nil))
	b := startOpsFixture(t, idp.NewClock(nil))
	a.loginAlice(t)
	if n := scrape(t, b.URL)[`xaa_idp_logins_total{outcome="allowed"}`]; n != 0 {
		t.Errorf("a login at one IdP shows %v logins at another", n)
	}
}

// TestMetrics_ScrapeAllocatesLittle: a scrape of /metrics by a scraper
// that accepts gzip, as Prometheus does, gets the page uncompressed and
// costs the IdP the gathering of its series (under 300 KB of heap), not
// 900 KB more for a gzip compressor. Each scrape follows a garbage
// collection, as a scrape every 15 seconds of a busy IdP does: no
// compressor is left over from the last.
func TestMetrics_ScrapeAllocatesLittle(t *testing.T) {
	p := startConformanceIdP(t)
	scrapeGzip := func() (encoding string, n int) {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client then leaves the body as sent
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/metrics: %s", resp.Status)
		}
		return resp.Header.Get("Content-Encoding"), len(b)
	}
	scrapeGzip() // the connection, and the registry's first gathering
	var least uint64 = math.MaxUint64
	var enc string
	for range 5 {
		runtime.GC()
		runtime.GC() // a pooled encoder survives one collection
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e, n := scrapeGzip()
		runtime.ReadMemStats(&after)
		enc = e
		if n < 1000 {
			t.Fatalf("/metrics: %d bytes", n)
		}
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	t.Logf("a scrape allocates %d bytes (least of 5)", least)
	if least > 512<<10 {
		t.Errorf("a scrape allocates %d bytes, want at most 512 KiB", least)
	}
	if enc != "" {
		t.Errorf("/metrics: Content-Encoding %q, want none", enc)
	}
}

// TestMetrics_AuditSubscriberMisses: the events serve's log of the audit
// left out because it fell behind (on a stalled stderr) are counted, so
// that an operator sees that the log is missing some; a console's tail
// that fell behind is not (it counted too).
func TestMetrics_AuditSubscriberMisses(t *testing.T) {
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	_, _, cancel := log.SubscribeCounting(0) // serve's log, never read
	defer cancel()
	_, cancelTail := log.Subscribe(0) // a console's tail, never read: not counted
	defer cancelTail()
	f := startOpsFixture(t, idp.NewClock(nil), func(o *idp.Options) { o.Audit = log })
	alice := f.loginAlice(t)
	f.idJAG(t, alice.IDToken())
	// A login and its code grant, one exchange: all left out.
	if n := scrape(t, f.URL)[`xaa_idp_audit_subscriber_missed_total`]; n != 3 {
		t.Errorf("xaa_idp_audit_subscriber_missed_total = %v, want 3", n)
	}
}
