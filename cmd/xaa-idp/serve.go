package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// idpFlags are the flags that serve and demo share: where the
// configuration comes from, where the IdP listens, its issuer, state and
// logs.
type idpFlags struct {
	config, addr, issuer, stateDir, auditLog *string
	logs                                     logOptions
}

func addIdPFlags(fs *flag.FlagSet) *idpFlags {
	return &idpFlags{
		config:   fs.String("config", "", "configuration file (default: the embedded demo configuration)"),
		addr:     fs.String("addr", "127.0.0.1:8080", "the IdP's listen address; port 0 picks a free port"),
		issuer:   fs.String("issuer", "", "issuer URL (default: the configuration's issuer, else http://<addr as bound>)"),
		stateDir: fs.String("state-dir", "", "directory for signing keys and the audit log (audit.jsonl)"),
		auditLog: fs.String("audit-log", "", "append audit events to this JSON Lines file"),
		logs:     logFlags(fs),
	}
}

// runningIdP is an IdP ready to serve: its listener, handler and the
// configuration store, with what must be undone at the end.
type runningIdP struct {
	srv     *idp.Server
	store   *policy.Store
	ln      net.Listener
	handler http.Handler
	closers []func()
}

func (r *runningIdP) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// start sets up logging, opens the configuration store, listens, and
// builds the IdP with its admin API and console. On failure it has printed
// why and returns the exit code.
func (f *idpFlags) start(stderr io.Writer, clock *idp.Clock) (*runningIdP, int) {
	r := &runningIdP{}
	fail := func(code int, err error) (*runningIdP, int) {
		fmt.Fprintln(stderr, "xaa-idp:", err)
		r.close()
		return nil, code
	}
	restoreLog, err := f.logs.setup(stderr)
	if err != nil {
		return fail(exitUsage, err)
	}
	r.closers = append(r.closers, restoreLog)
	if r.store, err = openStore(*f.config); err != nil {
		fmt.Fprintln(stderr, err) // problems already name file and line
		r.close()
		return nil, exitUsage
	}
	cfg := r.store.Config()
	if r.ln, err = net.Listen("tcp", *f.addr); err != nil {
		return fail(exitFailure, err)
	}
	iss := *f.issuer
	if iss == "" {
		iss = cfg.Issuer
	}
	if iss == "" {
		iss = "http://" + r.ln.Addr().String()
	}
	srv, log, err := newIdP(cfg, iss, *f.stateDir, *f.auditLog, clock)
	if err != nil {
		r.ln.Close()
		return fail(exitFailure, err)
	}
	r.srv = srv
	r.closers = append(r.closers, func() { log.Close() })
	r.handler = logRequests(app.New(app.Options{IdP: srv, Store: r.store}))
	r.closers = append(r.closers, r.store.Watch(time.Second))
	if *f.config == "" {
		slog.Info("serving the embedded demo configuration (users alice, bob, carol, dave; password = username); changes through the admin API live in memory")
	}
	return r, exitOK
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	flags := addIdPFlags(fs)
	clockAt := fs.String("clock", "", "start the IdP's clock at this RFC 3339 time (it then runs on; see --clock-frozen and PUT /admin/api/clock)")
	clockFrozen := fs.Bool("clock-frozen", false, "stop the IdP's clock (at --clock, or at the start time)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	clock, err := newClock(*clockAt, *clockFrozen)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp:", err)
		return exitUsage
	}
	r, code := flags.start(stderr, clock)
	if r == nil {
		return code
	}
	defer r.close()
	// The issuer alone on stdout, once the listener accepts: scripts read
	// this line to learn where the IdP is.
	fmt.Fprintln(stdout, r.srv.Issuer())
	slog.Info("serving", "issuer", r.srv.Issuer(), "console", r.srv.Issuer()+"/admin/", "addr", r.ln.Addr().String(), "clock", r.srv.Now().UTC().Format(time.RFC3339), "clock_frozen", r.srv.Clock().Frozen())
	if err := serveUntilDone(ctx, r.ln, r.handler); err != nil {
		fmt.Fprintln(stderr, "xaa-idp:", err)
		return exitFailure
	}
	return exitOK
}

// loadConfig reads --config, or the embedded demo configuration.
func loadConfig(file string) (*policy.Config, error) {
	if file == "" {
		return policy.Parse(fixtures.Demo, fixtures.DemoFile)
	}
	return policy.Load(file)
}

// openStore opens --config as the configuration store, which writes the
// admin API's changes back to the file and watches it for changes made by
// others; without --config, the embedded demo configuration, whose changes
// live in memory.
func openStore(file string) (*policy.Store, error) {
	if file == "" {
		return policy.NewStore(fixtures.Demo, fixtures.DemoFile)
	}
	return policy.OpenStore(file)
}

// newIdP opens the audit log (file when asked for) and builds the IdP. A
// nil clock means the wall clock.
func newIdP(cfg *policy.Config, issuer, stateDir, auditFile string, clock *idp.Clock) (*idp.Server, *audit.Log, error) {
	if clock == nil {
		clock = idp.NewClock(nil)
	}
	if auditFile == "" && stateDir != "" {
		if err := os.MkdirAll(stateDir, 0o700); err != nil {
			return nil, nil, err
		}
		auditFile = filepath.Join(stateDir, "audit.jsonl")
	}
	log, err := audit.Open(audit.Options{Path: auditFile, Now: clock.Now})
	if err != nil {
		return nil, nil, fmt.Errorf("audit log: %w", err)
	}
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: issuer, StateDir: stateDir, Audit: log, Clock: clock, Logger: slog.Default()})
	if err != nil {
		log.Close()
		return nil, nil, err
	}
	return srv, log, nil
}

// newClock is the IdP's clock for --clock and --clock-frozen.
func newClock(at string, frozen bool) (*idp.Clock, error) {
	c := idp.NewClock(nil)
	if frozen {
		c.Freeze()
	}
	if at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return nil, fmt.Errorf("--clock %q: want an RFC 3339 time such as 2030-01-01T00:00:00Z", at)
		}
		c.Set(t)
	}
	return c, nil
}

// serveUntilDone serves until ctx ends (SIGINT/SIGTERM), then drains
// requests in flight for a few seconds.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		slog.Warn("shutdown", "err", err)
	}
	return nil
}

// runHealthcheck lets a container image without curl check itself.
func runHealthcheck(ctx context.Context, args []string, _, stderr io.Writer) int {
	fs := newFlagSet("healthcheck", stderr)
	url := fs.String("url", "http://127.0.0.1:8080/healthz", "the health endpoint to probe")
	if code, stop := parse(fs, args); stop {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp healthcheck:", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp healthcheck:", err)
		return exitFailure
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "xaa-idp healthcheck:", *url, "answered", resp.Status)
		return exitFailure
	}
	return exitOK
}
