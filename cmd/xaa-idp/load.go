package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/internal/localca"
)

// The bounds of load's --requests and --concurrency, and what --server-pid takes.
const (
	maxLoadRequests    = 1_000_000
	maxLoadConcurrency = 1000
	serverPIDWant      = "a process id, or 0 for the process listening on the issuer's port"
)

// loopbackOnly is the dialer's Control hook of load without
// --allow-remote: it refuses an address that is not loopback, whichever
// name or URL led there.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return err
	}
	if a := ap.Addr().Unmap(); !a.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address; a load test targets your own machine (--allow-remote to override)", a)
	}
	return nil
}

// runLoad drives token exchanges against a running IdP and, in the same
// run, the cheapest request it serves (/healthz) as the floor, so that the
// result is a ratio that means the same on any machine. When it can read
// the server's CPU time (a local server: --server-pid, or the owner of the
// listening socket), it also prints the server's CPU per request, which
// other load on the machine does not inflate as it does latency, against
// the floor of an exchange: the /healthz CPU plus one P-256 signature
// timed while the load runs. The requests are split over --rounds rounds
// of both phases; the ratio is the median of the rounds'.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stdout, stderr = terminalSafe(stdout), terminalSafe(stderr) // they print what servers said
	fs := newFlagSet("load", stdout, stderr)
	issuer := fs.String("issuer", "http://127.0.0.1:8080", "the IdP's issuer URL (loopback only unless --allow-remote)")
	clientID := fs.String("client-id", "mcp-client", "client_id at the IdP")
	secret := fs.String("client-secret", "mcp-secret", "client secret")
	username := fs.String("username", "alice", "user whose ID token is exchanged")
	password := fs.String("password", "alice", "the user's password")
	audience := fs.String("audience", "http://127.0.0.1:8101", "authorization server to ask ID-JAGs for")
	resource := fs.String("resource", "http://127.0.0.1:8201/mcp", "MCP server resource")
	requests := fs.Int("requests", 3000, "exchanges to send (and as many floor requests), split over the rounds")
	nRounds := fs.Int("rounds", 3, "rounds of floor then exchanges; the CPU ratio is the median of the rounds' ratios")
	concurrency := fs.Int("concurrency", 8, "requests in flight")
	maxTime := fs.Duration("max-time", 60*time.Second, "stop after this long whatever the count")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback issuer")
	serverPID := fs.Int("server-pid", 0, "the server's process id, to read its CPU time (default: the local process listening on the issuer's port)")
	caFile := addCAFileFlag(fs)
	intRange(fs, "requests", fmt.Sprintf("a whole number from 1 to %d", maxLoadRequests))
	intRange(fs, "concurrency", fmt.Sprintf("a whole number from 1 to %d", maxLoadConcurrency))
	intRange(fs, "rounds", "a whole number from 1 up")
	intRange(fs, "server-pid", serverPIDWant)
	if code, stop := parse(fs, args); stop {
		return code
	}
	// A run keeps a latency per request and a goroutine per request in
	// flight: bounded, so that a typo is bad usage rather than gigabytes.
	for _, b := range []struct {
		name string
		v    int
		max  int // 0: none
	}{{"requests", *requests, maxLoadRequests}, {"concurrency", *concurrency, maxLoadConcurrency}, {"rounds", *nRounds, 0}} {
		if b.v < 1 || b.max > 0 && b.v > b.max {
			want := "from 1 up"
			if b.max > 0 {
				want = fmt.Sprintf("from 1 to %d", b.max)
			}
			fmt.Fprintf(stderr, "xaa-idp load: %s: want a whole number %s\n", flagValue(fs, b.name, strconv.Itoa(b.v)), want)
			return exitUsage
		}
	}
	if *serverPID < 0 {
		fmt.Fprintf(stderr, "xaa-idp load: %s: want %s\n", flagValue(fs, "server-pid", strconv.Itoa(*serverPID)), serverPIDWant)
		return exitUsage
	}
	if *maxTime <= 0 {
		fmt.Fprintf(stderr, "xaa-idp load: %s must be positive, such as 1m\n", flagRef(fs, "max-time"))
		return exitUsage
	}
	if err := checkHTTPURL(fs, "issuer", *issuer); err != nil {
		fmt.Fprintln(stderr, "xaa-idp load:", err)
		return exitUsage
	}
	u, _ := url.Parse(*issuer)
	loopback := demo.LoopbackHost(u.Hostname())
	if !*allowRemote && !loopback {
		fmt.Fprintf(stderr, "xaa-idp load: %s is not a loopback address; a load test targets your own machine (--allow-remote to override)\n", u.Host)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *maxTime)
	defer cancel()
	pool, err := localca.TrustFile(*caFile)
	if err != nil {
		fmt.Fprintf(stderr, "xaa-idp load: %s: %v\n", flagRef(fs, "ca-file"), err)
		return exitUsage
	}
	// The loopback rule holds for every request, not the issuer's name
	// alone: the discovery document names the endpoints, and a redirect
	// leads anywhere, so the dialled address is what is checked.
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !*allowRemote {
		dialer.Control = loopbackOnly
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: *concurrency, TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}

	tokens, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret, Username: *username, Password: *password, Scopes: []string{"openid"}, HTTPClient: hc})
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp load: login:", oneLine(err.Error()))
		hintUntrusted(stderr, "load", err)
		hintRefused(stderr, "load", "--issuer", err)
		hintPlainHTTP(stderr, "load", "--issuer", *issuer, err)
		return exitFailure
	}
	meta, err := idpclient.Discover(ctx, hc, *issuer)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp load:", err)
		return exitFailure
	}
	exchange := func(ctx context.Context) error {
		_, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{
			TokenEndpoint: meta.TokenEndpoint, ClientID: *clientID, ClientSecret: *secret,
			SubjectToken: tokens.IDToken(), Audience: *audience, Resource: *resource, HTTPClient: hc,
		})
		return err
	}
	if err := exchange(ctx); err != nil {
		fmt.Fprintln(stderr, "xaa-idp load: the first exchange failed, nothing to measure:", oneLine(err.Error()))
		return exitFailure
	}
	healthz := strings.TrimSuffix(*issuer, "/") + "/healthz"
	floor := func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, healthz, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz answered %s", resp.Status)
		}
		return nil
	}
	cpu := serverCPUMeter(*serverPID, loopback, u, stderr)
	var signs *signSampler
	if cpu != nil {
		signs = startSignSampler(signSampleEvery)
	}
	metrics := strings.TrimSuffix(*issuer, "/") + "/metrics"
	auditBefore, auditErr := readAuditCounts(ctx, hc, metrics)
	var fl, ex loadResult
	var rounds []roundCPU
	for i := range *nRounds {
		// The requests are split over the rounds, and each round runs
		// both phases back to back, so that a ratio compares phases a few
		// seconds apart, whatever the rest of the machine does meanwhile.
		n := *requests / *nRounds
		if i < *requests%*nRounds {
			n++
		}
		if n == 0 || ctx.Err() != nil {
			break
		}
		cpu.lap()
		signs.lap()
		f := drive(ctx, floor, n, *concurrency)
		flCPU := cpu.lap()
		e := drive(ctx, exchange, n, *concurrency)
		exCPU := cpu.lap()
		fl, ex = fl.merge(f), ex.merge(e)
		if cpu != nil && f.done > 0 && e.done > 0 {
			// Counted per request sent, errors included: they cost the
			// server CPU too (and fail the run below).
			rounds = append(rounds, roundCPU{
				floor:    flCPU / time.Duration(f.done+f.errors),
				exchange: exCPU / time.Duration(e.done+e.errors),
				sign:     signs.lap(),
			})
		}
	}
	signs.stop()
	// Read after the last CPU lap, so that the server's CPU for /metrics
	// counts in no phase; the floor appends no audit event.
	auditAfter, err := readAuditCounts(ctx, hc, metrics)
	auditErr = firstErr(auditErr, err)
	fmt.Fprintf(stdout, "%-10s %8s %8s %10s %10s %10s %10s\n", "", "done", "errors", "req/s", "p50", "p90", "p99")
	for _, r := range []struct {
		name string
		res  loadResult
	}{{"floor", fl}, {"exchange", ex}} {
		fmt.Fprintf(stdout, "%-10s %8d %8d %10.0f %10s %10s %10s\n", r.name, r.res.done, r.res.errors, r.res.rate(),
			r.res.pct(50), r.res.pct(90), r.res.pct(99))
	}
	if fl.done > 0 && ex.done > 0 {
		fmt.Fprintf(stdout, "exchange/floor: throughput %.2fx, p50 latency %.2fx\n", ex.rate()/fl.rate(),
			float64(ex.pct(50))/float64(max(fl.pct(50), time.Microsecond)))
	}
	if len(rounds) > 0 {
		printCPURounds(stdout, cpu, rounds, signs.best())
	}
	if auditErr == nil {
		printAuditCounts(stdout, auditAfter.sub(auditBefore))
	}
	if ex.errors > 0 || fl.errors > 0 {
		fmt.Fprintf(stderr, "xaa-idp load: first error: %s\n", oneLine(fmt.Sprint(firstErr(ex.err, fl.err))))
		return exitFailure
	}
	return exitOK
}

