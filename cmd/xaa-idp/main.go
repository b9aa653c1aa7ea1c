// Command xaa-idp is a mock enterprise identity provider for MCP
// Enterprise-Managed Authorization: it logs users in, issues ID-JAGs under
// a YAML policy, and records every decision in an audit log.
//
// Usage: xaa-idp [command] [flags]; without a command it serves the
// embedded demo configuration. `xaa-idp help` lists the commands.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Exit codes (README.md, "Commands").
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the IdP (default command)", runServe},
		{"demo", "run the IdP with the demo MCP authorization servers and MCP servers", runDemo},
		{"connect", "log in once and connect to every assigned MCP server (zero-touch)", runConnect},
		{"login", "log a user in without a browser (code + PKCE) and print the tokens", runLogin},
		{"exchange", "exchange an ID token for an ID-JAG and print it", runExchange},
		{"dpop-proof", "print a DPoP proof of exchange's --dpop-key, for a request to your own authorization server", runDPoPProof},
		{"check", "validate a configuration file", runCheck},
		{"explain", "show the policy decision for a user, client and MCP server", runExplain},
		{"load", "measure token exchanges per second against a running IdP, beside a floor measured in the same run", runLoad},
		{"healthcheck", "exit 0 when a running IdP answers /healthz (for container health checks)", runHealthcheck},
		{"keys", "rotate or list a running IdP's signing keys (admin API)", runKeys},
		{"ca", "print the local CA certificate that serve --tls and demo --tls use, to trust it in a client", runCA},
		{"version", "print the module version, VCS revision and Go version", runVersion},
		{"help", "list the commands; 'help <command>' shows a command's flags", runHelp},
	}
}

func main() {
	// SIGHUP too: a closed terminal, or a logrotate script that sends it to
	// daemons that reopen their logs on it, stops the IdP cleanly rather
	// than kill it in the middle of its requests (the audit log follows a
	// rotation without a signal). Not when started with it ignored (nohup):
	// Notify would stop ignoring it, and the terminal's close would stop
	// the IdP.
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	// Watched from now on, not from the first signal: one sent right
	// after it went to the first's handler alone, and was lost.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, sigs...)
	go forceOnSecondSignal(ctx, signals)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// forceOnSecondSignal ends the process at once when, a stop begun by one
// of the signals that stop it, another arrives: the user who presses
// Ctrl-C again does not want to wait for the requests in progress (up to
// 5 s) and the posts of revocations (3 s more). It is a kill -9 that
// says so: exit status 128+signal, as a shell reports a process a signal
// ended; the audit log and the state directory lose nothing that was
// answered (each answer waited for its event's fsync), and the next start
// repairs a line cut short. signals receives the signals that stop the process from before
// the first: it holds the first, then the second.
func forceOnSecondSignal(ctx context.Context, signals <-chan os.Signal) {
	<-ctx.Done()
	first := <-signals // the one that began the stop
	at := time.Now()
	var sig os.Signal
	for {
		sig = <-signals
		// Not a SIGHUP: systemd's SendSIGHUP=yes follows its SIGTERM
		// with one at once, which would force every stop. Nor the first
		// signal again within a moment: timeout(1) sends its signal to
		// the process and then to its process group, the process again.
		if sig != syscall.SIGHUP && (sig != first || time.Since(at) >= sameSignalAgain) {
			break
		}
	}
	removeTempDirs()
	code := exitFailure
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	slog.Warn("stopping at once: a second signal", "signal", sig.String(), "exit_status", code)
	os.Exit(code)
}

// sameSignalAgain is how soon after the first the same signal again is
// the same stop's, not a second: timeout(1)'s second copy comes within a
// millisecond, a user's second Ctrl-C later than this.
const sameSignalAgain = 200 * time.Millisecond

// tempDirs are the temporary directories that a forced stop removes too
// (serve --tls's CA without --state-dir holds a private key): a clean
// stop removes them with the rest of what it closes.
var tempDirs struct {
	sync.Mutex
	paths map[string]bool
}

// removeAtForcedExit adds dir to tempDirs; the function it returns
// removes dir and takes it off.
func removeAtForcedExit(dir string) (remove func()) {
	tempDirs.Lock()
	defer tempDirs.Unlock()
	if tempDirs.paths == nil {
		tempDirs.paths = map[string]bool{}
	}
	tempDirs.paths[dir] = true
	return func() {
		tempDirs.Lock()
		defer tempDirs.Unlock()
		delete(tempDirs.paths, dir)
		os.RemoveAll(dir)
	}
}

func removeTempDirs() {
	tempDirs.Lock()
	defer tempDirs.Unlock()
	for dir := range tempDirs.paths {
		os.RemoveAll(dir)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && isHelpFlag(args[0]) {
		name, args = "help", args[1:]
	} else if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		name, args = "version", args[1:] // as --help is help
	} else if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "xaa-idp: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help"
}

// runHelp lists the commands, or with a command name shows its flags.
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || isHelpFlag(args[0]) {
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, []string{"-h"}, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "xaa-idp help: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: xaa-idp <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag may also come from an XAA_IDP_* environment variable (--state-dir: XAA_IDP_STATE_DIR).")
	fmt.Fprintln(w, "Run 'xaa-idp <command> -h' for a command's flags.")
}

