package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idp/signer"
	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
	"github.com/xaa-idp/xaa-idp/internal/clientaddr"
	"github.com/xaa-idp/xaa-idp/internal/connlimit"
	"github.com/xaa-idp/xaa-idp/internal/filelock"
	"github.com/xaa-idp/xaa-idp/internal/localca"
	"github.com/xaa-idp/xaa-idp/internal/stopgate"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/push"
	"github.com/xaa-idp/xaa-idp/web"
)

// idpFlags are the flags that serve and demo share: where the
// configuration comes from, where the IdP listens, its issuer, state and
// logs.
type idpFlags struct {
	fs                                       *flag.FlagSet
	config, addr, issuer, stateDir, auditLog *string
	tls                                      *bool
	logs                                     logOptions
	// httpsDemoURLs (demo --tls) reads the configuration, the embedded
	// one or the file, with the loopback URLs the demo serves made https
	// (httpsServed); a file keeps what its author wrote.
	httpsDemoURLs bool
	// demoEvents (demo) pushes revocations of servers without an
	// events_endpoint to their demo authorization server's /events.
	demoEvents bool
}

func addIdPFlags(fs *flag.FlagSet) *idpFlags {
	return &idpFlags{
		fs:       fs,
		config:   fs.String("config", "", "configuration file (default: the embedded demo configuration)"),
		addr:     fs.String("addr", "127.0.0.1:8080", "the IdP's listen address; port 0 picks a free port"),
		issuer:   fs.String("issuer", "", "issuer URL (default: the configuration's issuer, else http://<addr as bound>)"),
		stateDir: fs.String("state-dir", "", "directory for signing keys, the audit log (audit.jsonl), the record of ended logins and the refresh tokens"),
		auditLog: fs.String("audit-log", "", "append audit events to this JSON Lines file"),
		tls:      fs.Bool("tls", false, "serve https with a certificate of a local CA kept in --state-dir/tls (generated on first use; 'xaa-idp ca' prints it)"),
		logs:     logFlags(fs),
	}
}

// runningIdP is an IdP ready to serve: its listener, handler and the
// configuration store, with what must be undone at the end.
type runningIdP struct {
	srv *idp.Server // the IdP, or the first tenant's
	// tenants are the IdPs of a file with tenants, in file order; nil
	// for a file without.
	tenants []*idp.Server
	// base is the base URL: the issuer of a file without tenants, which
	// each tenant's path follows in a file with them.
	base  string
	store *policy.Store
	ln    net.Listener
	// addrHost is the host of --addr, a name the IdP answers to
	// (app.Options.Hosts).
	addrHost string
	handler  http.Handler
	ca       *localca.CA // with --tls
	closers  []func()
	// restoreLog ends the log that start set up, after every closer: the
	// audit log's last events and the revocations' last posts are logged.
	restoreLog func()
}

// close closes what start opened, newest first, then the log. A second
// call does nothing.
func (r *runningIdP) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
	if r.restoreLog != nil {
		r.restoreLog()
		r.restoreLog = nil
	}
}

// stopped closes what start opened and logs `stopped`, the last record of
// a clean stop (README): after the posts of revocations in flight and the
// audit log's last events, and once the state directory is unlocked, so
// that a script that waits for it may start the next IdP on that state
// directory.
func (r *runningIdP) stopped() {
	restore := r.restoreLog
	r.restoreLog = nil
	r.close()
	slog.Info("stopped")
	if restore != nil {
		restore()
	}
}

// start sets up logging, opens the configuration store, listens, and
// builds the IdP with its admin API and console, for flags the caller has
// checked (check). On failure it has printed why and returns the exit
// code.
func (f *idpFlags) start(ctx context.Context, stderr io.Writer, clock *idp.Clock) (*runningIdP, int) {
	r := &runningIdP{}
	errOut := f.logs.errorOutput(stderr)
	fail := func(code int, err error) (*runningIdP, int) {
		fmt.Fprintln(errOut, "xaa-idp:", withFileHint(err, f.startFiles()))
		r.close()
		return nil, code
	}
	var err error
	if r.restoreLog, err = f.logs.setup(droppedAfterStop(ctx, stderr)); err != nil {
		return fail(exitUsage, err)
	}
	if *f.config != "" {
		reportRemoved(policy.RemoveTemporaries(*f.config))
	}
	if r.store, err = openStore(*f.config, f.httpsDemoURLs); err != nil {
		fmt.Fprintln(errOut, err) // problems already name file and line
		r.close()
		return nil, exitUsage
	}
	cfg := r.store.Config()
	warnOnReload(r.store) // and, first, the warnings of the configuration it starts with
	iss, from := *f.issuer, flagRef(f.fs, "issuer")
	if iss == "" {
		iss, from = cfg.Issuer, "the configuration's issuer"
	}
	if *f.tls && strings.HasPrefix(iss, "http:") {
		if file := r.store.File(); *f.issuer == "" && file != "" {
			// A configuration error names the file and line (docs/configuration.md,
			// "Validation"), as the MCP servers' http URLs are named.
			line := policy.Line(r.store.Snapshot().YAML(), "issuer") // the document the store read
			fmt.Fprintf(errOut, "%s:%d: issuer: --tls serves https, but the issuer is %s: write https%s in the configuration, or leave it out to get https://<addr>\n", file, line, iss, iss[len("http"):])
			r.close()
			return nil, exitUsage
		}
		return fail(exitUsage, fmt.Errorf("%s serves https, but %s is %s: make it https://, or leave it out to get https://<addr>", flagRef(f.fs, "tls"), from, iss))
	}
	if want := policy.IssuerSpelling(*f.issuer); want != "" {
		// The configuration's issuer: is warned of with the file's
		// other warnings (policy.Warnings).
		slog.Warn(fmt.Sprintf("%s is not written as clients write it; write %q (every token's iss is the issuer as given, and clients compare it with the URL they were given, written as a URL parser writes it: scheme and host in lower case, without the default port)", flagValue(f.fs, "issuer", *f.issuer), want))
	}
	if *f.stateDir != "" {
		// One process per state directory: a second one would append to
		// the same audit log, rotate the same keys and replace the push
		// journal and the access requests under the first.
		release, err := filelock.LockDir(*f.stateDir)
		if err != nil {
			if _, ok := errors.AsType[*filelock.InUseError](err); ok {
				err = fmt.Errorf("%w: stop that process first, or give this one another %s", err, settingName(f.fs, "state-dir", "state-dir"))
			}
			return fail(exitFailure, err)
		}
		r.closers = append(r.closers, release)
		reportRemoved(atomicfile.RemoveTemporariesIn(stateDirs(*f.stateDir)...))
		if fi, err := os.Stat(*f.stateDir); err == nil && looseMode(fi, 0o022) {
			slog.Warn("the state directory is writable by other users, who could replace its signing keys, audit log or lock; chmod go-w it (serve makes new ones 0700)",
				"dir", *f.stateDir, "mode", fi.Mode().Perm().String())
		}
		warnLooseKeys(*f.stateDir)
	}
	if r.ln, err = listen(*f.addr, flagRef(f.fs, "addr")); err != nil {
		return fail(exitFailure, err)
	}
	r.closers = append(r.closers, func() { r.ln.Close() })
	r.addrHost, _, _ = net.SplitHostPort(*f.addr)
	if iss == "" {
		iss = defaultIssuer(r.ln.Addr().(*net.TCPAddr), *f.tls, f.fs)
		if r.addrHost != "" && net.ParseIP(r.addrHost) == nil {
			// An issuer is compared byte for byte: the MCP SDKs refuse
			// one discovered under another host name.
			slog.Info(fmt.Sprintf("%s names the host %s, but the issuer is the address it resolved to, %s: clients must use that URL; to use the name, give %s",
				flagRef(f.fs, "addr"), r.addrHost, iss, settingValue(f.fs, "issuer", defaultIssuerNamed(r.addrHost, r.ln.Addr().(*net.TCPAddr), *f.tls), "addr")))
		}
	} else {
		warnIssuerElsewhere(iss, from, r.ln.Addr().(*net.TCPAddr), f.fs)
	}
	if *f.tls {
		if err := r.startTLS(iss, *f.stateDir, f.fs); err != nil {
			return fail(exitFailure, err)
		}
	}
	r.base = strings.TrimSuffix(iss, "/")
	if *f.issuer == "" {
		// The file's issuer: (or the address's, without one) is served:
		// a reload of the file cannot move it. --issuer overrides the key.
		r.store.ServesIssuer(iss)
	}
	warnOwnIssuerServers(cfg, r.base)
	if len(cfg.Tenants) > 0 {
		return r.startTenants(cfg, f.startFiles(), f.keyCacheDir(), clock, f.demoEvents)
	}
	endpoint, setKey := pushEndpoints(cfg, f.demoEvents)
	srv, closeAudit, err := newIdP(cfg, iss, *f.stateDir, *f.auditLog, f.keyCacheDir(), clock, setKey)
	if err != nil {
		return fail(exitFailure, err)
	}
	r.srv = srv
	r.closers = append(r.closers, closeAudit, func() { srv.Close() })
	if setKey {
		if err := ensureDemoSETKey(srv); err != nil {
			return fail(exitFailure, err)
		}
	}
	pusher, err := push.New(push.Options{Issuer: iss, Signer: srv, Audit: srv.Audit(), Config: cfg, Now: srv.Now, Endpoint: endpoint, Dir: *f.stateDir})
	if err != nil {
		return fail(exitFailure, err)
	}
	r.closers = append(r.closers, pusher.Close)
	r.handler = logRequests(app.New(app.Options{IdP: srv, Store: r.store, Push: pusher, Hosts: []string{r.addrHost}, CAFile: r.caFileArg()}))
	r.closers = append(r.closers, r.store.Watch(time.Second))
	if *f.config == "" {
		slog.Info("serving the embedded demo configuration (password = username); changes through the admin API live in memory", "users", userList(cfg))
	} else {
		slog.Info("serving "+*f.config, "users", userList(cfg), "clients", len(cfg.Clients), "mcp_servers", len(cfg.MCPServers))
	}
	return r, exitOK
}