// auditCounts are the audit log's counters from a server's /metrics: the
// events appended and the fsyncs of its file.
type auditCounts struct{ events, syncs float64 }

func (a auditCounts) sub(b auditCounts) auditCounts {
	return auditCounts{a.events - b.events, a.syncs - b.syncs}
}

// readAuditCounts reads the audit counters from the issuer's /metrics,
// summed over their series (one per tenant at most, at a tenant's issuer).
func readAuditCounts(ctx context.Context, hc *http.Client, metrics string) (auditCounts, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metrics, nil)
	if err != nil {
		return auditCounts{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return auditCounts{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return auditCounts{}, fmt.Errorf("%s answered %s", metrics, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return auditCounts{}, err
	}
	var c auditCounts
	found := false
	for line := range strings.Lines(string(body)) {
		name, rest, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			// A label value may hold a space: the value is the last field.
			name = name[:i]
			rest = line[strings.LastIndexByte(strings.TrimSpace(line), ' ')+1:]
		}
		var into *float64
		switch name {
		case "xaa_idp_audit_append_duration_seconds_count":
			into = &c.events
		case "xaa_idp_audit_syncs_total":
			into = &c.syncs
		default:
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			return auditCounts{}, fmt.Errorf("%s: %q: %w", metrics, strings.TrimSpace(line), err)
		}
		*into += v
		found = true
	}
	if !found {
		return auditCounts{}, fmt.Errorf("%s has no audit counters", metrics)
	}
	return c, nil
}

// printAuditCounts says how the run's audit events were made durable:
// how many each fsync covered (group commit), or that there was no file.
func printAuditCounts(w io.Writer, d auditCounts) {
	switch {
	case d.events <= 0:
		return
	case d.syncs <= 0:
		fmt.Fprintf(w, "audit log: %.0f events, no fsync (the log is in memory, or not a regular file)\n", d.events)
	default:
		fmt.Fprintf(w, "audit log: %.0f events in %.0f fsyncs, %.1f events per fsync (/metrics)\n", d.events, d.syncs, d.events/d.syncs)
	}
}

// cpuMeter reads a local server's CPU time between the phases of a load
// run; a nil meter measures nothing.
type cpuMeter struct {
	pid        int
	last       time.Duration
	resolution time.Duration // of processCPU's reading: 1 ns, or a 10 ms tick
}

// serverCPUMeter finds the server to measure: pid when given, else the
// local process listening on the issuer's port. Without one it says why
// on stderr and returns nil: the run goes on without CPU figures.
func serverCPUMeter(pid int, loopback bool, issuer *url.URL, stderr io.Writer) *cpuMeter {
	if runtime.GOOS != "linux" {
		// Else: "give --server-pid" and "open /proc/net/tcp: no such
		// file or directory", though a pid would not help.
		fmt.Fprintf(stderr, "xaa-idp load: not measuring the server's CPU: it is read from /proc, on Linux only\n")
		return nil
	}
	if pid == 0 {
		if !loopback {
			return nil
		}
		port := issuer.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[issuer.Scheme]
		}
		n, err := strconv.Atoi(port)
		if err == nil {
			pid, err = listenerPID(n)
		}
		if err != nil {
			fmt.Fprintf(stderr, "xaa-idp load: not measuring the server's CPU (give --server-pid): %v\n", err)
			return nil
		}
	}
	used, res, err := processCPU(pid)
	if err != nil {
		fmt.Fprintf(stderr, "xaa-idp load: not measuring the server's CPU: %v\n", err)
		return nil
	}
	return &cpuMeter{pid: pid, last: used, resolution: res}
}

