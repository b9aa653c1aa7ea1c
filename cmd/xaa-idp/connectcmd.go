package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/idpclient"
)

// cimdPortWant says what --cimd-port takes.
const cimdPortWant = "a TCP port from 0 to 65535 (0: any free port)"

func runConnect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stdout, stderr = terminalSafe(stdout), terminalSafe(stderr) // they print what servers said
	fs := newFlagSet("connect", stdout, stderr)
	issuer := fs.String("issuer", "http://127.0.0.1:8080", "the IdP's issuer URL")
	clientID := fs.String("client-id", "", "client_id at the IdP (required)")
	secret := fs.String("client-secret", "", "client secret (omit for a public client)")
	username := fs.String("username", "", "user to log in (required)")
	password := fs.String("password", "", "the user's password (required)")
	redirect := fs.String("redirect-uri", idpclient.DefaultRedirectURI, "a redirect URI registered for the client")
	all := fs.Bool("all", false, "try every MCP server connected to the client, assigned or not")
	verbose := fs.Bool("verbose", false, "print every request of the flow")
	asJSON := fs.Bool("json", false, "print a JSON array, one object per MCP server, instead of a table (with --watch, one JSON object per line)")
	watch := fs.Bool("watch", false, "after connecting, keep the MCP sessions open and call whoami every --interval, printing a line whenever a server connects or disconnects (until Ctrl-C)")
	interval := fs.Duration("interval", connect.DefaultInterval, "with --watch, how often to call whoami")
	useCIMD := fs.Bool("cimd", false, "be a Client ID Metadata Document client: serve the document on loopback and use its URL as client_id (instead of --client-id)")
	cimdPort := fs.Int("cimd-port", connect.DefaultMetadataPort, "loopback port of the metadata document with --cimd (0: any free port)")
	caFile := addCAFileFlag(fs)
	timeout := addTimeoutFlag(fs)
	intRange(fs, "cimd-port", cimdPortWant)
	var servers listFlag
	fs.Var(&servers, "mcp", "MCP endpoint URL (repeatable; default: the servers the user is assigned to)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *cimdPort < 0 || *cimdPort > 65535 {
		fmt.Fprintf(stderr, "xaa-idp connect: %s: want %s\n", flagValue(fs, "cimd-port", strconv.Itoa(*cimdPort)), cimdPortWant)
		return exitUsage
	}
	// A flag that only shapes another's work is bad usage without it: the
	// user meant to watch, or to be a CIMD client, and would get neither.
	// From a variable it is not: a job that sets XAA_IDP_CIMD_PORT for its
	// one `connect --cimd` runs its other commands with it too.
	for _, c := range []struct {
		flag, needs string
		on          bool
	}{{"interval", "watch", *watch}, {"cimd-port", "cimd", *useCIMD}} {
		if flagGiven(fs, c.flag) && envSource(fs, c.flag) == "" && !c.on {
			fmt.Fprintf(stderr, "xaa-idp connect: --%s is only for --%s; add --%[2]s or drop --%[1]s\n", c.flag, c.needs)
			return exitUsage
		}
	}
	if *useCIMD {
		if *clientID != "" || *secret != "" {
			fmt.Fprintln(stderr, "xaa-idp connect: --cimd makes the metadata document's URL the client_id; drop --client-id and --client-secret")
			return exitUsage
		}
		var redirects []string // the document lists the redirect URI this login uses
		if *redirect != "" {
			redirects = []string{*redirect}
		}
		doc, err := connect.ServeMetadata(*cimdPort, redirects...)
		if err != nil {
			fmt.Fprintln(stderr, "xaa-idp connect:", err)
			return exitFailure
		}
		defer doc.Close()
		*clientID = doc.ClientID
		fmt.Fprintln(stderr, "client_id", doc.ClientID)
	}
	if *clientID == "" || *username == "" || *password == "" {
		fmt.Fprintln(stderr, "xaa-idp connect: --client-id (or --cimd), --username and --password are required")
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "xaa-idp connect: %s must be positive, such as 30s\n", flagRef(fs, "timeout"))
		return exitUsage
	}
	for name, values := range map[string][]string{"issuer": {*issuer}, "mcp": servers} {
		for _, v := range values {
			if err := checkHTTPURL(fs, name, v); err != nil {
				fmt.Fprintln(stderr, "xaa-idp connect:", err)
				return exitUsage
			}
		}
	}
	hc, err := httpClient(fs, *caFile)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp connect:", err)
		return exitUsage
	}
	o := connect.Options{
		Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret,
		Username: *username, Password: *password, RedirectURI: *redirect, MCPServers: servers, All: *all, HTTPClient: hc,
		Timeout: *timeout,
	}
	if *verbose {
		o.Trace = func(s connect.Step) {
			fmt.Fprintf(stderr, "  %-45s %s %s -> %d %s\n", s.Name, s.Method, s.URL, s.Status, oneLine(s.Detail))
		}
	}
	if *watch {
		return watchConnections(ctx, o, *interval, *asJSON, stdout, stderr)
	}
	results, err := connect.Run(ctx, o)
	if err != nil {
		return connectFailed(stderr, o, err)
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Connected && !results[j].Connected })
	code := connectExit(results, *all && len(servers) == 0)
	switch {
	case len(results) == 0:
		// Nothing to try is nothing connected: a script's next step
		// would go on without the MCP servers it expects.
		fmt.Fprintf(stderr, "xaa-idp connect: %s is assigned to no MCP server through %s; nothing to connect\n", *username, *clientID)
	case code != exitOK && !slices.ContainsFunc(results, func(r connect.Result) bool { return r.Connected }):
		fmt.Fprintf(stderr, "xaa-idp connect: %s connected to no MCP server\n", *username)
	}
	if *asJSON {
		printJSON(stdout, connectJSON(results))
		return code
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, r := range results {
		name, server, said := connectLine(r)
		if r.Connected {
			fmt.Fprintf(tw, "connected\t%s\t%s\t%s\n", name, server, said)
		} else {
			fmt.Fprintf(tw, "refused\t%s\t%s\t%s\n", name, server, said)
		}
	}
	tw.Flush()
	return code
}