// startFiles are the state directory and the audit log file of a start
// ("" when not given), and the settings that gave them as the user set
// them (settingName): XAA_IDP_STATE_DIR in a container, which is given
// variables, not flags (README, "In a container").
type startFiles struct {
	stateDir, auditLog               string
	stateDirSetting, auditLogSetting string
}

func (f *idpFlags) startFiles() startFiles {
	return startFiles{
		stateDir: *f.stateDir, auditLog: *f.auditLog,
		stateDirSetting: settingName(f.fs, "state-dir", "state-dir"), auditLogSetting: settingName(f.fs, "audit-log", "audit-log"),
	}
}

// withFileHint adds to an error that stops the start what to do when a
// file it names refused the IdP: one that another user owns or that its
// mode closes to the IdP's user (restored as root, or made by an IdP once
// started with sudo), a full disk, a read-only file system. The hint
// names the setting of files whose file it is (until 2026-12-07 it said
// --state-dir to a start given only --audit-log, and the flag to a start
// given the variable).
func withFileHint(err error, files startFiles) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		who := "uid " + strconv.Itoa(os.Getuid())
		if u, uerr := user.Current(); uerr == nil && u.Username != "" {
			who += " (" + u.Username + ")"
		}
		return fmt.Errorf("%w; the IdP runs as %s: give that user the file and its directory (chown, chmod u+rw), or run the IdP as their owner", err, who)
	case errors.Is(err, syscall.ENOSPC):
		if flag := fileFlag(err, files); flag != "" {
			return fmt.Errorf("%w; free space on that file system, or give %s on another one, and start again", err, flag)
		}
		return fmt.Errorf("%w; free space on that file system and start again", err)
	case errors.Is(err, syscall.EROFS):
		if flag := fileFlag(err, files); flag != "" {
			return fmt.Errorf("%w; that file system is mounted read-only: give %s on a writable one", err, flag)
		}
		return fmt.Errorf("%w; that file system is mounted read-only: make it writable and start again", err)
	}
	return err
}

// fileFlag is the setting of files that gave the file err names: the
// audit log's for its file, the state directory's for a file under it; ""
// for another file (a key cache, a profile) or a setting not given. An
// error that names no file (the system's alone) is the one given's, or
// either's when both were: until 2026-12-07 it was the state directory's,
// whichever file it was.
func fileFlag(err error, files startFiles) string {
	stateDir, auditLog := files.stateDir, files.auditLog
	var name string
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		name = pe.Path
	} else if le, ok := errors.AsType[*os.LinkError](err); ok {
		name = le.New // a rename's: the file it was to replace
	}
	if name == "" {
		switch {
		case auditLog != "" && stateDir != "":
			return files.stateDirSetting + " or " + files.auditLogSetting + " (whichever is on it)"
		case auditLog != "":
			return files.auditLogSetting
		case stateDir != "":
			return files.stateDirSetting
		}
		return ""
	}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return filepath.Clean(p)
	}
	path := abs(name)
	switch {
	case auditLog != "" && path == abs(auditLog):
		return files.auditLogSetting
	case stateDir != "" && (path == abs(stateDir) || strings.HasPrefix(path, abs(stateDir)+string(filepath.Separator))):
		return files.stateDirSetting
	}
	return ""
}

// stateDirs are the directories of stateDir that an IdP writes with
// atomicfile: the state directory, its keys and local CA, and each tenant's
// directory and keys (of every tenant that had one, configured or not).
// Nothing else under it is the IdP's to clean or to read at start.
func stateDirs(stateDir string) []string {
	dirs := []string{stateDir, filepath.Join(stateDir, "keys"), filepath.Join(stateDir, localca.Subdir)}
	tenants := filepath.Join(stateDir, "tenants")
	entries, _ := os.ReadDir(tenants)
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(tenants, e.Name()), filepath.Join(tenants, e.Name(), "keys"))
		}
	}
	return dirs
}

// warnLooseKeys warns of the state directory's private keys (signing
// keys, the previous keys, the local CA's key) that other users may read,
// who could sign tokens with them, and of its key directories they may
// write, who could swap a key: a state directory copied without its modes
// (cp -r under umask 022, a checkout, an archive) has both, and a start
// reads them as they are. serve makes them 0600 and 0700, and a rotation
// tightens the key files it writes.
func warnLooseKeys(stateDir string) {
	for _, dir := range stateDirs(stateDir)[1:] {
		if fi, err := os.Stat(dir); err == nil && looseMode(fi, 0o022) {
			slog.Warn("a key directory of the state directory is writable by other users, who could replace its keys; chmod go-w it (serve makes new ones 0700)",
				"dir", dir, "mode", fi.Mode().Perm().String())
		}
		names, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
		for _, name := range append(names, filepath.Join(dir, "previous.json")) {
			if filepath.Base(name) == localca.CertName {
				continue // the CA's certificate, which clients are given
			}
			if fi, err := os.Stat(name); err == nil && looseMode(fi, 0o077) {
				slog.Warn("a private key of the state directory is readable or writable by other users, who could sign tokens or certificates with it, or replace it; chmod 600 it (serve writes keys 0600)",
					"file", name, "mode", fi.Mode().Perm().String())
			}
		}
	}
}