// newFlagSet returns a flag set whose usage errors go to stderr, whose
// help (-h) goes to stdout, and whose defaults can come from XAA_IDP_*
// variables (applied by parse).
func newFlagSet(name string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("xaa-idp "+name, flag.ContinueOnError)
	fs.SetOutput(&flagOutput{Writer: stderr, help: stdout})
	return fs
}

// flagOutput is a flag set's output: stderr, and stdout for the help the
// user asked for, which is the command's output.
type flagOutput struct {
	io.Writer
	help io.Writer
}

// parse applies environment defaults, then the command line. It returns
// an exit code when the command should stop (help or a usage error).
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "XAA_IDP_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		// An empty variable is as unset, as Docker Compose's ${X} and
		// CI matrices leave them.
		if v := os.Getenv(env); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = envValueError(env, v, f, err)
			}
			ev := &envValue{Value: f.Value, env: env}
			ev.list, _ = f.Value.(*listFlag)
			f.Value = ev

		}
	})
	// The flag package prints its error, then the usage; captured, so
	// that a value its flag cannot take is said as for a variable.
	out := fs.Output()
	var printed bytes.Buffer
	fs.SetOutput(&printed)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		// The help names each flag's type and default, which the
		// flag package reads from its value: the variables' wrapping
		// (envValue) is taken off for it.
		fs.VisitAll(func(f *flag.Flag) {
			if ev, ok := f.Value.(*envValue); ok {
				f.Value = ev.Value
			}
			if r, ok := f.Value.(*rangedInt); ok {
				f.Value = r.Value
			}
		})
		if o, ok := out.(*flagOutput); ok {
			out = o.help
			fs.SetOutput(out)
		}
		if fs.Usage != nil {
			fs.Usage()
		} else {
			fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return exitOK, true
	}
	// Said after -h is looked for: the help explains the variable.
	if envErr != nil {
		fmt.Fprintln(fs.Output(), "xaa-idp:", envErr)
		return exitUsage, true
	}
	if err != nil {
		first, rest, _ := strings.Cut(printed.String(), "\n")
		if msg, ok := badValueMessage(fs, first); ok {
			first = "xaa-idp: " + msg
		} else if name, ok := strings.CutPrefix(first, "flag provided but not defined: -"); ok {
			first = fmt.Sprintf("%s: unknown flag --%s; the flags of %s follow", fs.Name(), name, fs.Name())
		} else if name, ok := strings.CutPrefix(first, "flag needs an argument: -"); ok {
			first = fmt.Sprintf("%s: --%s needs a value: --%s VALUE or --%s=VALUE", fs.Name(), name, name, name)
		} else if strings.HasPrefix(first, "bad flag syntax: ") {
			// "---addr", "-=x": the flag package's line named no command.
			first = fmt.Sprintf("%s: %s; write --name VALUE or --name=VALUE", fs.Name(), first)
		}
		io.WriteString(out, first+"\n"+rest)
		return exitUsage, true
	}
	if fs.NArg() > 0 {
		hint := ""
		if c := fs.Lookup("config"); c != nil && c.Value.String() == "" && looksLikeFile(fs.Arg(0)) {
			// "xaa-idp check FILE": the file is a flag's value here.
			hint = "; to name the configuration file, write --config " + fs.Arg(0)
		}
		if d := fs.Lookup("state-dir"); d != nil && d.Value.String() == "" && isDir(fs.Arg(0)) {
			// "xaa-idp ca ./state", as "check FILE".
			hint = "; to name the state directory, write --state-dir " + fs.Arg(0)
		}
		if name, ok := boolFlagBefore(fs, args); ok {
			// "--tls false": the flag package takes a boolean's value
			// after "=" only, and stops at the word.
			hint = fmt.Sprintf("; a true/false flag takes its value after =: --%s=%s", name, fs.Arg(0))
		}
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q%s\n", fs.Name(), fs.Arg(0), hint)
		return exitUsage, true
	}
	return 0, false
}

