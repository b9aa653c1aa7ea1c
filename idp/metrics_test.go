package idp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

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

// parseExposition reads a /metrics page by the Prometheus text format's
// rules, strictly, and fails t on the first line a scraper would reject
// or misread: HELP and TYPE at most once per family and before its
// samples, a family's samples together, valid metric and label names,
// label values quoted with only \\, \" and \n escaped, no series twice,
// counters named _total, histograms with cumulative _bucket series up to
// le="+Inf" equal to _count, and a _sum. It returns each sample by series.
func parseExposition(t testing.TB, page string) map[string]float64 {
	t.Helper()
	type family struct {
		typ           string
		help, sampled bool
	}
	families := map[string]*family{}
	var current string // the family of the last line
	done := map[string]bool{}
	samples := map[string]float64{}
	validName := func(s string, colon bool) bool {
		for i, c := range s {
			ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || colon && c == ':' || i > 0 && c >= '0' && c <= '9'
			if !ok {
				return false
			}
		}
		return s != ""
	}
	familyOf := func(name string) string {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suf); ok {
				if f := families[base]; f != nil && (f.typ == "histogram" || f.typ == "summary") {
					return base
				}
			}
		}
		return name
	}
	enter := func(n int, fam string) *family {
		if fam != current {
			if done[fam] {
				t.Fatalf("line %d: family %s appears again after another family", n, fam)
			}
			if current != "" {
				done[current] = true
			}
			current = fam
		}
		f := families[fam]
		if f == nil {
			f = &family{}
			families[fam] = f
		}
		return f
	}
	type histo struct {
		buckets    []float64 // counts, in order
		les        []float64
		count, sum float64
		hasCount   bool
		hasSum     bool
	}
	histos := map[string]*histo{} // by family and labels without le
	for n, line := range strings.Split(strings.TrimSuffix(page, "\n"), "\n") {
		n++
		if line == "" {
			t.Fatalf("line %d: empty line", n)
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kind, rest, _ := strings.Cut(rest, " ")
			name, text, _ := strings.Cut(rest, " ")
			if kind != "HELP" && kind != "TYPE" {
				continue // a comment
			}
			if !validName(name, true) {
				t.Fatalf("line %d: invalid metric name %q", n, name)
			}
			f := enter(n, name)
			if f.sampled {
				t.Fatalf("line %d: %s of %s after its samples", n, kind, name)
			}
			if kind == "HELP" {
				if f.help {
					t.Fatalf("line %d: second HELP for %s", n, name)
				}
				f.help = true
				continue
			}
			if f.typ != "" {
				t.Fatalf("line %d: second TYPE for %s", n, name)
			}
			switch text {
			case "counter":
				if !strings.HasSuffix(name, "_total") {
					t.Errorf("line %d: counter %s does not end in _total", n, name)
				}
			case "gauge", "histogram", "summary", "untyped":
			default:
				t.Fatalf("line %d: unknown type %q", n, text)
			}
			f.typ = text
			continue
		}
		// name{label="value",...} value
		end := strings.IndexAny(line, "{ ")
		if end < 0 {
			t.Fatalf("line %d: no value: %q", n, line)
		}
		name := line[:end]
		if !validName(name, true) {
			t.Fatalf("line %d: invalid metric name %q", n, name)
		}
		rest := line[end:]
		var labels []string
		le := ""
		if strings.HasPrefix(rest, "{") {
			rest = rest[1:]
			for !strings.HasPrefix(rest, "}") {
				eq := strings.IndexByte(rest, '=')
				if eq < 0 || len(rest) < eq+2 || rest[eq+1] != '"' {
					t.Fatalf("line %d: bad label in %q", n, line)
				}
				lname := rest[:eq]
				if !validName(lname, false) || strings.HasPrefix(lname, "__") {
					t.Fatalf("line %d: invalid label name %q", n, lname)
				}
				var val strings.Builder
				i := eq + 2
				for ; i < len(rest) && rest[i] != '"'; i++ {
					c := rest[i]
					if c == '\n' {
						t.Fatalf("line %d: raw newline in a label value", n)
					}
					if c == '\\' {
						i++
						if i == len(rest) || !strings.ContainsRune(`\"n`, rune(rest[i])) {
							t.Fatalf("line %d: bad escape in label %s", n, lname)
						}
					}
					val.WriteByte(rest[i])
				}
				if i == len(rest) {
					t.Fatalf("line %d: unterminated label value", n)
				}
				if !utf8.ValidString(val.String()) {
					t.Fatalf("line %d: label %s is not UTF-8", n, lname)
				}
				for _, l := range labels {
					if strings.HasPrefix(l, lname+"=") {
						t.Fatalf("line %d: label %s twice", n, lname)
					}
				}
				if lname == "le" {
					le = val.String()
				} else {
					labels = append(labels, rest[:i+1])
				}
				rest = strings.TrimPrefix(rest[i+1:], ",")
			}
			rest = rest[1:]
		}
		fields := strings.Fields(rest)
		if len(fields) < 1 || len(fields) > 2 || !strings.HasPrefix(rest, " ") {
			t.Fatalf("line %d: bad value in %q", n, line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			t.Fatalf("line %d: bad value %q", n, fields[0])
		}
		fam := familyOf(name)
		f := enter(n, fam)
		if f.typ == "" {
			t.Errorf("line %d: %s has no TYPE", n, fam)
		}
		f.sampled = true
		sort.Strings(labels)
		key := name + "{" + strings.Join(labels, ",") + "}"
		if le != "" {
			key = name + "{" + strings.Join(append(slices.Clone(labels), "le="+le), ",") + "}"
		}
		if _, dup := samples[key]; dup {
			t.Fatalf("line %d: series %s twice", n, key)
		}
		samples[key] = v
		if f.typ == "histogram" {
			hk := fam + "{" + strings.Join(labels, ",") + "}"
			h := histos[hk]
			if h == nil {
				h = &histo{}
				histos[hk] = h
			}
			switch name {
			case fam + "_bucket":
				b, err := strconv.ParseFloat(le, 64)
				if le == "" || err != nil {
					t.Fatalf("line %d: bucket without a valid le", n)
				}
				if k := len(h.les); k > 0 && (b <= h.les[k-1] || v < h.buckets[k-1]) {
					t.Fatalf("line %d: buckets of %s not increasing and cumulative", n, hk)
				}
				h.les, h.buckets = append(h.les, b), append(h.buckets, v)
			case fam + "_sum":
				h.sum, h.hasSum = v, true
			case fam + "_count":
				h.count, h.hasCount = v, true
			default:
				t.Fatalf("line %d: %s in histogram %s", n, name, fam)
			}
		}
	}
	for hk, h := range histos {
		k := len(h.les)
		if k == 0 || !math.IsInf(h.les[k-1], 1) {
			t.Errorf("histogram %s has no +Inf bucket", hk)
		} else if !h.hasCount || h.buckets[k-1] != h.count {
			t.Errorf("histogram %s: +Inf bucket %v, _count %v", hk, h.buckets[k-1], h.count)
		}
		if !h.hasSum {
			t.Errorf("histogram %s has no _sum", hk)
		}
	}
	return samples
}