// lap returns the CPU time the server used since the previous lap.
func (m *cpuMeter) lap() time.Duration {
	if m == nil {
		return 0
	}
	used, _, err := processCPU(m.pid)
	if err != nil {
		return 0
	}
	d := used - m.last
	m.last = used
	return d
}

// roundCPU is one round's server CPU per request of each phase, and the
// raw signature's cost sampled during the round.
type roundCPU struct {
	floor, exchange, sign time.Duration
}

// ratio is the round's server CPU per exchange against the floor of an
// exchange: the CPU of a /healthz plus one raw P-256 signature.
func (r roundCPU) ratio() float64 {
	return float64(r.exchange) / float64(r.floor+r.sign)
}

// printCPURounds prints each round's server CPU and the median ratio, the
// result of the run; beside it the ratio against the fastest signature
// batch seen, the most flattering floor, so that neither is hidden.
func printCPURounds(w io.Writer, m *cpuMeter, rounds []roundCPU, best time.Duration) {
	source := "its CPU-time clock"
	if m.resolution > time.Nanosecond {
		source = fmt.Sprintf("/proc, in %v ticks", m.resolution)
	}
	fmt.Fprintf(w, "server CPU (pid %d, %s) per request, and one raw P-256 signature in this process (median during the round):\n", m.pid, source)
	fmt.Fprintf(w, "%-6s %10s %10s %10s %8s\n", "round", "healthz", "exchange", "sign", "ratio")
	ratios := make([]float64, len(rounds))
	for i, r := range rounds {
		ratios[i] = r.ratio()
		fmt.Fprintf(w, "%-6d %10s %10s %10s %7.2fx\n", i+1, r.floor.Round(100*time.Nanosecond),
			r.exchange.Round(100*time.Nanosecond), r.sign.Round(100*time.Nanosecond), ratios[i])
	}
	exch := make([]float64, len(rounds))
	for i, r := range rounds {
		exch[i] = float64(r.exchange) / float64(r.floor+best)
	}
	fmt.Fprintf(w, "server CPU per exchange / (healthz CPU + one raw P-256 sign) = %.2fx (median of %d rounds; %.2fx against the fastest signature batch, %s)\n",
		median(ratios), len(rounds), median(exch), best.Round(100*time.Nanosecond))
}