// reportRemoved says which temporary files a process killed while it
// replaced a file had left, now removed: the start's repairs are said, not
// silent.
func reportRemoved(paths []string) {
	for _, p := range paths {
		slog.Warn("removed a temporary file left by an xaa-idp process that was killed while replacing a file; the file itself is whole (the old or the new version)", "temporary", p)
	}
}

// check refuses a malformed --addr or --issuer, an --addr whose host is
// no address, and a log format or level that is none, as the bad usage
// they are (exit 2), before anything starts or any file is made; a
// well-formed address that cannot be listened on is a runtime failure,
// found by listen.
func (f *idpFlags) check() error {
	if err := f.logs.check(); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(*f.addr)
	if err == nil {
		_, err = net.LookupPort("tcp", port)
	}
	if err != nil {
		return fmt.Errorf("%s: %v; want HOST:PORT such as 127.0.0.1:8080 (port 0 picks a free port)", flagValue(f.fs, "addr", *f.addr), unwrapAddrError(err))
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%s: %q is not a host name or IP address; want HOST:PORT such as 127.0.0.1:8080", flagValue(f.fs, "addr", *f.addr), host)
	}
	if err := checkListenHost(host); err != nil {
		return fmt.Errorf("%s: %v; want HOST:PORT with an IP address such as 127.0.0.1:8080 or 0.0.0.0:8080, or a name this machine resolves such as localhost:8080", flagValue(f.fs, "addr", *f.addr), err)
	}
	if *f.issuer != "" {
		if err := policy.CheckIssuer(*f.issuer); err != nil {
			return fmt.Errorf("%s: %v", flagRef(f.fs, "issuer"), err)
		}
	}
	if why := notADirectory(*f.stateDir); why != "" {
		// The lock's "mkdir FILE: not a directory" named no flag.
		return fmt.Errorf("%s %s: give a directory (one that does not exist yet is made)", flagValue(f.fs, "state-dir", *f.stateDir), why)
	}
	return nil
}

// notADirectory says why dir, a --state-dir, can be no directory, or ""
// when it can (dir "" too): it is a file, or a path under a file
// (FILE/sub), which no mkdir makes.
func notADirectory(dir string) string {
	if dir == "" {
		return ""
	}
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return "is not a directory"
	case errors.Is(err, syscall.ENOTDIR):
		return "is not a directory (a part of its path is a file)"
	}
	return ""
}

// checkBind refuses a demo --bind that is no host to listen on: a
// HOST:PORT (the ports are the configuration's), a host that is no address.
func checkBind(fs *flag.FlagSet, bind string) error {
	if bind == "" {
		return nil
	}
	const want = "want the host alone, an IP address such as 0.0.0.0 or 127.0.0.1, or a name this machine resolves (the ports are the configuration's)"
	if _, _, err := net.SplitHostPort(bind); err == nil {
		return fmt.Errorf("%s: a HOST:PORT; %s", flagValue(fs, "bind", bind), want)
	}
	if err := checkListenHost(bind); err != nil {
		return fmt.Errorf("%s: %v; %s", flagValue(fs, "bind", bind), err, want)
	}
	return nil
}

// checkListenHost refuses a host that cannot be listened on: one that
// looks like an IP address but is none (999.1.1.1), or a name that does
// not resolve. An empty host (every interface) and an IP address need no
// lookup.
func checkListenHost(host string) error {
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if strings.Trim(host, "0123456789.") == "" || strings.Contains(host, ":") {
		return fmt.Errorf("%q is not an IP address", host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := net.DefaultResolver.LookupHost(ctx, host); err != nil {
		if de, ok := errors.AsType[*net.DNSError](err); ok {
			err = errors.New(de.Err)
		}
		return fmt.Errorf("%q is no IP address and does not resolve (%v)", host, err)
	}
	return nil
}

// unwrapAddrError drops net.AddrError's repetition of the address.
func unwrapAddrError(err error) error {
	if ae, ok := errors.AsType[*net.AddrError](err); ok {
		return errors.New(ae.Err)
	}
	return err
}

// listen listens on addr; a port in use is reported with the flag or
// setting that chose it and the likely cause.
func listen(addr, setting string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	return ln, listenError(addr, setting, err)
}

// listenError is listen's error err, said with its likely cause.
func listenError(addr, setting string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("cannot listen on %s: %w (is another xaa-idp running? stop it with Ctrl-C, or pick another port with %s)", addr, syscall.EADDRINUSE, setting)
	}
	if errors.Is(err, syscall.EACCES) {
		// Not wrapped: withFileHint would take it for a file's refusal.
		return fmt.Errorf("cannot listen on %s: %v (ports below 1024 need root or CAP_NET_BIND_SERVICE; pick a port from 1024 up with %s)", addr, err, setting)
	}
	return err
}

// defaultIssuer is the issuer for the address actually bound. An
// unspecified address (0.0.0.0, ::) is no address a client can use, so
// the issuer names loopback, and says how to choose another: with
// XAA_IDP_ISSUER when the address came from XAA_IDP_ADDR (a container's
// -e), else with --issuer (fs, settingName).
func defaultIssuer(a *net.TCPAddr, https bool, fs *flag.FlagSet) string {
	if a.IP.IsUnspecified() {
		slog.Info(fmt.Sprintf("listening on every interface (%s), but the issuer uses loopback: clients on other machines need %s with a name they reach this machine by", a, settingValue(fs, "issuer", defaultIssuerNamed("HOST", a, https), "addr")))
		return defaultIssuerNamed("127.0.0.1", a, https)
	}
	return defaultIssuerNamed(a.IP.String(), a, https)
}

// warnIssuerElsewhere warns when the issuer given (from: "--issuer",
// XAA_IDP_ISSUER or the configuration's) is on this machine, a loopback
// host, but names another port than the one listened on at a: serve
// prints it, and clients that use it reach another port (nothing, or
// another IdP), unless a port forward leads here. An issuer of another
// host is a proxy's: not judged.
func warnIssuerElsewhere(iss, from string, a *net.TCPAddr, fs *flag.FlagSet) {
	u, err := url.Parse(iss)
	if err != nil {
		return
	}
	host := u.Hostname()
	if !demo.LoopbackHost(host) {
		return
	}
	if !a.IP.IsLoopback() && !a.IP.IsUnspecified() {
		return
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	bound := strconv.Itoa(a.Port)
	if port == bound {
		return
	}
	fix := *u
	fix.Host = net.JoinHostPort(host, bound)
	slog.Warn(fmt.Sprintf("%s is %s, but this IdP listens on %s: clients that use the issuer reach port %s, not this IdP, unless a port forward leads here; give %s, or leave the issuer out to get the address bound",
		from, iss, a, port, settingValue(fs, "issuer", fix.String(), "issuer", "addr")))
}

// warnOwnIssuerServers says at start which MCP servers name the IdP (or
// their tenant, or another tenant) as their authorization server: with the
// issuer from --issuer or --addr, check could not tell, and every exchange
// for them is invalid_target (policy.Request.IdPIssuer, OtherTenants).
func warnOwnIssuerServers(cfg *policy.Config, base string) {
	for _, c := range cfg.IdPs() {
		others := cfg.OtherTenants(c, base) // none without tenants
		for _, s := range c.MCPServers {
			// Path: a tenant's, else "".
			switch t, at := policy.IdPIssuerOf(s.Issuer, base+c.Path, others); {
			case at && t == "":
				slog.Warn(fmt.Sprintf("MCP server %s: its issuer %s is this IdP's issuer, and the IdP redeems no ID-JAG: every token exchange for it is refused (invalid_target); give the issuer of the MCP server's own authorization server", s.ID, s.Issuer))
			case at:
				slog.Warn(fmt.Sprintf("MCP server %s of tenant %s: its issuer %s is tenant %s's issuer, and no tenant redeems an ID-JAG: every token exchange for it is refused (invalid_target); give the issuer of the MCP server's own authorization server", s.ID, c.ID, s.Issuer, t))
			}
		}
	}
}

// defaultIssuerNamed is defaultIssuer with the host name host for the
// address.
func defaultIssuerNamed(host string, a *net.TCPAddr, https bool) string {
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(a.Port))
}

// caFileArg is the --ca-file argument of the commands the landing pages
// suggest: the local CA's certificate under --tls, quoted for a shell.
func (r *runningIdP) caFileArg() string {
	if r.ca == nil {
		return ""
	}
	return shellQuote(r.ca.CertPath())
}

// listensAs is the names of the address the IdP listens on, besides the
// loopback names: the host of --addr as given (an IP address, or a name
// such as the machine's) and the address it was bound to, unless it is
// every interface's. healthcheck probes there (healthTarget), and the
// issuer may name another host, a service name or a proxy's.
func (r *runningIdP) listensAs() []string {
	var names []string
	if ip, err := netip.ParseAddr(r.addrHost); err == nil {
		if !ip.IsUnspecified() {
			names = append(names, ip.WithZone("").String())
		}
	} else if r.addrHost != "" {
		names = append(names, r.addrHost)
	}
	if a, ok := r.ln.Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		names = append(names, a.IP.String())
	}
	return names
}

