package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idp/signer"
	"github.com/xaa-idp/xaa-idp/policy"
)

func runCheck(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", stdout, stderr)
	configFile := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	// check opens the files the configuration names, as serve would: a
	// key serve refuses is reported at its key_files entry.
	var cfg *policy.Config
	var err error
	name, data := *configFile, fixtures.Demo
	if name == "" {
		name = fixtures.DemoFile
		cfg, err = loadConfig("")
	} else {
		cfg, data, err = policy.LoadFile(name, policy.FileChecks{KeyFile: signer.CheckKeyFile, KeyThumbprint: signer.KeyFileThumbprint})
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	// Valid, but not what the file seems to mean: said, not refused, in
	// the order of their lines, as the problems of an invalid file are.
	warnings := append(policy.Warnings(cfg, data, name), policy.ExpiredWarnings(cfg, data, name, time.Now())...)
	slices.SortStableFunc(warnings, func(a, b policy.Problem) int { return cmp.Compare(a.Line, b.Line) })
	for _, w := range warnings {
		fmt.Fprintln(stderr, w)
	}
	if len(cfg.Tenants) == 0 {
		fmt.Fprintf(stdout, "%s: ok (%s)\n", name, configCounts(cfg))
		return exitOK
	}
	// A file with tenants holds nothing at its top level: count each
	// tenant's own users, groups, clients and MCP servers.
	fmt.Fprintf(stdout, "%s: ok (%s)\n", name, plural(len(cfg.Tenants), "tenant"))
	for _, t := range cfg.Tenants {
		path := t.Path
		if path == "" {
			path = "/t/" + t.ID
		}
		fmt.Fprintf(stdout, "  %s (%s): %s\n", t.ID, path, configCounts(t))
	}
	return exitOK
}

// configCounts is check's summary of one IdP's configuration.
func configCounts(cfg *policy.Config) string {
	return fmt.Sprintf("%s, %s, %s, %s", plural(len(cfg.Users), "user"), plural(len(cfg.Groups), "group"),
		plural(len(cfg.Clients), "client"), plural(len(cfg.MCPServers), "MCP server"))
}

// serverIDs lists the ids of cfg's MCP servers, for a mistyped one: the
// first 20, then how many more.
func serverIDs(cfg *policy.Config) string {
	var ids []string
	for _, srv := range cfg.MCPServers {
		if len(ids) == 20 {
			ids = append(ids, fmt.Sprintf("and %d more", len(cfg.MCPServers)-20))
			break
		}
		ids = append(ids, srv.ID)
	}
	return strings.Join(ids, ", ")
}

func runExplain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	// It prints names from the configuration and the client_id it was given.
	stdout, stderr = terminalSafe(stdout), terminalSafe(stderr)
	fs := newFlagSet("explain", stdout, stderr)
	configFile := fs.String("config", "", "configuration file (default: the embedded demo configuration)")
	user := fs.String("user", "", "username (required)")
	client := fs.String("client", "", "IdP client_id (required)")
	audience := fs.String("audience", "", "MCP server: its authorization server issuer, an alias, or its id (required)")
	resource := fs.String("resource", "", "the MCP server's resource URL")
	authAge := fs.Duration("auth-age", 0, "how long ago the user logged in (for max_auth_age step-up rules)")
	tenant := fs.String("tenant", "", "the tenant whose policy decides (required when the file has tenants:)")
	clockAt := fs.String("clock", "", "decide at this RFC 3339 time, as serve --clock does (default: now), for expires and max_auth_age")
	var scopes listFlag
	fs.Var(&scopes, "scope", "requested scopes (repeatable)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *authAge < 0 {
		fmt.Fprintf(stderr, "xaa-idp explain: %s: a login age cannot be negative; want how long ago the user logged in, a duration such as 1h\n", flagValue(fs, "auth-age", authAge.String()))
		return exitUsage
	}
	clock, err := newClock(fs, *clockAt, true)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp explain:", err)
		return exitUsage
	}
	if *user == "" || *client == "" || *audience == "" {
		fmt.Fprintln(stderr, "xaa-idp explain: --user, --client and --audience are required")
		return exitUsage
	}
	cfg, err := loadConfig(*configFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if cfg, err = pickTenant(fs, cfg, *tenant); err != nil {
		fmt.Fprintln(stderr, "xaa-idp explain:", err)
		return exitUsage
	}
	// The id is accepted here for convenience.
	aud, _, unknown := cfg.ExplainAudience(*audience)
	if unknown {
		// A mistyped id: the decision says the audience is unknown, this
		// says what it could have been.
		fmt.Fprintf(stderr, "xaa-idp explain: %s names no MCP server; their ids: %s (or give an issuer or alias)\n", flagValue(fs, "audience", aud), serverIDs(cfg))
	}
	now := clock.Now()
	e := cfg.Explain(policy.Request{
		Username: *user, ClientID: *client, Audience: aud, Resource: *resource,
		Scopes: scopes, AuthTime: now.Add(-*authAge), Now: now,
	})
	printExplanation(stdout, e)
	return exitOK
}