// connectFailed says why connect (or --watch) failed before any MCP
// server, in one line, with what to do, and is its exit status.
func connectFailed(stderr io.Writer, o connect.Options, err error) int {
	fmt.Fprintln(stderr, "xaa-idp connect:", oneLine(err.Error()))
	hintUntrusted(stderr, "connect", err)
	hintRefused(stderr, "connect", "--issuer", err)
	hintTimeout(stderr, "connect", err, o.Timeout)
	hintRedirect(stderr, "connect", err, o.RedirectURI)
	hintPlainHTTP(stderr, "connect", "--issuer", o.Issuer, err)
	return exitFailure
}

// connectExit is connect's exit status: 1 when it connected to no MCP
// server, or a server it was to connect to did not connect; with
// forgiving (--all without --mcp), which tries servers the user is not
// assigned to, only to show their refusals, those refusals are expected.
// A server named with --mcp must connect, --all or not.
func connectExit(results []connect.Result, forgiving bool) int {
	connected := false
	for _, r := range results {
		if r.Connected {
			connected = true
		} else if !forgiving || r.Assigned {
			return exitFailure
		}
	}
	if !connected {
		return exitFailure
	}
	return exitOK
}

// connectLine is what connect's line for one MCP server says, in the
// table and with --watch: the server's name ("-" when the IdP names none),
// its URL, and who it says the user is or why it was refused. Servers
// chose them all (the IdP the name and URL, the MCP server the identity,
// either or the authorization server the refusal), so each is oneLine: a
// newline or a tab would let a server add a line of its own, a forged
// "connected".
func connectLine(r connect.Result) (name, server, said string) {
	name = r.Name
	if name == "" {
		name = "-"
	}
	if r.Connected {
		// whoami is the demo MCP servers' tool: a server of one's own
		// may have none, or one that names no sub or scopes.
		who, scopes := any("(not shown: the server has no whoami tool)"), "(none given)"
		if r.WhoAmI != nil {
			who = "(not shown by the server's whoami)"
		}
		if sub, ok := r.WhoAmI["sub"]; ok {
			who = sub
		}
		if len(r.Scopes) > 0 {
			scopes = strings.Join(r.Scopes, " ")
		}
		said = fmt.Sprintf("as %v, scopes %s", who, scopes)
	} else {
		said = fmt.Sprint(r.Err)
	}
	return oneLine(name), oneLine(r.MCPServer), oneLine(said)
}

// connectResult is one MCP server in `connect --json`.
type connectResult struct {
	MCPServer string         `json:"mcp_server"`
	Name      string         `json:"name,omitempty"`
	Connected bool           `json:"connected"`
	Scopes    []string       `json:"scopes,omitempty"`
	WhoAmI    map[string]any `json:"whoami,omitempty"`
	Error     string         `json:"error,omitempty"`
}

func connectJSON(results []connect.Result) []connectResult {
	out := make([]connectResult, len(results))
	for i, r := range results {
		out[i] = connectResult{MCPServer: r.MCPServer, Name: r.Name, Connected: r.Connected, Scopes: r.Scopes, WhoAmI: r.WhoAmI}
		if r.Err != nil {
			out[i].Error = r.Err.Error()
		}
	}
	return out
}

// watchConnections is connect --watch: one line per server, then one per
// change, as it happens, until ctx ends (Ctrl-C); with asJSON, each line
// is a JSON object: connect --json's fields for the server, and the time.
func watchConnections(ctx context.Context, o connect.Options, interval time.Duration, asJSON bool, stdout, stderr io.Writer) int {
	if interval <= 0 {
		fmt.Fprintln(stderr, "xaa-idp connect: --interval must be positive, such as 2s")
		return exitUsage
	}
	err := connect.Watch(ctx, o, interval, func(r connect.Result) {
		if asJSON {
			_ = json.NewEncoder(stdout).Encode(struct {
				Time string `json:"time"`
				connectResult
			}{time.Now().UTC().Format(time.RFC3339), connectJSON([]connect.Result{r})[0]})
			return
		}
		name, server, said := connectLine(r)
		at := time.Now().Format(time.TimeOnly)
		if r.Connected {
			fmt.Fprintf(stdout, "%s  connected     %s  %s  %s\n", at, name, server, said)
		} else {
			fmt.Fprintf(stdout, "%s  disconnected  %s  %s  %s\n", at, name, server, said)
		}
	}, func(notice string) { fmt.Fprintln(stderr, "xaa-idp connect:", oneLine(notice)) })
	if errors.Is(err, connect.ErrLoginLost) {
		// Its MCP servers were reported disconnected already: a script
		// that watches the exit status learns the watch ended.
		fmt.Fprintln(stderr, "xaa-idp connect:", oneLine(err.Error()))
		fmt.Fprintln(stderr, "xaa-idp connect: start this connect --watch again to log in anew (give the IdP --state-dir for logins that outlive its restarts)")
		return exitFailure
	}
	if err != nil {
		return connectFailed(stderr, o, err)
	}
	return exitOK
}