// startTLS serves the IdP's listener over TLS with a certificate of the
// local CA in stateDir (a temporary directory, removed at exit, without
// one) for the issuer's host, the address it listens on (listensAs) and
// the loopback names. fs names the settings in what it logs.
func (r *runningIdP) startTLS(issuer, stateDir string, fs *flag.FlagSet) error {
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("issuer %q: %w", issuer, err)
	}
	if stateDir == "" {
		tmp, err := os.MkdirTemp("", "xaa-idp-tls-")
		if err != nil {
			return err
		}
		r.closers = append(r.closers, removeAtForcedExit(tmp))
		stateDir = tmp
		stateDirName := settingName(fs, "state-dir", "tls")
		slog.Warn(fmt.Sprintf("no %s: the local CA is in a temporary directory, new on every start and removed at exit; give %s to keep one CA to trust", stateDirName, stateDirName), "dir", tmp)
	}
	ca, created, err := localca.Open(stateDir)
	if err != nil {
		return err
	}
	if created {
		slog.Info("created a local CA for "+flagRef(fs, "tls"), "ca_file", ca.CertPath())
	}
	cert, err := ca.ServerCertificate(append([]string{u.Hostname()}, r.listensAs()...)...)
	if err != nil {
		return err
	}
	r.ca = ca
	r.ln = tls.NewListener(r.ln, serverTLS(cert)) // h2 and http/1.1
	trustForOwnRequests(ca)
	slog.Info("serving https; clients trust the CA with --ca-file, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS", "ca_file", ca.CertPath())
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stdout, stderr)
	flags := addIdPFlags(fs)
	clockAt := fs.String("clock", "", "start the IdP's clock at this RFC 3339 time (it then runs on; see --clock-frozen and PUT /admin/api/clock)")
	clockFrozen := fs.Bool("clock-frozen", false, "stop the IdP's clock (at --clock, or at the start time)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (go tool pprof) to this file until exit, for performance work (README, \"Performance\")")
	var proxies listFlag
	fs.Var(&proxies, "trusted-proxies", "reverse proxies (IP addresses or networks, comma-separated) whose X-Forwarded-For names the client address that throttles count (README, \"Behind a reverse proxy\"); default none: the TCP peer")
	if code, stop := parse(fs, args); stop {
		return code
	}
	errOut := flags.logs.errorOutput(stderr)
	// Every flag is checked before the profile file is made.
	if err := flags.check(); err != nil {
		fmt.Fprintln(errOut, "xaa-idp:", err)
		return exitUsage
	}
	trusted, err := clientaddr.Parse(proxies)
	if err != nil {
		fmt.Fprintf(errOut, "xaa-idp: %s: %v\n", flagRef(fs, "trusted-proxies"), err)
		return exitUsage
	}
	clock, err := newClock(fs, *clockAt, *clockFrozen)
	if err != nil {
		fmt.Fprintln(errOut, "xaa-idp:", err)
		return exitUsage
	}
	setGCTarget()
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(errOut, "xaa-idp: --cpuprofile:", err)
			return exitFailure // the file system refused it, as for --audit-log
		}
		defer stop()
	}
	r, code := flags.start(ctx, stderr, clock)
	if r == nil {
		return code
	}
	defer r.close()
	// The issuer alone on stdout, once the listener accepts: scripts read
	// this line to learn where the IdP is.
	fmt.Fprintln(stdout, r.srv.Issuer())
	// Where keys and events are kept: an operator reading the log learns it
	// here, or that the audit log is kept in memory alone.
	kept := []any{"audit_log", "memory"}
	if auditFile := *flags.auditLog; auditFile != "" || *flags.stateDir != "" {
		if auditFile == "" {
			auditFile = filepath.Join(*flags.stateDir, "audit.jsonl")
		}
		kept[1] = auditFile
	}
	if *flags.stateDir != "" {
		kept = append([]any{"state_dir", *flags.stateDir}, kept...)
	}
	slog.Info("serving", append(append([]any{"issuer", r.srv.Issuer(), "console", r.srv.Issuer() + "/admin/", "addr", r.ln.Addr().String()},
		kept...), "clock", r.srv.Now().UTC().Format(time.RFC3339), "clock_frozen", r.srv.Clock().Frozen())...)
	stopping := logStopping(ctx)
	defer stopping()
	if len(trusted) > 0 {
		slog.Info("client addresses of requests from trusted proxies are read from X-Forwarded-For", "trusted_proxies", proxies.String())
	}
	if err := serveUntilDone(ctx, r.ln, trusted.Handler(r.handler)); err != nil {
		fmt.Fprintln(errOut, "xaa-idp:", err)
		return exitFailure
	}
	stopping()
	r.stopped() // as demo: a clean stop, told from a kill
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
// live in memory, with its loopback URLs made https when httpsLoopback.
func openStore(file string, httpsLoopback bool) (*policy.Store, error) {
	if file == "" && httpsLoopback {
		return policy.NewStore(httpsLoopbackURLs(fixtures.Demo), fixtures.DemoFile)
	}
	if file == "" {
		return policy.NewStore(fixtures.Demo, fixtures.DemoFile)
	}
	// A key file that cannot be used is told at its line, as check does.
	fc := policy.FileChecks{KeyFile: signer.CheckKeyFile, KeyThumbprint: signer.KeyFileThumbprint}
	if httpsLoopback {
		// The file keeps what its author wrote; the demo serves it https.
		fc.View = httpsServed
	}
	return policy.OpenStoreChecked(file, fc)
}

