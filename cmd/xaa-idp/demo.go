package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/internal/connlimit"
	"github.com/xaa-idp/xaa-idp/policy"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", stdout, stderr)
	flags := addIdPFlags(fs)
	bind := fs.String("bind", "", "listen on this host instead of the one in each MCP server URL (0.0.0.0 in a container)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	errOut := flags.logs.errorOutput(stderr)
	if err := flags.check(); err != nil {
		fmt.Fprintln(errOut, "xaa-idp:", err)
		return exitUsage
	}
	if err := checkBind(fs, *bind); err != nil {
		fmt.Fprintln(errOut, "xaa-idp demo:", err)
		return exitUsage
	}
	setGCTarget()
	flags.httpsDemoURLs = *flags.tls
	flags.demoEvents = true
	r, code := flags.start(ctx, stderr, nil)
	if r == nil {
		return code
	}
	defer r.close()
	cfg := r.store.Config()
	stack, err := demo.Stack(cfg, r.base, r.srv.Now, demo.StateDir(*flags.stateDir))
	if err != nil {
		fmt.Fprintln(errOut, "xaa-idp demo:", demoConfigError(err, r.store.File()))
		if _, file := errors.AsType[*iofs.PathError](err); file {
			return exitFailure
		}
		return exitUsage
	}
	// Closed first, before the IdP (runningIdP.stopped).
	r.closers = append(r.closers, func() { demo.Close(stack) })
	followEdits(r.store, stack, cfg)
	var tlsConfig *tls.Config
	if r.ca != nil {
		if tlsConfig, err = demoTLS(r.ca, stack); err != nil {
			fmt.Fprintln(errOut, "xaa-idp demo:", demoConfigError(err, r.store.File()))
			return exitUsage
		}
	}
	listeners := []net.Listener{r.ln}
	handlers := []http.Handler{r.handler}
	// The IdP, its authorization servers and MCP servers share the
	// process's descriptors, so they share one bound of connections.
	conns := connlimit.New(defaultMaxConns())
	idpLimits := defaultLimits
	idpLimits.conns = conns
	limits := []serverLimits{idpLimits}
	for _, svc := range stack {
		listenAddr := svc.Addr
		if *bind != "" {
			_, port, _ := net.SplitHostPort(svc.Addr)
			listenAddr = net.JoinHostPort(*bind, port)
		}
		ln, err := listen(listenAddr, fmt.Sprintf("the %s %s URL in the configuration", svc.Server, svc.Role))
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			if _, port, _ := net.SplitHostPort(listenAddr); errors.Is(err, syscall.EADDRINUSE) && port == strconv.Itoa(r.ln.Addr().(*net.TCPAddr).Port) {
				// Not another program: this one, whose IdP holds the
				// port. A configuration that cannot run, as two servers
				// on one port (demo.Stack).
				err = &demo.ConfigError{Path: svc.Path, Err: fmt.Errorf("%s %s wants %s, where the IdP listens (--addr %s); give it its own port, or the IdP another --addr",
					svc.Server, svc.Role, listenAddr, r.ln.Addr())}
				fmt.Fprintln(errOut, "xaa-idp demo:", demoConfigError(err, r.store.File()))
				return exitUsage
			}
			fmt.Fprintf(errOut, "xaa-idp demo: %s %s: %v\n", svc.Server, svc.Role, err)
			return exitFailure
		}
		if tlsConfig != nil {
			ln = tls.NewListener(ln, tlsConfig)
		}
		listeners = append(listeners, ln)
		handlers = append(handlers, svc.Handler)
		l := defaultLimits
		l.conns = conns
		if svc.Role == "MCP server" {
			l = mcpServerLimits(l)
		}
		limits = append(limits, l)
	}
	banner := demoBanner{base: r.base, program: programName(os.Args[0])}
	if r.ca != nil {
		banner.caFile = r.ca.CertPath()
		if inContainer(r.ln.Addr(), *flags.stateDir) {
			banner.containerStateDir = *flags.stateDir
		}
	}
	printDemo(stdout, cfg, stack, banner)

	stopping := logStopping(ctx)
	defer stopping()
	var wg sync.WaitGroup
	errc := make(chan error, len(listeners))
	for i := range listeners {
		wg.Add(1)
		go func(ln net.Listener, h http.Handler, l serverLimits) {
			defer wg.Done()
			if err := serveWithLimits(ctx, ln, h, l); err != nil {
				errc <- err
			}
		}(listeners[i], handlers[i], limits[i])
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		fmt.Fprintln(errOut, "xaa-idp demo:", err)
		return exitFailure
	}
	stopping()
	r.stopped() // a log record: with --log-format json, stderr stays JSON lines
	return exitOK
}

// mcpServerLimits are the limits l of a demo MCP server: its
// subscriptions/listen stream lasts as long as the token, and the SDK sets
// no deadline of its own; at a stop it ends a second after the stop
// begins, which lets a tool call in progress be answered.
func mcpServerLimits(l serverLimits) serverLimits {
	l.write = 0
	l.endAtStop = time.Second
	return l
}

// followEdits makes the demo authorization servers of stack, built from
// cfg, follow every later configuration of store (demo.Follow): the
// admin API's and the console's edits, and the file's. What they cannot
// follow until a restart is logged as a warning, once, when it first
// shows up.
func followEdits(store *policy.Store, stack []demo.Service, cfg *policy.Config) {
	var mu sync.Mutex
	var logged map[string]bool
	follow := func() {
		mu.Lock()
		defer mu.Unlock()
		// The store's configuration is the one OnChange passes or a newer
		// one: the catch-up below may run beside an OnChange, and the
		// newest must be followed last.
		now := map[string]bool{}
		for _, w := range demo.Follow(stack, store.Config()) {
			if !logged[w] {
				slog.Warn(w)
			}
			now[w] = true
		}
		logged = now
	}
	store.OnChange(func(*policy.Config) { follow() })
	// An edit of the file made while the stack was being built.
	if store.Config() != cfg {
		follow()
	}
}

// demoConfigError is err of demo.Stack as "file:line: problem" when it is
// about a place in the configuration file (docs/configuration.md, "Validation":
// errors name the file and line), else as it is.
func demoConfigError(err error, file string) string {
	var ce *demo.ConfigError
	if !errors.As(err, &ce) {
		return err.Error()
	}
	if file == "" {
		return ce.Err.Error()
	}
	data, rerr := os.ReadFile(file)
	if rerr != nil {
		return file + ": " + ce.Err.Error()
	}
	path := ce.Path
	if ce.Else != "" && !policy.Written(data, path) && policy.Written(data, ce.Else) {
		path = ce.Else
	}
	return fmt.Sprintf("%s:%d: %s", file, policy.Line(data, path), ce.Err)
}
