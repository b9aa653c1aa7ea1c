package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/internal/localca"
	"github.com/xaa-idp/xaa-idp/policy"
)

// loopbackHTTP is the origin of an http URL with an explicit port
// (redirect URIs, which have no port, never match); httpsServed keeps the
// loopback ones, any the demo serves on (demo.LoopbackHost).
var loopbackHTTP = regexp.MustCompile(`http://(?:[0-9A-Za-z.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]+`)

// httpsLoopbackURLs makes the URLs that the demo serves https in the demo
// configuration yaml (httpsServed).
func httpsLoopbackURLs(yaml []byte) []byte { return httpsServed(yaml)(yaml) }

// httpsServed is the rewrite that demo --tls reads a configuration, yaml,
// through (policy.FileChecks.View): the origins that the demo serves
// become https, in the document and in any URL of it: the IdP's issuer,
// and its MCP servers' authorization servers and MCP endpoints, a
// tenant's too. Other loopback URLs stay as they are: the client metadata
// document that `connect --cimd` serves over http on its own port is not
// the demo's.
func httpsServed(yaml []byte) func([]byte) []byte {
	cfg, err := policy.Parse(yaml, fixtures.DemoFile)
	if err != nil {
		return func(b []byte) []byte { return b } // the store reports the problem
	}
	served := map[string]bool{}
	add := func(u string) {
		if m := loopbackHTTP.FindString(u); m != "" && strings.HasPrefix(u, m) {
			if host, _, err := net.SplitHostPort(m[len("http://"):]); err == nil && demo.LoopbackHost(host) {
				served[m] = true
			}
		}
	}
	add(cfg.Issuer)
	for _, c := range append([]*policy.Config{cfg}, cfg.Tenants...) {
		for _, s := range c.MCPServers {
			add(s.Issuer)
			for _, u := range s.Resources {
				add(u)
			}
		}
	}
	return func(b []byte) []byte {
		return loopbackHTTP.ReplaceAllFunc(b, func(origin []byte) []byte {
			if !served[string(origin)] {
				return origin
			}
			return append([]byte("https"), origin[len("http"):]...)
		})
	}
}

// demoTLS is the TLS configuration of the demo's authorization and MCP
// servers: one certificate of the local CA for every host they serve. Each
// URL is https (httpsServed); one that is not is refused at its line.
func demoTLS(ca *localca.CA, stack []demo.Service) (*tls.Config, error) {
	var hosts []string
	for _, svc := range stack {
		u, err := url.Parse(svc.URL)
		if err != nil {
			return nil, err
		}
		if u.Scheme != "https" {
			// The URL as written with https, nothing added: an issuer
			// given a "/" would be another aud.
			written := "https" + svc.URL[len(u.Scheme):]
			return nil, &demo.ConfigError{Path: svc.Path, Err: fmt.Errorf("--tls serves https, but the %s %s URL is %s: write %s in the configuration", svc.Server, svc.Role, svc.URL, written)}
		}
		hosts = append(hosts, u.Hostname())
	}
	cert, err := ca.ServerCertificate(hosts...)
	if err != nil {
		return nil, err
	}
	return serverTLS(cert), nil
}

// serverTLS is the TLS configuration of every server the process runs
// (serve's and demo's IdP, the demo's authorization and MCP servers). It
// offers HTTP/2 by ALPN, besides HTTP/1.1: the listener is TLS and the
// http.Server has no TLSConfig, so net/http serves an h2 connection once
// the handshake chose it, with the server's limits (MaxHeaderBytes is
// HTTP/2's MAX_HEADER_LIST_SIZE; the handlers bound bodies and set
// deadlines per stream).
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
}

var trustOnce sync.Once

// trustForOwnRequests makes the process's default HTTP transport trust the
// local CA besides the system roots, once, before anything is served: the
// demo authorization servers fetch the IdP's JWKS, and the console's
// onboarding page connects to the IdP and the demo servers, through it,
// and neither takes an HTTP client from here. One process serves one CA.
func trustForOwnRequests(ca *localca.CA) {
	trustOnce.Do(func() {
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			t.TLSClientConfig = &tls.Config{RootCAs: ca.WithSystemRoots(), MinVersion: tls.VersionTLS12}
		}
	})
}

// addCAFileFlag is --ca-file of the client commands.
func addCAFileFlag(fs *flag.FlagSet) *string {
	return fs.String("ca-file", "", "also trust the CA certificates in this PEM file (for serve --tls: 'xaa-idp ca --state-dir DIR' prints it)")
}

// httpClient is the client commands' HTTP client: the system's roots,
// plus caFile's certificates when given. A file it cannot use is said
// with the setting of fs that named it (flagRef: XAA_IDP_CA_FILE in a
// container; until 2026-12-07 always --ca-file).
func httpClient(fs *flag.FlagSet, caFile string) (*http.Client, error) {
	if caFile == "" {
		return http.DefaultClient, nil
	}
	pool, err := localca.TrustFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagRef(fs, "ca-file"), err)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, nil
}

// runCA prints the local CA's certificate: its path on stderr, the PEM on
// stdout (so that `xaa-idp ca --state-dir DIR > ca.pem` is the file to
// trust). It creates the CA when the state directory has none yet, so a
// client can be set up before the first `serve --tls`.
func runCA(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ca", stdout, stderr)
	stateDir := fs.String("state-dir", "", "the state directory of serve --tls or demo --tls (required)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *stateDir == "" {
		fmt.Fprintln(stderr, "xaa-idp ca: --state-dir is required: the CA is kept in DIR/tls (a --tls server without --state-dir logs its temporary CA file)")
		return exitUsage
	}
	if why := notADirectory(*stateDir); why != "" {
		// Open would say to remove DIR/tls, which a file cannot hold.
		fmt.Fprintf(stderr, "xaa-idp ca: %s %s: give the state directory of serve --tls or demo --tls\n", flagValue(fs, "state-dir", *stateDir), why)
		return exitUsage
	}
	ca, created, err := localca.Open(*stateDir)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp ca:", err)
		return exitFailure
	}
	if created {
		fmt.Fprintln(stderr, "xaa-idp ca: created a new local CA")
	}
	fmt.Fprintln(stderr, ca.CertPath())
	_, _ = stdout.Write(ca.CertPEM())
	return exitOK
}