// startTenants builds one IdP per tenant, each with the base URL
// followed by the tenant's path as its issuer and its keys and pending
// Security Event Tokens under <stateDir>/tenants/<id>/, sharing one audit
// log, and serves them together (app.Tenants). Each tenant pushes its
// revocations (push.New) signed with its own keys, to its servers'
// events_endpoint or, with demoEvents, to their demo authorization
// servers.
func (r *runningIdP) startTenants(cfg *policy.Config, files startFiles, keyCache string, clock *idp.Clock, demoEvents bool) (*runningIdP, int) {
	stateDir, auditFile := files.stateDir, files.auditLog
	fail := func(code int, err error) (*runningIdP, int) {
		slog.Error(withFileHint(err, files).Error())
		r.close()
		return nil, code
	}
	if clock == nil {
		clock = idp.NewClock(nil)
	}
	log, closeAudit, err := openAudit(stateDir, auditFile, clock)
	if err != nil {
		return fail(exitFailure, err)
	}
	r.closers = append(r.closers, closeAudit)
	var tenants []app.Tenant
	for _, t := range cfg.Tenants {
		dir := ""
		if stateDir != "" {
			dir = filepath.Join(stateDir, "tenants", t.ID)
		}
		// Each tenant has keys of its own (docs/configuration.md, "Tenants"), the cached
		// RS256 key too.
		cache := keyCache
		if cache != "" {
			cache = filepath.Join(cache, "tenants", t.ID)
		}
		endpoint, setKey := pushEndpoints(t, demoEvents)
		srv, err := idp.New(idp.Options{Config: t, Tenant: t.ID, SharedAudit: len(cfg.Tenants) > 1, OtherTenants: cfg.OtherTenants(t, r.base),
			Issuer: r.base + t.Path, StateDir: dir, KeyCacheDir: cache, SecEventKey: setKey, Audit: log, Clock: clock})
		if err != nil {
			return fail(exitFailure, fmt.Errorf("tenant %s: %w", t.ID, err))
		}
		r.closers = append(r.closers, func() { srv.Close() })
		if setKey {
			if err := ensureDemoSETKey(srv); err != nil {
				return fail(exitFailure, fmt.Errorf("tenant %s: %w", t.ID, err))
			}
		}
		pusher, err := push.New(push.Options{Issuer: srv.Issuer(), Signer: srv, Audit: srv.Audit(), Config: t, Now: srv.Now, Endpoint: endpoint, Dir: dir})
		if err != nil {
			return fail(exitFailure, fmt.Errorf("tenant %s: %w", t.ID, err))
		}
		r.closers = append(r.closers, pusher.Close)
		r.tenants = append(r.tenants, srv)
		tenants = append(tenants, app.Tenant{IdP: srv, Store: r.store.Tenant(t.ID), Push: pusher, CAFile: r.caFileArg()})
		slog.Info("tenant", "id", t.ID, "persona", srv.Config().Knobs().Persona, "issuer", srv.Issuer(), "console", srv.Issuer()+"/admin/")
	}
	if err := sharedKeys(cfg.Tenants, r.tenants); err != nil {
		return fail(exitFailure, err)
	}
	r.srv = tenants[0].IdP
	r.handler = logRequests(app.Tenants(tenants, r.addrHost))
	r.closers = append(r.closers, r.store.Watch(time.Second))
	return r, exitOK
}

// sharedKeys refuses tenants (cfgs, served by srvs) of which two hold one
// signing key, in any two files (a state directory's key file copied into
// another tenant's, one file or two copies of one key in two tenants'
// key_files): each issuer has keys of its own (README, "Several issuers"),
// and tenants sharing one would publish one kid, so that a resource server
// that picks the key by kid would take one tenant's tokens for the other's.
func sharedKeys(cfgs []*policy.Config, srvs []*idp.Server) error {
	type holder struct{ tenant, file string }
	seen := map[string]holder{}
	for i, srv := range srvs {
		for _, k := range srv.HeldKeys() {
			first, ok := seen[k.Thumbprint]
			if !ok {
				seen[k.Thumbprint] = holder{cfgs[i].ID, k.File}
				continue
			}
			if first.tenant == cfgs[i].ID {
				continue
			}
			return fmt.Errorf("tenants %s and %s hold the same signing key (%s and %s): each tenant signs with keys of its own, or a resource server that trusts one would take the other's tokens; remove %s if it was copied there (a new key is made at the next start), or give tenant %s a key file of its own in its signing.key_files (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256), and start again",
				first.tenant, cfgs[i].ID, first.file, k.File, k.File, cfgs[i].ID)
		}
	}
	return nil
}

// openAudit opens the audit log (the file when asked for, else
// <stateDir>/audit.jsonl when there is a state directory) and logs its
// events; closeAudit closes it once every event is logged.
func openAudit(stateDir, auditFile string, clock *idp.Clock) (*audit.Log, func(), error) {
	if auditFile == "" && stateDir != "" {
		if err := os.MkdirAll(stateDir, 0o700); err != nil {
			return nil, nil, err
		}
		auditFile = filepath.Join(stateDir, "audit.jsonl")
	}
	log, err := audit.Open(audit.Options{Path: auditFile, Now: clock.Now})
	if err != nil {
		return nil, nil, auditLogError{err}
	}
	if n := log.TornBytes(); n > 0 {
		slog.Warn("removed the torn last line of the audit log: the write of events that a crash cut short, which were never acknowledged", "file", auditFile, "bytes", n)
	}
	logged := logAudit(log, slog.Default())
	return log, func() { log.Close(); <-logged }, nil
}

// auditLogError is an error of opening the audit log, said as the audit
// log's once: the audit package's own errors begin with "audit: ".
type auditLogError struct{ err error }

func (e auditLogError) Error() string {
	return "audit log: " + strings.TrimPrefix(e.err.Error(), "audit: ")
}

func (e auditLogError) Unwrap() error { return e.err }

// newIdP opens the audit log (file when asked for), logs its events, and
// builds the IdP, which keeps its generated RS256 key in keyCache
// (keyCacheDir). closeAudit closes the log once every event is logged. A
// nil clock means the wall clock.
func newIdP(cfg *policy.Config, issuer, stateDir, auditFile, keyCache string, clock *idp.Clock, setKey bool) (srv *idp.Server, closeAudit func(), err error) {
	if clock == nil {
		clock = idp.NewClock(nil)
	}
	log, closeAudit, err := openAudit(stateDir, auditFile, clock)
	if err != nil {
		return nil, nil, err
	}
	srv, err = idp.New(idp.Options{Config: cfg, Issuer: issuer, StateDir: stateDir, KeyCacheDir: keyCache, SecEventKey: setKey, Audit: log, Clock: clock})
	if err != nil {
		closeAudit()
		return nil, nil, err
	}
	return srv, closeAudit, nil
}

