package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoad_CPURatioIsTheMedianOfTheRounds(t *testing.T) {
	us := time.Microsecond
	rounds := []roundCPU{
		{floor: 20 * us, exchange: 90 * us, sign: 40 * us},  // 1.50x
		{floor: 25 * us, exchange: 130 * us, sign: 40 * us}, // 2.00x
		{floor: 20 * us, exchange: 72 * us, sign: 40 * us},  // 1.20x
	}
	var out strings.Builder
	printCPURounds(&out, &cpuMeter{pid: 42, resolution: time.Nanosecond}, rounds, 30*us)
	// Against the fastest batch (30 µs): 1.80x, 2.36x, 1.44x.
	var rows []string
	for line := range strings.Lines(out.String()) {
		if f := strings.Fields(line); len(f) == 5 && f[0] != "round" {
			rows = append(rows, strings.Join(f, " "))
		}
	}
	if want := []string{"1 20µs 90µs 40µs 1.50x", "2 25µs 130µs 40µs 2.00x", "3 20µs 72µs 40µs 1.20x"}; !slices.Equal(rows, want) {
		t.Errorf("rounds %q, want %q", rows, want)
	}
	if want := "= 1.50x (median of 3 rounds; 1.80x against the fastest signature batch, 30µs)\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("output does not end in %q:\n%s", want, out.String())
	}
}

func TestLoad_SignSamplerTimesRealSignatures(t *testing.T) {
	s := startSignSampler(time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	s.stop()
	lap, best := s.lap(), s.best()
	// A P-256 signature takes tens of microseconds on any machine this
	// runs on; far less would mean the clock read nothing.
	if best < time.Microsecond || lap < best || lap > time.Second {
		t.Errorf("median %v, fastest %v: not the cost of a signature", lap, best)
	}
}

// TestLoad_AuditCounts: the audit counters are read from a server's /metrics, summed over their
// series, whatever the labels hold; a server without them is an error, and printed so.
func TestLoad_AuditCounts(t *testing.T) {
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/t/acme/metrics" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body.Load().(string))
	}))
	defer srv.Close()
	metrics := srv.URL + "/t/acme/metrics"

	body.Store(`# HELP xaa_idp_audit_syncs_total Fsyncs.
# TYPE xaa_idp_audit_syncs_total counter
xaa_idp_audit_syncs_total{tenant="acme"} 10
xaa_idp_audit_append_duration_seconds_bucket{tenant="acme",le="0.001"} 70
xaa_idp_audit_append_duration_seconds_count{tenant="acme"} 75
xaa_idp_token_exchanges_total{error="",outcome="allowed",server="a b"} 75
`)
	before, err := readAuditCounts(context.Background(), srv.Client(), metrics)
	if err != nil {
		t.Fatal(err)
	}
	if before != (auditCounts{events: 75, syncs: 10}) {
		t.Errorf("read %+v, want 75 events and 10 syncs", before)
	}
	body.Store("xaa_idp_audit_syncs_total 14\nxaa_idp_audit_append_duration_seconds_count 105\n")
	after, err := readAuditCounts(context.Background(), srv.Client(), metrics)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	printAuditCounts(&out, after.sub(before))
	if want := "audit log: 30 events in 4 fsyncs, 7.5 events per fsync (/metrics)\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}

	out.Reset()
	printAuditCounts(&out, auditCounts{events: 30})
	if !strings.Contains(out.String(), "30 events, no fsync (the log is in memory") {
		t.Errorf("a log without a file: printed %q", out.String())
	}

	body.Store("go_goroutines 7\n")
	if _, err := readAuditCounts(context.Background(), srv.Client(), metrics); err == nil {
		t.Error("metrics without the audit counters read without an error")
	}
	if _, err := readAuditCounts(context.Background(), srv.Client(), srv.URL+"/metrics"); err == nil {
		t.Error("a 404 read without an error")
	}
}
