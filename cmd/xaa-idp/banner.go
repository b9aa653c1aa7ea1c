package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xaa-idp/xaa-idp/demo"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/internal/shellquote"
	"github.com/xaa-idp/xaa-idp/policy"
)

// demoBanner is what printDemo needs besides the configuration and the
// services: the base URL (the issuer of a file without tenants), how the
// user started this program, and the CA file to trust when serving https.
// containerStateDir is the state directory of a demo that runs in a
// container (inContainer), whose CA file the host does not have.
type demoBanner struct {
	base, program, caFile, containerStateDir string
}

// printDemo prints where everything is and how to try it: for a file with
// tenants, every tenant's issuer, console, users, clients and connect
// command, since each is an IdP of its own.
func printDemo(w io.Writer, cfg *policy.Config, stack []demo.Service, b demoBanner) {
	// Names are free text that admins set through the API; the file keeps
	// them for the next start's terminal.
	w = terminalSafe(w)
	// One row per authorization server, as the demo serves one per
	// issuer: tenants may each have an MCP server of one id at issuers of
	// their own. Stack lists each MCP server right after its
	// authorization server.
	type row struct{ id, as, mcp string }
	var rows []row
	for _, s := range stack {
		if s.Role == "authorization server" || len(rows) == 0 || rows[len(rows)-1].id != s.Server || rows[len(rows)-1].mcp != "" {
			rows = append(rows, row{id: s.Server})
		}
		if s.Role == "authorization server" {
			rows[len(rows)-1].as = s.URL
		} else {
			rows[len(rows)-1].mcp = s.URL
		}
	}
	idps := cfg.IdPs()
	if len(cfg.Tenants) == 0 {
		fmt.Fprintf(w, "xaa-idp demo: the IdP and %s\n\n", plural(len(rows), "MCP server"))
		fmt.Fprintf(w, "  IdP         %s\n  console     %s/admin/ (an admin user below)\n\n", b.base, b.base)
	} else {
		fmt.Fprintf(w, "xaa-idp demo: %s and %s\n\n", plural(len(idps), "tenant"), plural(len(rows), "MCP server"))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  tenant\tpersona\tissuer\tconsole")
		for _, t := range idps {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s/admin/\n", t.ID, t.Knobs().Persona, b.base+t.Path, b.base+t.Path)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	names := map[string]string{} // by issuer, as the authorization server's URL is
	for _, t := range idps {
		for _, s := range t.MCPServers {
			if names[s.Issuer] == "" {
				names[s.Issuer] = s.Name
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  MCP server\tauthorization server\tMCP endpoint")
	for _, r := range rows {
		label := r.id
		if names[r.as] != "" {
			label += " (" + names[r.as] + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", label, r.as, r.mcp)
	}
	tw.Flush()
	caNote := ""
	if b.caFile != "" {
		caNote = fmt.Sprintf("\nhttps with a local CA: trust %s (--ca-file, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS)\n", b.caFile)
		if b.containerStateDir != "" {
			// The command of docker-compose.yml's comment.
			caNote += fmt.Sprintf("That path is inside the container: from the host, copy the CA out first (docker compose),\n"+
				"  mkdir -p state && docker compose exec -T xaa-idp %s ca --state-dir %s > state/ca.pem\n"+
				"and give --ca-file state/ca.pem; the command below runs as it is inside (docker compose exec xaa-idp ...).\n",
				b.program, shellQuote(b.containerStateDir))
		}
	}
	if len(cfg.Tenants) > 0 {
		fmt.Fprint(w, caNote)
	}
	for _, t := range idps {
		issuer := b.base + t.Path
		if len(cfg.Tenants) > 0 {
			fmt.Fprintf(w, "\nTenant %s (%s):\n", t.ID, issuer)
		}
		printPeople(w, t)
		if len(cfg.Tenants) == 0 {
			fmt.Fprint(w, caNote)
		}
		if try := tryConnect(t, issuer, b); try != "" {
			fmt.Fprintf(w, "\nTry: %s\n", try)
		} else {
			fmt.Fprintf(w, "\nNo user is assigned to an MCP server through a client that may use token exchange: assign one at %s/admin/\n", issuer)
		}
	}
	fmt.Fprintln(w, "Ctrl-C stops everything.")
}

// printPeople lists the users and clients of one IdP.
func printPeople(w io.Writer, cfg *policy.Config) {
	fmt.Fprintln(w, "\nUsers:")
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
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
		groups := "no groups" // not "groups" and a blank, which reads as a group named by the notes
		if len(u.Groups) > 0 {
			groups = "groups " + strings.Join(u.Groups, ", ")
		}
		fmt.Fprintf(tw, "  %s\tpassword %s\t%s\t%s\n", u.Username, pw, groups, strings.Join(notes, ", "))
	}
	tw.Flush()
	// A user without notes would end the line with the padding of the
	// empty last column.
	for line := range strings.Lines(table.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
	fmt.Fprintln(w, "\nClients:")
	for _, c := range cfg.Clients {
		kind := "public"
		switch {
		case c.ClientSecret != "" && len(c.JWKS) > 0:
			kind = "secret " + c.ClientSecret + ", or private_key_jwt"
		case c.ClientSecret != "":
			kind = "secret " + c.ClientSecret
		case len(c.JWKS) > 0:
			kind = "private_key_jwt"
		}
		fmt.Fprintf(w, "  %s (%s)\n", c.ClientID, kind)
	}
}

// tryConnect is a connect command that works against the IdP cfg at
// issuer: the first client that may use token exchange, has a redirect
// URI and logs in without keys, and the first enabled user that it would get an ID-JAG for, for
// some MCP server; "" when there is none. The command names the client's
// first redirect URI unless the client has connect's default.
func tryConnect(cfg *policy.Config, issuer string, b demoBanner) string {
	now := time.Now()
	for _, c := range cfg.Clients {
		if !c.TokenExchange || len(c.RedirectURIs) == 0 || c.ClientSecret == "" && len(c.JWKS) > 0 {
			// connect has no client assertion: a client with keys alone
			// cannot log in with it.
			continue
		}
		for _, u := range cfg.Users {
			if u.Disabled {
				continue
			}
			for _, s := range cfg.MCPServers {
				if !cfg.Decide(policy.Request{Username: u.Username, ClientID: c.ClientID, Audience: s.Issuer, AuthTime: now, Now: now, IdPIssuer: issuer}).Allowed {
					continue
				}
				// Every value quoted as a shell needs it: a secret with "&"
				// or a path with a space must survive a copy and paste.
				cmd := b.program + " connect --issuer " + shellQuote(issuer)
				if b.caFile != "" {
					cmd += " --ca-file " + shellQuote(b.caFile)
				}
				cmd += " --client-id " + shellQuote(c.ClientID)
				if c.ClientSecret != "" {
					cmd += " --client-secret " + shellQuote(c.ClientSecret)
				}
				if uri := idpclient.RedirectFor(c.RedirectURIs); uri != "" {
					cmd += " --redirect-uri " + shellQuote(uri)
				}
				password := u.Password
				if password == "" {
					password = "<" + u.Username + "'s password>"
				}
				return cmd + " --username " + shellQuote(u.Username) + " --password " + shellQuote(password)
			}
		}
	}
	return ""
}

// inContainer reports whether the demo, listening at addr with the state
// directory stateDir, seems to run in a container (docker-compose.yml): it
// listens on every interface, for a published port, and its state
// directory is not under the directory it runs in (a volume such as
// /state; a container runs in / unless its image says otherwise). A demo
// on a laptop listens on loopback, or keeps its state where it runs.
func inContainer(addr net.Addr, stateDir string) bool {
	a, ok := addr.(*net.TCPAddr)
	if !ok || !a.IP.IsUnspecified() || stateDir == "" {
		return false
	}
	dir, err := filepath.Abs(stateDir)
	wd, werr := os.Getwd()
	if err != nil || werr != nil {
		return false
	}
	return wd == "/" || dir != wd && !strings.HasPrefix(dir, wd+string(filepath.Separator))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string { return shellquote.Quote(s) }

// programName is how the user started this program, to repeat in the
// commands it suggests: `go run ./cmd/xaa-idp` when arg0 is a binary that
// go run built, else arg0 as typed. go run links into its temporary
// directory (.../go-build.../exe/NAME) and, since Go 1.24, keeps the binary
// in the build cache and runs it from there on later runs:
// $GOCACHE/<first byte in hex>/<64 hex digits>-d/NAME (cmd/go's
// DiskCache.OutputFile).
func programName(arg0 string) string {
	p := filepath.ToSlash(arg0)
	if strings.Contains(p, "/go-build") && strings.Contains(p, "/exe/") || inBuildCache(p) {
		return "go run ./cmd/xaa-idp"
	}
	return arg0
}

// inBuildCache reports whether the slash-separated path p names an
// executable in the Go build cache.
func inBuildCache(p string) bool {
	parts := strings.Split(p, "/")
	if len(parts) < 3 {
		return false
	}
	hash, ok := strings.CutSuffix(parts[len(parts)-2], "-d")
	if !ok || len(hash) != 64 || parts[len(parts)-3] != hash[:2] {
		return false
	}
	return strings.Trim(hash, "0123456789abcdef") == ""
}