// keyCacheDir is where, without --state-dir, the IdP keeps its generated
// RS256 key for the next start: the user's cache directory
// ($XDG_CACHE_HOME or ~/.cache on Linux), xaa-idp/. "" when there is none,
// or with a state directory, which keeps every key: then every start
// generates the key. A cache directory that cannot be made (a container's
// read-only root) is said once, in plain words, with how to keep the keys:
// not as the signer's failure to write the key, in the system's words, at
// every start (README, "In a container").
func (f *idpFlags) keyCacheDir() string {
	if *f.stateDir != "" {
		return ""
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	dir = filepath.Join(dir, "xaa-idp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		why := "it cannot be made"
		switch {
		case errors.Is(err, syscall.EROFS):
			why = "its file system is read-only"
		case errors.Is(err, fs.ErrPermission):
			why = "this user may not write there"
		case errors.Is(err, syscall.ENOSPC):
			why = "its file system is full"
		}
		slog.Info(fmt.Sprintf("the signing keys are new on every start, so tokens signed before a restart no longer verify after it, and the RS256 key is not kept in the cache directory %s either (%s); to keep the keys, give %s a writable directory",
			dir, why, settingName(f.fs, "state-dir", "addr", "issuer", "tls", "config")))
		return ""
	}
	return dir
}

// newClock is the IdP's clock for --clock and --clock-frozen.
func newClock(fs *flag.FlagSet, at string, frozen bool) (*idp.Clock, error) {
	c := idp.NewClock(nil)
	if frozen {
		c.Freeze()
	}
	if at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return nil, fmt.Errorf("%s: want an RFC 3339 time such as 2030-01-01T00:00:00Z", flagValue(fs, "clock", at))
		}
		if err := idp.CheckClockTime(t); err != nil {
			return nil, fmt.Errorf("%s: %v", flagRef(fs, "clock"), err)
		}
		c.Set(t)
	}
	return c, nil
}

// serverLimits bound what one connection may hold of the server: a client
// that sends its headers or body a byte at a time (slowloris) is cut off,
// and an idle keep-alive connection is closed.
type serverLimits struct {
	// readHeader is the time to send the request line and headers.
	readHeader time.Duration
	// readBody is the time to send a request body, from the end of the
	// headers. It is a per-request read deadline rather than
	// http.Server.ReadTimeout: that deadline would stay on the connection
	// while the handler runs, and net/http cancels the request's context
	// when its background read hits it, which would end the audit live
	// tail (a long-lived response) after 30 s.
	readBody time.Duration
	idle     time.Duration
	// write is the time to deliver a response, from the start of its
	// handler (0: none). Without it a client that reads nothing (or
	// pipelines requests and reads none of the answers) holds its
	// connection and handler for ever, past every read limit. A handler
	// that streams sets its own deadline before each write (the audit live
	// tail), which overrides this one.
	write time.Duration
	// maxHeader bounds the request line and headers, in bytes.
	maxHeader int
	// maxConns bounds the open connections (internal/connlimit); 0: the
	// default for the process's descriptor limit (defaultMaxConns).
	maxConns int
	// conns, when set, is the bound, shared with other servers of the
	// process (demo's); maxConns is then ignored.
	conns *connlimit.Limiter
	// endAtStop, when set, is how long after a stop begins the requests
	// still in progress see their context end: a stream that lasts until
	// then (a demo MCP server's subscriptions/listen) ends, rather than
	// hold the stop for shutdownWait; a request answered within it is not
	// disturbed.
	endAtStop time.Duration
}

// defaultLimits are the limits of serve and demo (README, "Limits and
// throttles"). No http.Server.WriteTimeout: the audit live tail streams
// for as long as its reader stays, extending the write deadline that
// deadlines sets at each write.
var defaultLimits = serverLimits{readHeader: 10 * time.Second, readBody: 30 * time.Second, idle: 120 * time.Second, write: 60 * time.Second, maxHeader: 64 << 10}

// newHTTPServer is the http.Server for h with the limits l, and the
// listener to serve it on: ln, bounded to l.maxConns open connections.
func newHTTPServer(h http.Handler, ln net.Listener, l serverLimits) (*http.Server, net.Listener) {
	hs, ln, _ := newGatedHTTPServer(h, ln, l)
	return hs, ln
}

// newGatedHTTPServer is newHTTPServer with the gate its requests pass
// (internal/stopgate), which a stop closes once the requests in progress
// had their time.
func newGatedHTTPServer(h http.Handler, ln net.Listener, l serverLimits) (*http.Server, net.Listener, *stopgate.Gate) {
	conns := l.conns
	if conns == nil {
		n := l.maxConns
		if n == 0 {
			n = defaultMaxConns()
		}
		conns = connlimit.New(n)
	}
	// Shutdown waits for connections to go idle; the console's live
	// tails end when it begins (web.WithStopping), not at its deadline.
	stopping := make(chan struct{})
	base, endRequests := context.WithCancel(context.Background())
	gate := stopgate.New(app.RefuseStopping)
	hs := &http.Server{
		Handler:           gate.Wrap(deadlines(h, l)),
		ReadHeaderTimeout: l.readHeader,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeader,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: maxHTTP2Streams},
		ConnState:         conns.ConnState,
		ErrorLog:          httpErrorLog,
		BaseContext: func(net.Listener) context.Context {
			return web.WithStopping(base, stopping)
		},
	}
	var once sync.Once
	hs.RegisterOnShutdown(func() {
		once.Do(func() {
			close(stopping)
			if l.endAtStop > 0 {
				time.AfterFunc(l.endAtStop, endRequests)
			}
		})
	})
	return hs, conns.Listener(ln), gate
}

// maxConnsCap bounds the open connections whatever the descriptor limit:
// an idle connection holds some 10 KiB of memory.
const maxConnsCap = 10000

// maxHTTP2Streams bounds the requests one HTTP/2 connection may have in
// progress (SETTINGS_MAX_CONCURRENT_STREAMS), so that maxConns bounds the
// requests under HTTP/2 too: Go's default, 250, let each connection hold
// 250 handlers waiting for their bodies, some 15 KiB each.
const maxHTTP2Streams = 16

// defaultMaxConns is the bound of open connections: three quarters of
// the process's descriptor limit (the rest for its files, the audit log,
// the keys, CIMD fetches and revocation pushes), at most maxConnsCap.
func defaultMaxConns() int {
	n := fileLimit() / 4 * 3
	return min(max(n, 16), maxConnsCap)
}

// deadlines gives a request with a body l.readBody to send it, and every
// response l.write to be delivered. The connection's read deadline is set
// when the handler starts and lifted once the body is read to its end or
// closed, so that it cannot cut a long response (see serverLimits.readBody).
// A request without a body needs none. The write deadline also covers the
// flush of the response after the handler returns.
func deadlines(h http.Handler, l serverLimits) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if l.write > 0 {
			if err := rc.SetWriteDeadline(time.Now().Add(l.write)); err != nil {
				h.ServeHTTP(w, r) // a writer without deadlines (a test recorder)
				return
			}
		}
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		if err := rc.SetReadDeadline(time.Now().Add(l.readBody)); err != nil {
			h.ServeHTTP(w, r)
			return
		}
		// On a copy of the request: net/http keeps the one it made and,
		// once the handler is done, looks at its Body to learn whether
		// the client still waits for a 100 Continue. Replaced in place,
		// it looked like a body to drain, and a refusal sent before the
		// body was read (a 401, a 413 for a declared length) waited for
		// a body that an Expect: 100-continue client never sends, until
		// readBody cut it.
		r2 := new(http.Request)
		*r2 = *r
		r2.Body = &deadlineBody{ReadCloser: r.Body, w: w}
		h.ServeHTTP(w, r2)
	})
}

// deadlineBody lifts the read deadline of w's connection once the body is
// read to its end. It and the copy of the request are the allocations
// deadlines makes per request with a body: the ResponseControllers are
// made where they are used, on the stack.
type deadlineBody struct {
	io.ReadCloser
	w      http.ResponseWriter
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		_ = http.NewResponseController(b.w).SetReadDeadline(time.Time{})
	}
	return n, err
}

// serveUntilDone serves until ctx ends (SIGINT/SIGTERM), then drains
// requests in flight for a few seconds.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	return serveWithLimits(ctx, ln, h, defaultLimits)
}