// scrapeRaw is the body of a GET of url.
func scrapeRaw(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %v", url, resp.Status, err)
	}
	return string(b)
}

// metricsTraffic sends one round of what an IdP meets, i standing for
// what an attacker varies: a login and a wrong password, exchanges
// allowed, denied and refused (an unknown client, audience, subject
// token), the other grants refused, an unsupported grant type,
// introspection, revocation and a bearer token refused, an unknown path.
func metricsTraffic(t *testing.T, f *opsFixture, i int) {
	t.Helper()
	alice := f.loginAlice(t)
	_, _ = idpclient.Login(context.Background(), idpclient.LoginOptions{
		Issuer: f.URL, ClientID: "mcp-client", ClientSecret: "s1", Username: "alice", Password: "wrong"})
	f.idJAG(t, alice.IDToken())
	v := strconv.Itoa(i)
	xchg := url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
		"subject_token":        {alice.IDToken()},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
		"audience":             {"https://zzas" + v + ".example"},
		"resource":             {"https://zzrs" + v + ".example/mcp"},
		"client_id":            {"mcp-client"},
		"client_secret":        {"s1"},
	}
	f.postToken(t, xchg, nil)
	xchg.Set("client_id", "zzattacker-"+v)
	f.postToken(t, xchg, nil)
	xchg.Set("client_id", "https://zzcimd"+v+".example/client")
	f.postToken(t, xchg, nil)
	f.postToken(t, url.Values{"grant_type": {"zzgrant-" + v}, "client_id": {"zzc" + v}}, nil)
	f.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"zzr" + v}, "client_id": {"mcp-client"}, "client_secret": {"s1"}}, nil)
	f.postToken(t, url.Values{"grant_type": {"authorization_code"}, "code": {"zzc" + v}, "client_id": {"mcp-client"}, "client_secret": {"s1"}}, nil)
	f.postEndpoint(t, "/oauth/introspect", url.Values{"token": {"zzt" + v}}, "zzintro-"+v, "x")
	f.postEndpoint(t, "/oauth/revoke", url.Values{"token": {"zzt" + v}}, "zzrev-"+v, "x")
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer zzbearer-"+v)
	req.Header.Set("User-Agent", "zzagent-"+v)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	if resp, err := http.Get(f.URL + "/zzpath-" + v); err == nil {
		resp.Body.Close()
	}
}