// median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// signSampleEvery is how often the sampler times a batch of signatures:
// about 1% of one core, too little to slow the server it shares the
// machine with.
const signSampleEvery = 20 * time.Millisecond

// signSampler times raw ES256 signatures with crypto/ecdsa alone (SHA-256
// of a signing input of an ID-JAG's size, P-256 sign), what an exchange
// cannot avoid, throughout the run: a signature timed alone on a quiet
// machine is faster than the same signature while the machine serves a
// load, as the server's are, and a shared machine's speed drifts from one
// second to the next. Each sample is a batch's CPU time per signature, on
// a thread of its own (the wall clock where the thread's CPU time cannot
// be read). A nil sampler samples nothing.
type signSampler struct {
	mu      sync.Mutex
	samples []time.Duration // since the last lap
	fastest time.Duration
	quit    chan struct{}
	done    chan struct{}
}

func startSignSampler(every time.Duration) *signSampler {
	s := &signSampler{fastest: time.Duration(math.MaxInt64), quit: make(chan struct{}), done: make(chan struct{})}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	go func() {
		defer close(s.done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.add(timeSigns(key, 5))
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// timeSigns returns the cost of one signature, from a batch of n.
func timeSigns(key *ecdsa.PrivateKey, n int) time.Duration {
	input := make([]byte, 600)
	c0, cpuOK := threadCPU()
	t0 := time.Now()
	for range n {
		digest := sha256.Sum256(input)
		if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
			panic(err)
		}
	}
	if c1, ok := threadCPU(); ok && cpuOK && c1 > c0 {
		return (c1 - c0) / time.Duration(n)
	}
	return time.Since(t0) / time.Duration(n)
}

func (s *signSampler) add(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, d)
	s.fastest = min(s.fastest, d)
}

// lap returns the median of the samples taken since the previous lap.
func (s *signSampler) lap() time.Duration {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return s.fastest // a round shorter than one sampling period
	}
	xs := make([]float64, len(s.samples))
	for i, d := range s.samples {
		xs[i] = float64(d)
	}
	s.samples = s.samples[:0]
	return time.Duration(median(xs))
}

// best is the fastest batch seen.
func (s *signSampler) best() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fastest
}

func (s *signSampler) stop() {
	if s == nil {
		return
	}
	close(s.quit)
	<-s.done
}

type loadResult struct {
	done, errors int
	elapsed      time.Duration
	latencies    []time.Duration
	err          error
}

// merge adds o's requests to r's: counts, latencies, time and first error.
func (r loadResult) merge(o loadResult) loadResult {
	r.done += o.done
	r.errors += o.errors
	r.elapsed += o.elapsed
	r.latencies = append(r.latencies, o.latencies...)
	slices.Sort(r.latencies)
	if r.err == nil {
		r.err = o.err
	}
	return r
}

func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.done) / r.elapsed.Seconds()
}

func (r loadResult) pct(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[(len(r.latencies)-1)*p/100].Round(time.Microsecond)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// drive runs op n times with c in flight, bounded by ctx.
func drive(ctx context.Context, op func(context.Context) error, n, c int) loadResult {
	var next atomic.Int64
	var mu sync.Mutex
	res := loadResult{latencies: make([]time.Duration, 0, n)}
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				t0 := time.Now()
				err := op(ctx)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					res.errors++
					if res.err == nil {
						res.err = err
					}
				} else {
					res.done++
					res.latencies = append(res.latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}