func serveWithLimits(ctx context.Context, ln net.Listener, h http.Handler, l serverLimits) error {
	hs, ln, gate := newGatedHTTPServer(h, ln, l)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	switch err := hs.Shutdown(sctx); {
	case errors.Is(err, context.DeadlineExceeded):
		// Why a stop took this long: a request (a stream) that did not
		// end. Its connection is cut as the process exits.
		slog.Warn(shutdownCutOff, "waited", shutdownWait)
	case err != nil:
		slog.Warn("shutdown", "err", err)
	}
	// Before the caller closes the audit log, the push journal and the
	// stores: a request still in progress would finish against them
	// closed (until 2026-12-06 a token request whose body came then was
	// answered 500), or write what nobody would read back.
	refused, unfinished := gate.Close(stopGateWait)
	if refused > 0 {
		slog.Warn(shutdownRefused, "requests", refused)
	}
	if unfinished {
		slog.Warn("shutdown: requests still working were not waited for longer", "waited", stopGateWait)
	}
	return nil
}

// stopGateWait is how long a stop waits, after shutdownWait, for the
// requests still working (not waiting for their body) to end, and for the
// refusals of the others to be sent.
const stopGateWait = time.Second

// shutdownRefused is the warning of a stop that answered the requests
// still waiting for their body after shutdownWait: 503
// temporarily_unavailable (app.RefuseStopping), having done nothing.
const shutdownRefused = "shutdown: requests still waiting for their body were refused (503 temporarily_unavailable): nothing was done for them"

// logStopping logs `stopping` when ctx ends (the first SIGINT, SIGTERM or
// SIGHUP), with how long the stop may wait and that a second signal
// stops at once: until 2026-12-06 a Ctrl-C was followed by up to 8 s of
// silence. The function it returns ends the watch; once it has returned,
// `stopping` was logged if ctx had ended, so it comes before `stopped`.
// A second call does nothing.
func logStopping(ctx context.Context) (done func()) {
	end, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
		case <-end:
			if ctx.Err() == nil {
				return
			}
		}
		slog.Info("stopping", "waits_at_most", stopWaitsAtMost.String(), "hint", "a second signal stops at once")
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(end) })
		<-exited
	}
}

// stopWaitsAtMost is how long a stop may take: the requests in progress,
// then a revocation's post in flight (README, "Stopping").
const stopWaitsAtMost = shutdownWait + stopGateWait + push.DefaultAttemptTimeout

// shutdownWait is how long a stopping server waits for the requests in
// progress to finish.
const shutdownWait = 5 * time.Second

// shutdownCutOff is the warning of a stop that waited shutdownWait in
// vain.
const shutdownCutOff = "shutdown: requests still in progress were cut off"

// runHealthcheck lets a container image without curl check itself.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stderr = terminalSafe(stderr) // it prints what the server said
	fs := newFlagSet("healthcheck", stdout, stderr)
	target := fs.String("url", "", "the health endpoint to probe (an IdP's URL, its issuer: its /healthz); default: where XAA_IDP_ADDR says serve listens (https with XAA_IDP_TLS, trusting XAA_IDP_STATE_DIR's CA), else XAA_IDP_ISSUER, else "+defaultHealthz)
	caFile := addCAFileFlag(fs)
	if code, stop := parse(fs, args); stop {
		return code
	}
	from := "" // the variables of serve that *target came from
	caGiven := *caFile != ""
	if *target == "" {
		var err error
		*target, *caFile, from, err = healthTarget(*caFile)
		if err != nil {
			fmt.Fprintln(stderr, "xaa-idp healthcheck:", err)
			return exitUsage
		}
	} else if err := checkHTTPURL(fs, "url", *target); err != nil {
		fmt.Fprintln(stderr, "xaa-idp healthcheck:", err)
		return exitUsage
	}
	// Said after a failure: where the URL probed came from.
	fromLine := func() {
		if from != "" {
			fmt.Fprintf(stderr, "xaa-idp healthcheck: it probed %s, from %s; give --url to probe another\n", *target, from)
		}
	}
	// The IdP's base URL, as the other commands take it: its landing page
	// answers 200 however the IdP fares, /healthz does not.
	if u, err := url.Parse(*target); err == nil && (u.Path == "" || u.Path == "/") {
		u.Path, u.RawPath = "/healthz", ""
		*target = u.String()
	}
	client, err := httpClient(fs, *caFile)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp healthcheck:", err)
		return exitUsage
	}
	// No redirect is followed: the console's, say, leads to a sign-in
	// page, whose /healthz is nobody's.
	hc := *client
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	given := *target
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	answered := "" // what the URL given answered, when its /healthz is probed
	for probe := 0; ; probe++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
		if err != nil {
			fmt.Fprintln(stderr, "xaa-idp healthcheck:", err)
			return exitUsage
		}
		resp, err := hc.Do(req)
		if err != nil {
			fmt.Fprintln(stderr, "xaa-idp healthcheck:", err)
			hintUntrusted(stderr, "healthcheck", err)
			if from != "" && !caGiven {
				hintStateDirCA(stderr, err)
			}
			hintRefused(stderr, "healthcheck", "--url", err)
			hintPlainHTTP(stderr, "healthcheck", "--url", *target, err)
			fromLine()
			return exitFailure
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		// A web page, or a redirect (an issuer with a path, a
		// tenant's, to its page with a slash), is an issuer's landing
		// page, which answers whatever the IdP's health: its /healthz
		// is under it.
		html := resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")
		if redirect := resp.StatusCode >= 300 && resp.StatusCode < 400; probe == 0 && (html || redirect) {
			answered = "a web page"
			if redirect {
				answered = fmt.Sprintf("%s to %q", resp.Status, resp.Header.Get("Location"))
			}
			u := *resp.Request.URL
			u.Path, u.RawPath, u.RawQuery = strings.TrimSuffix(u.Path, "/")+"/healthz", "", ""
			*target = u.String()
			continue
		}
		if probe == 1 && resp.StatusCode == http.StatusNotFound {
			// Named as the user gave it: --url, XAA_IDP_URL, or
			// serve's variable it came from.
			subject := flagValue(fs, "url", given)
			if issuer, ok := strings.CutPrefix(from, "XAA_IDP_ISSUER="); ok {
				subject = "XAA_IDP_ISSUER=" + issuer + " (--issuer of serve)"
			} else if from != "" {
				subject = fmt.Sprintf("%q, from %s,", given, from)
			}
			fmt.Fprintf(stderr, "xaa-idp healthcheck: %s is not an issuer: it answered %s, and %s answered %s; give --url the IdP's issuer or its /healthz (such as %s)\n",
				subject, answered, *target, resp.Status, (&url.URL{Scheme: resp.Request.URL.Scheme, Host: resp.Request.URL.Host, Path: "/healthz"}).String())
			return exitFailure
		}
		if resp.StatusCode != http.StatusOK {
			fmt.Fprintln(stderr, "xaa-idp healthcheck:", *target, "answered", resp.Status)
			if speaksHTTPS(resp, body) {
				fmt.Fprintf(stderr, "xaa-idp healthcheck: the server speaks https: give --url https://%s\n", strings.TrimPrefix(*target, "http://"))
			}
			fromLine()
			return exitFailure
		}
		return exitOK
	}
}

