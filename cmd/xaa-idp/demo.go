package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/policy"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", stderr)
	flags := addIdPFlags(fs)
	bind := fs.String("bind", "", "listen on this host instead of the one in each MCP server URL (0.0.0.0 in a container)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	r, code := flags.start(stderr, nil)
	if r == nil {
		return code
	}
	defer r.close()
	srv, cfg := r.srv, r.store.Config()
	stack, err := demo.Stack(cfg, srv.Issuer(), srv.Issuer()+"/keys")
	if err != nil {
		r.ln.Close()
		fmt.Fprintln(stderr, "xaa-idp demo:", err)
		return exitUsage
	}
	listeners := []net.Listener{r.ln}
	handlers := []http.Handler{r.handler}
	for _, svc := range stack {
		listenAddr := svc.Addr
		if *bind != "" {
			_, port, _ := net.SplitHostPort(svc.Addr)
			listenAddr = net.JoinHostPort(*bind, port)
		}
		ln, err := net.Listen("tcp", listenAddr)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			fmt.Fprintf(stderr, "xaa-idp demo: %s %s cannot listen on %s: %v\n", svc.Server, svc.Role, listenAddr, err)
			return exitFailure
		}
		listeners = append(listeners, ln)
		handlers = append(handlers, svc.Handler)
	}
	printDemo(stdout, cfg, srv.Issuer(), stack)

	var wg sync.WaitGroup
	errc := make(chan error, len(listeners))
	for i := range listeners {
		wg.Add(1)
		go func(ln net.Listener, h http.Handler) {
			defer wg.Done()
			if err := serveUntilDone(ctx, ln, h); err != nil {
				errc <- err
			}
		}(listeners[i], handlers[i])
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		fmt.Fprintln(stderr, "xaa-idp demo:", err)
		return exitFailure
	}
	fmt.Fprintln(stderr, "xaa-idp demo: stopped")
	return exitOK
}

func printDemo(w io.Writer, cfg *policy.Config, issuer string, stack []demo.Service) {
	fmt.Fprintf(w, "xaa-idp demo: the IdP and %d MCP servers, all on loopback\n\n", len(cfg.MCPServers))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "  IdP         %s\n  console     %s/admin/ (an admin user below)\n\n", issuer, issuer)
	byServer := map[string][2]string{}
	for _, s := range stack {
		v := byServer[s.Server]
		if s.Role == "authorization server" {
			v[0] = s.URL
		} else {
			v[1] = s.URL
		}
		byServer[s.Server] = v
	}
	fmt.Fprintln(tw, "  MCP server\tauthorization server\tMCP endpoint")
	for _, s := range cfg.MCPServers {
		fmt.Fprintf(tw, "  %s (%s)\t%s\t%s\n", s.ID, s.Name, byServer[s.ID][0], byServer[s.ID][1])
	}
	tw.Flush()
	fmt.Fprintln(w, "\nUsers:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, u := range cfg.Users {
		pw := u.Password
		if pw == "" {
			pw = "(bcrypt hash)"
		}
		var notes []string
		if u.Admin {
			notes = append(notes, "admin")
		}
		if u.Disabled {
			notes = append(notes, "disabled")
		}
		fmt.Fprintf(tw, "  %s\tpassword %s\tgroups %s\t%s\n", u.Username, pw, strings.Join(u.Groups, ", "), strings.Join(notes, ", "))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nClients:")
	for _, c := range cfg.Clients {
		kind := "public"
		if c.ClientSecret != "" {
			kind = "secret " + c.ClientSecret
		}
		fmt.Fprintf(w, "  %s (%s)\n", c.ClientID, kind)
	}
	fmt.Fprintf(w, "\nTry: xaa-idp connect --issuer %s --client-id mcp-client --client-secret mcp-secret --username alice --password alice\n", issuer)
	fmt.Fprintln(w, "Ctrl-C stops everything.")
}

func runConnect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("connect", stderr)
	issuer := fs.String("issuer", "http://127.0.0.1:8080", "the IdP's issuer URL")
	clientID := fs.String("client-id", "", "client_id at the IdP (required)")
	secret := fs.String("client-secret", "", "client secret (omit for a public client)")
	username := fs.String("username", "", "user to log in (required)")
	password := fs.String("password", "", "the user's password")
	all := fs.Bool("all", false, "try every MCP server connected to the client, assigned or not")
	verbose := fs.Bool("verbose", false, "print every request of the flow")
	var servers listFlag
	fs.Var(&servers, "mcp", "MCP endpoint URL (repeatable; default: the servers the user is assigned to)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *clientID == "" || *username == "" {
		fmt.Fprintln(stderr, "xaa-idp connect: --client-id and --username are required")
		return exitUsage
	}
	o := connect.Options{
		Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret,
		Username: *username, Password: *password, MCPServers: servers, All: *all,
	}
	if *verbose {
		o.Trace = func(s connect.Step) {
			fmt.Fprintf(stderr, "  %-45s %s %s -> %d %s\n", s.Name, s.Method, s.URL, s.Status, s.Detail)
		}
	}
	results, err := connect.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp connect:", err)
		return exitFailure
	}
	if len(results) == 0 {
		fmt.Fprintf(stdout, "%s is assigned to no MCP server through %s\n", *username, *clientID)
		return exitOK
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Connected && !results[j].Connected })
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	refused := 0
	for _, r := range results {
		name := r.Name
		if name == "" {
			name = "-"
		}
		if r.Connected {
			fmt.Fprintf(tw, "connected\t%s\t%s\tas %v, scopes %s\n", name, r.MCPServer, r.WhoAmI["sub"], strings.Join(r.Scopes, " "))
		} else {
			refused++
			fmt.Fprintf(tw, "refused\t%s\t%s\t%v\n", name, r.MCPServer, r.Err)
		}
	}
	tw.Flush()
	if refused > 0 && !*all {
		return exitFailure
	}
	return exitOK
}
