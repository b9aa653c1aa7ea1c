package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/internal/localca"
)

// runLoad drives token exchanges against a running IdP and, in the same
// run, the cheapest request it serves (/healthz) as the floor, so that the
// result is a ratio that means the same on any machine.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("load", stderr)
	issuer := fs.String("issuer", "http://127.0.0.1:8080", "the IdP's issuer URL (loopback only unless --allow-remote)")
	clientID := fs.String("client-id", "mcp-client", "client_id at the IdP")
	secret := fs.String("client-secret", "mcp-secret", "client secret")
	username := fs.String("username", "alice", "user whose ID token is exchanged")
	password := fs.String("password", "alice", "the user's password")
	audience := fs.String("audience", "http://127.0.0.1:8101", "authorization server to ask ID-JAGs for")
	resource := fs.String("resource", "http://127.0.0.1:8201/mcp", "MCP server resource")
	requests := fs.Int("requests", 2000, "exchanges to send (and as many floor requests)")
	concurrency := fs.Int("concurrency", 8, "requests in flight")
	maxTime := fs.Duration("max-time", 60*time.Second, "stop after this long whatever the count")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback issuer")
	caFile := addCAFileFlag(fs)
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *requests < 1 || *concurrency < 1 {
		fmt.Fprintln(stderr, "xaa-idp load: --requests and --concurrency must be at least 1")
		return exitUsage
	}
	u, err := url.Parse(*issuer)
	if err != nil || u.Host == "" {
		fmt.Fprintln(stderr, "xaa-idp load: --issuer must be a URL")
		return exitUsage
	}
	if ip := net.ParseIP(u.Hostname()); !*allowRemote && u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(stderr, "xaa-idp load: %s is not a loopback address; a load test targets your own machine (--allow-remote to override)\n", u.Host)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *maxTime)
	defer cancel()
	pool, err := localca.TrustFile(*caFile)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp load: --ca-file:", err)
		return exitUsage
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency, TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}

	tokens, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret, Username: *username, Password: *password, Scopes: []string{"openid"}, HTTPClient: hc})
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp load: login:", err)
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
		fmt.Fprintln(stderr, "xaa-idp load: the first exchange failed, nothing to measure:", err)
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
	fl := drive(ctx, floor, *requests, *concurrency)
	ex := drive(ctx, exchange, *requests, *concurrency)
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
	if ex.errors > 0 || fl.errors > 0 {
		fmt.Fprintf(stderr, "xaa-idp load: first error: %v\n", firstErr(ex.err, fl.err))
		return exitFailure
	}
	return exitOK
}

type loadResult struct {
	done, errors int
	elapsed      time.Duration
	latencies    []time.Duration
	err          error
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