// TestMetrics_StrictExpositionBoundedLabels: after traffic of every kind
// /metrics parses by the text format's strict rules; a second round
// with other client_ids, audiences, grant types, tokens, paths and user
// agents adds no series; no label value holds a secret, token or
// username; and grant_type is never empty (the introspection, revocation
// and bearer refusals are no token grants: until 2026-12-06 they were
// counted as grant_type="").
func TestMetrics_StrictExpositionBoundedLabels(t *testing.T) {
	f := startOpsFixture(t, idp.NewClock(nil))
	for i := range 3 {
		metricsTraffic(t, f, i)
	}
	before := parseExposition(t, scrapeRaw(t, f.URL+"/metrics"))
	for i := 3; i < 40; i++ {
		metricsTraffic(t, f, i)
	}
	after := parseExposition(t, scrapeRaw(t, f.URL+"/metrics"))
	for series := range after {
		if _, ok := before[series]; !ok {
			t.Errorf("new series after other client input: %s", series)
		}
		for _, secret := range []string{"alice", "s1\"", "wrong", "zz"} {
			if strings.Contains(series, secret) {
				t.Errorf("series %s holds %q", series, secret)
			}
		}
		if strings.Contains(series, `grant_type=""`) {
			t.Errorf("series %s: a token grant without grant_type", series)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d series, then %d", len(before), len(after))
	}
}

// TestMetrics_AuditAppendErrors: an exchange whose audit event cannot be
// written (the log is closed) moves xaa_idp_audit_append_errors_total by
// exactly one, and counts no exchange. A closed log is a stopping IdP:
// 503 temporarily_unavailable (500 until 2026-12-06).
func TestMetrics_AuditAppendErrors(t *testing.T) {
	log, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := startOpsFixture(t, idp.NewClock(nil), func(o *idp.Options) { o.Audit = log })
	alice := f.loginAlice(t)
	before := scrape(t, f.URL)
	log.Close()
	if resp, body := f.exchangeIDToken(t, alice.IDToken()); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("exchange with the audit log closed: HTTP %d %v, want 503", resp.StatusCode, body)
	}
	after := scrape(t, f.URL)
	if n := after[`xaa_idp_audit_append_errors_total`] - before[`xaa_idp_audit_append_errors_total`]; n != 1 {
		t.Errorf("xaa_idp_audit_append_errors_total moved by %v, want 1", n)
	}
	exchanges := `xaa_idp_token_grants_total{grant_type="urn:ietf:params:oauth:grant-type:token-exchange",outcome="allowed"}`
	if after[exchanges] != before[exchanges] {
		t.Errorf("an exchange not audited was counted: %v then %v", before[exchanges], after[exchanges])
	}
}

// rejectTB is a testing.TB whose first Errorf or Fatalf ends the parse.
type rejectTB struct{ testing.TB }

type rejected string

func (rejectTB) Helper()                        {}
func (rejectTB) Errorf(format string, a ...any) { panic(rejected(fmt.Sprintf(format, a...))) }
func (rejectTB) Fatalf(format string, a ...any) { panic(rejected(fmt.Sprintf(format, a...))) }

// TestParseExposition_Rejects: the strict parser the metrics tests use
// refuses each page a scraper would reject or misread.
func TestParseExposition_Rejects(t *testing.T) {
	ok := "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 1\n"
	for name, page := range map[string]string{
		"second HELP":        "# HELP a_total A.\n# HELP a_total A.\n# TYPE a_total counter\na_total 1\n",
		"TYPE after samples": "# HELP a_total A.\na_total 1\n# TYPE a_total counter\n",
		"family split":       ok + "# HELP b B.\n# TYPE b gauge\nb 1\na_total{x=\"2\"} 1\n",
		"series twice":       ok + "a_total{x=\"1\"} 2\n",
		"bad name":           "# TYPE a-b gauge\na-b 1\n",
		"bad escape":         "# TYPE g gauge\ng{x=\"\\q\"} 1\n",
		"counter name":       "# TYPE a counter\na 1\n",
		"no +Inf":            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
		"not cumulative":     "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"count off":          "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
		"no TYPE":            "x 1\n",
		"bad value":          "# TYPE g gauge\ng one\n",
	} {
		func() {
			defer func() {
				if _, ok := recover().(rejected); !ok {
					t.Errorf("%s: accepted:\n%s", name, page)
				}
			}()
			parseExposition(rejectTB{t}, page)
		}()
	}
	if got := parseExposition(t, ok); got[`a_total{x="1"}`] != 1 {
		t.Errorf("a good page: %v", got)
	}
}