// pickTenant returns the configuration --tenant names: a tenant of a
// file with tenants, where it is required (each tenant is its own IdP
// with its own policy), or the file itself, where it must be empty.
func pickTenant(fs *flag.FlagSet, cfg *policy.Config, id string) (*policy.Config, error) {
	ids := strings.Join(cfg.TenantIDs(), ", ")
	switch {
	case len(cfg.Tenants) == 0 && id != "":
		return nil, fmt.Errorf("%s: the configuration has no tenants:; leave --tenant out", flagValue(fs, "tenant", id))
	case len(cfg.Tenants) == 0:
		return cfg, nil
	case id == "":
		return nil, fmt.Errorf("the configuration has tenants, each with its own policy: add --tenant with one of %s", ids)
	}
	if t := cfg.Tenant(id); t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("%s: no such tenant; the tenants are %s", flagValue(fs, "tenant", id), ids)
}

// issuerTenant returns the configuration of the IdP at issuer: the file
// itself when it has no tenants, else the tenant whose issuer issuer is,
// the base URL followed by the tenant's path (the longest path that ends
// issuer's, as two tenants may be /acme and /t/acme).
func issuerTenant(fs *flag.FlagSet, cfg *policy.Config, file, issuer string) (*policy.Config, error) {
	if len(cfg.Tenants) == 0 {
		return cfg, nil
	}
	var found *policy.Config
	if u, err := url.Parse(issuer); err == nil {
		p := strings.TrimSuffix(u.Path, "/")
		for _, t := range cfg.Tenants {
			if strings.HasSuffix(p, t.Path) && (found == nil || len(t.Path) > len(found.Path)) {
				found = t
			}
		}
	}
	if found != nil {
		return found, nil
	}
	paths := make([]string, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		paths[i] = t.Path
	}
	return nil, fmt.Errorf("%s is the issuer of no tenant of %s: give a tenant's, the base URL followed by its path: %s", flagValue(fs, "issuer", issuer), file, strings.Join(paths, ", "))
}

func printExplanation(w io.Writer, e policy.Explanation) {
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-9s %s\n", k+":", v)
		}
	}
	if e.Allowed {
		row("decision", "allowed")
	} else {
		row("decision", "refused ("+e.Error+")")
	}
	if e.Server != "" {
		row("server", e.Server+" ("+e.Audience+")")
	}
	row("scopes", strings.Join(e.Scopes, " "))
	row("client", e.ServerClientID)
	rule := e.Rule
	if rule == "" {
		// explain names the rule that decided (README.md, "Commands"); when
		// no access or deny entry did (default deny, a disabled user, an
		// unknown audience), the line says so instead of going missing.
		rule = "none (no access or deny entry; the reason says what decided)"
	}
	row("rule", rule)
	row("reason", e.Reason)
	if !e.Allowed {
		row("client sees", e.Description)
	}
	if e.MaxAge > 0 {
		row("max_age", fmt.Sprint(e.MaxAge))
	}
	// The time-bound entries that would have matched, as the admin API's
	// explain lists them under "expired" (docs/configuration.md).
	expired := make([]string, len(e.Expired))
	for i, x := range e.Expired {
		expired[i] = x.Rule + " at " + x.At.UTC().Format(time.RFC3339Nano)
	}
	row("expired", strings.Join(expired, ", "))
	if j := e.IDJAG; j != nil {
		row("persona", j.Persona)
		shape := fmt.Sprintf("resource_claim=%t aud=%s email=%t tenant_claim=%t", j.ResourceClaim, j.Aud, j.Email, j.TenantClaim)
		if j.SigningAlg != "" {
			shape += " signing_alg=" + j.SigningAlg
		}
		if j.AudTenant != "" {
			shape += " aud_tenant=" + j.AudTenant
		}
		if j.IncludeEmail {
			shape += " include_email=true"
		}
		row("id_jag", shape)
	}
}