// hintStateDirCA adds to hintUntrusted, for healthcheck without --url
// nor --ca-file, that XAA_IDP_STATE_DIR finds the local CA: healthTarget
// trusts the CA of the state directory it names, as a container's health
// check is given it (README, "In a container").
func hintStateDirCA(stderr io.Writer, err error) {
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); !ok {
		return
	}
	stateDir := os.Getenv("XAA_IDP_STATE_DIR")
	if stateDir == "" {
		fmt.Fprintln(stderr, "xaa-idp healthcheck: or set XAA_IDP_STATE_DIR to the IdP's state directory: healthcheck then trusts its local CA")
		return
	}
	if _, err := os.Stat(filepath.Join(stateDir, localca.Subdir, localca.CertName)); err != nil {
		fmt.Fprintf(stderr, "xaa-idp healthcheck: XAA_IDP_STATE_DIR=%q holds no local CA (%s): set it to the state directory of the IdP started with --tls\n", stateDir, filepath.Join(localca.Subdir, localca.CertName))
		return
	}
	fmt.Fprintf(stderr, "xaa-idp healthcheck: the local CA of XAA_IDP_STATE_DIR=%q did not sign the certificate: set it to the state directory of the IdP that answered\n", stateDir)
}

// defaultHealthz is what healthcheck probes when its environment names no
// IdP: serve's default address.
const defaultHealthz = "http://127.0.0.1:8080/healthz"

// healthTarget is what healthcheck probes without --url (nor XAA_IDP_URL):
// the IdP that serve runs when started with the same environment. A
// container's health check runs with the container's variables: where
// its IdP listens (XAA_IDP_ADDR; every interface is probed on loopback),
// whether over https (XAA_IDP_TLS) and, then, the local CA of its state
// directory (XAA_IDP_STATE_DIR) unless caFile is given. Its issuer
// (XAA_IDP_ISSUER) is the clients' URL, a published port or a service
// name that need not lead back into the container: it is probed only
// without an address to probe, as in a CI job that exported the issuer
// serve printed (README, "Testing your client in CI"). from names the
// variables used, for the messages ("" for the default).
func healthTarget(caFile string) (target, ca, from string, err error) {
	addr, issuer, stateDir := os.Getenv("XAA_IDP_ADDR"), os.Getenv("XAA_IDP_ISSUER"), os.Getenv("XAA_IDP_STATE_DIR")
	https := false
	if v := os.Getenv("XAA_IDP_TLS"); v != "" {
		if https, err = strconv.ParseBool(v); err != nil {
			return "", "", "", fmt.Errorf("XAA_IDP_TLS=%q (--tls of serve): invalid value: want true or false", v)
		}
	}
	ca = caFile
	// The CA that serve --tls made, when it has: before, a start
	// still under way is unhealthy, as it is when nothing answers.
	trustState := func() {
		p := filepath.Join(stateDir, localca.Subdir, localca.CertName)
		if _, err := os.Stat(p); ca == "" && stateDir != "" && err == nil {
			ca = p
		}
	}
	if addr == "" && issuer == "" {
		if https {
			trustState()
			return "https://127.0.0.1:8080/healthz", ca, "XAA_IDP_TLS", nil
		}
		return defaultHealthz, ca, "", nil
	}
	if addr != "" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return "", "", "", fmt.Errorf("XAA_IDP_ADDR=%q (--addr of serve): want HOST:PORT such as 0.0.0.0:8080, or give --url", addr)
		}
		if port != "0" {
			if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
				host = "127.0.0.1"
			}
			u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: "/healthz"}
			from = fmt.Sprintf("XAA_IDP_ADDR=%q", addr)
			if https {
				u.Scheme = "https"
				from += " and XAA_IDP_TLS"
				trustState()
			}
			return u.String(), ca, from, nil
		}
		if issuer == "" {
			return "", "", "", fmt.Errorf("XAA_IDP_ADDR=%q (--addr of serve) picks a free port, which healthcheck cannot know: give --url the issuer serve printed", addr)
		}
	}
	from = fmt.Sprintf("XAA_IDP_ISSUER=%q", issuer)
	if u, err := url.Parse(issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", "", fmt.Errorf("%s (--issuer of serve) is not an http or https URL: give --url", from)
	} else if u.Scheme == "https" {
		trustState()
	}
	return issuer, ca, from, nil
}

// gcTarget is the GC's heap growth target (GOGC) of the long-running
// commands, serve and demo, unless GOGC is set. The live heap of an IdP is
// small and bounded (most of it the audit log's in-memory index of the
// newest 10,000 events, about 7 MB) and an exchange allocates about 18 KB,
// so GC costs little CPU either way, while its target sets the resident
// memory: after 100,000 exchanges an RSS of 38 to 40 MB at 50 against 42
// to 43 MB at Go's default of 100, for 2 to 3% more CPU per exchange
// (README, "Performance", "Memory").
const gcTarget = 50

// setGCTarget sets gcTarget unless the GOGC environment variable says
// otherwise (the runtime reads it at start).
func setGCTarget() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcTarget)
	}
}

// startCPUProfile profiles the process's CPU into path until the returned
// function is called (at exit: serve stops on SIGINT and SIGTERM).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// ensureDemoSETKey gives srv an ES256 key when the demo pushes Security
// Event Tokens to some MCP server (pushEndpoints): they are
// ES256 (docs/configuration.md, "Revocation push"), and a configuration whose ID tokens and
// ID-JAGs are RS256 has none, so every push would fail. check asks for one
// only of an explicit events_endpoint; the demo wires the others itself.
// srv was made with idp.Options.SecEventKey, so that with --state-dir a
// restart takes back the key this one kept.
func ensureDemoSETKey(srv *idp.Server) error {
	if err := srv.EnsureSecEventKey(); err != nil {
		return fmt.Errorf("the ES256 key for Security Event Tokens: %w", err)
	}
	return nil
}

// pushEndpoints is where the IdP of cfg pushes each MCP server's Security
// Event Tokens: its events_endpoint, or with demoEvents the demo's
// (demo.EventsEndpoints). setKey says that the demo pushes to some server,
// so that the IdP needs an ES256 key (ensureDemoSETKey).
func pushEndpoints(cfg *policy.Config, demoEvents bool) (endpoint func(*policy.MCPServer) string, setKey bool) {
	endpoint = func(s *policy.MCPServer) string { return s.EventsEndpoint }
	if !demoEvents {
		return endpoint, false
	}
	endpoint = demo.EventsEndpoints(cfg)
	for i := range cfg.MCPServers {
		if endpoint(&cfg.MCPServers[i]) != "" {
			return endpoint, true
		}
	}
	return endpoint, false
}

// warnOnReload logs the warnings of the configuration the store holds
// now, at start, and of every configuration it reloads from the file after
// someone changed it:
// those it did not have before the reload (an admin's change logs its own,
// admin.Config), so that a warning is not repeated at every later reload.
func warnOnReload(store *policy.Store) {
	// Both hooks are called with the store locked, one at a time: a
	// reload is recorded (OnReload) before it runs (OnChange).
	ws := store.Snapshot().Warnings()
	for _, w := range ws {
		slog.Warn(w.String())
	}
	seen := warningSet(ws)
	reloading := ""
	store.OnReload(func(r policy.Reload) error {
		if r.Err == nil {
			reloading = r.Version
		}
		return nil
	})
	store.OnChange(func(*policy.Config) {
		sn := store.Snapshot()
		ws := sn.Warnings()
		if sn.Version == reloading {
			for _, w := range ws {
				if !seen[w.Msg] {
					slog.Warn(w.String())
				}
			}
		}
		seen, reloading = warningSet(ws), ""
	})
}

// warningSet is the messages of ws, which say what is warned of without
// the line, which an edit elsewhere in the file moves.
func warningSet(ws policy.Problems) map[string]bool {
	set := make(map[string]bool, len(ws))
	for _, w := range ws {
		set[w.Msg] = true
	}
	return set
}