// boolFlagBefore reports whether the first argument left after parsing
// args is true or false and follows a boolean flag of fs, which it then
// names: the value of "--tls false" written after a space.
func boolFlagBefore(fs *flag.FlagSet, args []string) (string, bool) {
	i := len(args) - fs.NArg()
	if i < 1 {
		return "", false
	}
	if _, err := strconv.ParseBool(fs.Arg(0)); err != nil {
		return "", false
	}
	f := fs.Lookup(strings.TrimLeft(args[i-1], "-"))
	if f == nil || !strings.HasPrefix(args[i-1], "-") {
		return "", false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return f.Name, ok && b.IsBoolFlag()
}

// badFlagValue matches the flag package's message for a value its flag
// could not take: "invalid value "x" for flag -name: parse error", or for
// a boolean "invalid boolean value "x" for -name: parse error".
var badFlagValue = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-([A-Za-z0-9-]+): (.*)$`)

// badValueMessage rewrites that message as "--name "x": invalid value:
// want ...", saying what the flag takes; ok is false for any other line.
func badValueMessage(fs *flag.FlagSet, line string) (string, bool) {
	m := badFlagValue.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	f := fs.Lookup(m[2])
	value, err := strconv.Unquote(m[1])
	if f == nil || err != nil {
		return "", false
	}
	return fmt.Sprintf("--%s %q: invalid value: %s", f.Name, value, flagWants(f, errors.New(m[3]))), true
}

// envValueError says which variable has a value its flag cannot take, and
// what the flag takes: the flag package's own error for a bool, duration or
// number is a bare "parse error".
func envValueError(env, value string, f *flag.Flag, err error) error {
	return fmt.Errorf("%s=%q (--%s): invalid value: %s", env, value, f.Name, flagWants(f, err))
}

// flagRef names the flag name of fs for a message about its value as the
// user set it: "--name" from the command line, "XAA_IDP_NAME (--name)"
// when the value came from the variable (parse).
func flagRef(fs *flag.FlagSet, name string) string {
	if env := envSource(fs, name); env != "" {
		return env + " (--" + name + ")"
	}
	return "--" + name
}

// flagValue names the flag name of fs and its value v as the user set
// them, for a message that refuses the value: `--name "v"` from the
// command line, `XAA_IDP_NAME="v" (--name)` from the variable.
func flagValue(fs *flag.FlagSet, name, v string) string {
	if env := envSource(fs, name); env != "" {
		return fmt.Sprintf("%s=%q (--%s)", env, v, name)
	}
	return fmt.Sprintf("--%s %q", name, v)
}

// settingName names the flag name of fs for a hint that tells the user to
// set it: its XAA_IDP_* variable when a value the hint is about (of the
// flags about) came from one, as in a container, which is given
// variables, not flags (README, "In a container"); else the flag.
func settingName(fs *flag.FlagSet, name string, about ...string) string {
	for _, a := range about {
		if envSource(fs, a) != "" {
			return "XAA_IDP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		}
	}
	return "--" + name
}

// settingValue is settingName with the value v: "XAA_IDP_NAME=v" or
// "--name v".
func settingValue(fs *flag.FlagSet, name, v string, about ...string) string {
	if s := settingName(fs, name, about...); !strings.HasPrefix(s, "--") {
		return s + "=" + v
	}
	return "--" + name + " " + v
}

// envSource is the variable the value of the flag name of fs came from,
// or "" when it came from the command line or is the default.
func envSource(fs *flag.FlagSet, name string) string {
	if fs == nil {
		return ""
	}
	if f := fs.Lookup(name); f != nil {
		if ev, ok := f.Value.(*envValue); ok && !ev.fromCLI {
			return ev.env
		}
	}
	return ""
}

// flagWants says what f takes, for a value its Set refused with err.
func flagWants(f *flag.Flag, err error) string {
	// The flag package's error for a number too large for its type;
	// a command-line value's comes back as the text it printed.
	outOfRange := err.Error() == "value out of range"
	v := f.Value
	if ev, ok := v.(*envValue); ok {
		v = ev.Value
	}
	if r, ok := v.(*rangedInt); ok {
		if outOfRange {
			return "out of range: want " + r.want
		}
		return "want " + r.want
	}
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case bool:
			return "want true or false"
		case time.Duration:
			return "want a duration such as 30s"
		case int, int64:
			if outOfRange {
				return fmt.Sprintf("out of range: want a whole number from %d to %d", math.MinInt64, math.MaxInt64)
			}
			return "want a whole number"
		case uint, uint64:
			if outOfRange {
				return fmt.Sprintf("out of range: want a whole number from 0 to %d", uint64(math.MaxUint64))
			}
			return "want a whole number"
		}
	}
	return err.Error()
}

// rangedInt is an int flag that takes only some whole numbers, which want
// says ("a whole number from 1 to 1000"): a value too large for an int is
// refused naming them, not int's range. The command checks the range
// itself once parsed.
type rangedInt struct {
	flag.Value
	want string
}

// Get is the flag's value, for flagWants.
func (r *rangedInt) Get() any { return r.Value.(flag.Getter).Get() }

// intRange makes the int flag name of fs a rangedInt.
func intRange(fs *flag.FlagSet, name, want string) {
	f := fs.Lookup(name)
	f.Value = &rangedInt{Value: f.Value, want: want}
}

// envValue is a flag whose value came from its XAA_IDP_* variable, which
// it names (envSource) until the command line sets it. The command line's
// first occurrence of a repeatable flag (list) replaces the variable's
// value, as it does for every other flag, and later ones add to it.
type envValue struct {
	flag.Value
	env     string
	list    *listFlag
	fromCLI bool
}

func (e *envValue) String() string {
	if e == nil || e.Value == nil {
		return ""
	}
	return e.Value.String()
}

func (e *envValue) Set(v string) error {
	if !e.fromCLI {
		e.fromCLI = true
		if e.list != nil {
			*e.list = nil
		}
	}
	return e.Value.Set(v)
}

// IsBoolFlag keeps a boolean flag one that takes no value (--tls).
func (e *envValue) IsBoolFlag() bool {
	b, ok := e.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Get is the flag's value, for flagWants.
func (e *envValue) Get() any {
	if g, ok := e.Value.(flag.Getter); ok {
		return g.Get()
	}
	return e.Value.String()
}

// looksLikeFile reports whether a stray argument is probably a
// configuration file.
func looksLikeFile(arg string) bool {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return true
	}
	fi, err := os.Stat(arg)
	return err == nil && fi.Mode().IsRegular()
}

// isDir reports whether a stray argument is a directory (a state
// directory, for the commands that take one).
func isDir(arg string) bool {
	fi, err := os.Stat(arg)
	return err == nil && fi.IsDir()
}

// listFlag is a repeatable flag that also splits on spaces and commas, so
// --scope "a b" and --scope a --scope b mean the same.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })...)
	return nil
}

// flagGiven reports whether a flag was set, on the command line or from
// its environment variable, even to a value that leaves it empty.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
