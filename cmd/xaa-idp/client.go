package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/xaa-idp/xaa-idp/connect"
	"github.com/xaa-idp/xaa-idp/dpop"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/policy"
)

func runLogin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stdout, stderr = terminalSafe(stdout), terminalSafe(stderr) // they print what servers said
	fs := newFlagSet("login", stdout, stderr)
	issuer := fs.String("issuer", "http://127.0.0.1:8080", "the IdP's issuer URL")
	clientID := fs.String("client-id", "", "client_id registered at the IdP (required)")
	secret := fs.String("client-secret", "", "client secret (omit for a public client)")
	username := fs.String("username", "", "user to log in (required)")
	password := fs.String("password", "", "the user's password (required)")
	redirect := fs.String("redirect-uri", idpclient.DefaultRedirectURI, "a redirect URI registered for the client")
	printOnly := fs.String("print", "", "print only this member of the token response: id_token, access_token or refresh_token")
	caFile := addCAFileFlag(fs)
	timeout := addTimeoutFlag(fs)
	var scopes listFlag
	fs.Var(&scopes, "scope", "scopes (repeatable; default: openid profile email groups offline_access; --scope '' sends none, which the IdP takes as openid)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if scopes == nil && flagGiven(fs, "scope") {
		scopes = listFlag{} // --scope '': no scope parameter at all
	}
	if *clientID == "" || *username == "" || *password == "" {
		fmt.Fprintln(stderr, "xaa-idp login: --client-id, --username and --password are required")
		return exitUsage
	}
	if err := checkHTTPURL(fs, "issuer", *issuer); err != nil {
		fmt.Fprintln(stderr, "xaa-idp login:", err)
		return exitUsage
	}
	switch *printOnly {
	case "", "id_token", "access_token", "refresh_token":
	default:
		fmt.Fprintf(stderr, "xaa-idp login: %s: use id_token, access_token or refresh_token\n", flagValue(fs, "print", *printOnly))
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "xaa-idp login: %s must be positive, such as 30s\n", flagRef(fs, "timeout"))
		return exitUsage
	}
	hc, err := httpClient(fs, *caFile)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp login:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{
		Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret, Username: *username,
		Password: *password, Scopes: scopes, RedirectURI: *redirect, HTTPClient: hc,
	})
	if err != nil {
		code := reportError(stdout, stderr, "login", err, *timeout)
		hintRedirect(stderr, "login", err, *redirect)
		hintPlainHTTP(stderr, "login", "--issuer", *issuer, err)
		return code
	}
	if *printOnly == "" {
		printJSON(stdout, tok)
		return exitOK
	}
	v, _ := tok[*printOnly].(string)
	if v == "" {
		// The scope that brings it (OIDC Core sections 3.1.2.1 and 11).
		scope := map[string]string{"id_token": "openid", "refresh_token": "offline_access"}[*printOnly]
		fmt.Fprintf(stderr, "xaa-idp login: the token response has no %s (%s needs the %s scope)\n", *printOnly, *printOnly, scope)
		return exitFailure
	}
	fmt.Fprintln(stdout, v)
	return exitOK
}

func runExchange(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stdout, stderr = terminalSafe(stdout), terminalSafe(stderr) // they print what servers said
	fs := newFlagSet("exchange", stdout, stderr)
	issuer := fs.String("issuer", "http://127.0.0.1:8080", "the IdP's issuer URL")
	clientID := fs.String("client-id", "", "client_id registered at the IdP (required)")
	secret := fs.String("client-secret", "", "client secret (omit for a public client)")
	idToken := fs.String("id-token", "", "the user's ID token (the subject token)")
	refresh := fs.String("refresh-token", "", "a refresh token of the IdP as the subject, instead of --id-token")
	audience := fs.String("audience", "", "issuer of the MCP server's authorization server, or with --config the MCP server's id (required)")
	resource := fs.String("resource", "", "the MCP server's resource URL (with --config and a server id: its first resource)")
	configFile := fs.String("config", "", "the IdP's configuration file, to name the MCP server by its id in --audience")
	decode := fs.Bool("decode", false, "add the decoded ID-JAG's header and claims to the printed response, as its \"decoded\" member")
	dpopFile := fs.String("dpop-key", "", "send a DPoP proof of the private key in this file (PEM or JWK; created when missing: EC P-256, mode 0600), so that the ID-JAG is bound to it (cnf.jkt); 'xaa-idp dpop-proof --dpop-key FILE' makes the proofs to redeem it")
	caFile := addCAFileFlag(fs)
	timeout := addTimeoutFlag(fs)
	var scopes listFlag
	fs.Var(&scopes, "scope", "scopes at the MCP server (repeatable)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *clientID == "" || *audience == "" || *idToken == "" && *refresh == "" {
		fmt.Fprintln(stderr, "xaa-idp exchange: --client-id, --audience and one of --id-token or --refresh-token are required")
		return exitUsage
	}
	if *idToken != "" && *refresh != "" {
		// One subject_token per request (RFC 8693 section 2.1).
		fmt.Fprintln(stderr, "xaa-idp exchange: give only one of --id-token and --refresh-token: each is the subject token")
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "xaa-idp exchange: %s must be positive, such as 30s\n", flagRef(fs, "timeout"))
		return exitUsage
	}
	for flagName, v := range map[string]string{"id-token": *idToken, "refresh-token": *refresh} {
		if err := checkUnquoted(fs, flagName, v); err != nil {
			fmt.Fprintf(stderr, "xaa-idp exchange: %v, or 'xaa-idp login --print %s'\n", err, strings.ReplaceAll(flagName, "-", "_"))
			return exitUsage
		}
	}
	if err := checkHTTPURL(fs, "issuer", *issuer); err != nil {
		fmt.Fprintln(stderr, "xaa-idp exchange:", err)
		return exitUsage
	}
	aud, res := *audience, *resource
	unknownID := "" // with --config, the servers' ids when --audience names none
	ofFile := *configFile
	if *configFile != "" {
		cfg, err := policy.Load(*configFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		if cfg, err = issuerTenant(fs, cfg, *configFile, *issuer); err != nil {
			fmt.Fprintln(stderr, "xaa-idp exchange:", err)
			return exitUsage
		}
		if cfg.ID != "" {
			ofFile += " (tenant " + cfg.ID + ")"
		}
		// As explain does: an id that is not also an audience names the
		// server, whose issuer is the audience.
		var s *policy.MCPServer
		var unknown bool
		if aud, s, unknown = cfg.ExplainAudience(aud); s != nil && res == "" && len(s.Resources) > 0 {
			res = s.Resources[0]
		} else if unknown {
			unknownID = serverIDs(cfg)
		}
	}
	hc, err := httpClient(fs, *caFile)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp exchange:", err)
		return exitUsage
	}
	o := idpclient.ExchangeOptions{
		Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret, SubjectToken: *idToken,
		Audience: aud, Resource: res, Scopes: scopes, HTTPClient: hc,
	}
	if *dpopFile != "" {
		if o.DPoPKey, err = dpopKey(stderr, "exchange", flagRef(fs, "dpop-key"), *dpopFile, true); err != nil {
			fmt.Fprintln(stderr, "xaa-idp exchange:", err)
			return exitUsage
		}
	}
	if *refresh != "" {
		o.SubjectToken, o.SubjectTokenType = *refresh, idpclient.TokenTypeRefresh
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	resp, err := idpclient.Exchange(ctx, o)
	if err != nil {
		code := reportError(stdout, stderr, "exchange", err, *timeout)
		hintPlainHTTP(stderr, "exchange", "--issuer", *issuer, err)
		var oe *idpclient.Error
		if errors.As(err, &oe) && oe.Code == "invalid_target" && *configFile == "" && !strings.Contains(aud, ":") {
			fmt.Fprintf(stderr, "xaa-idp exchange: %s is not a URL: to name an MCP server by its id, add --config with the IdP's configuration file (the built-in demo's is fixtures/demo.yaml)\n", flagValue(fs, "audience", aud))
		}
		if o.DPoPKey != nil {
			hintDPoPClock(stderr, err)
		}
		if errors.As(err, &oe) && oe.Code == "invalid_target" && unknownID != "" {
			fmt.Fprintf(stderr, "xaa-idp exchange: %s names no MCP server of %s; their ids: %s (or give an issuer or alias)\n", flagValue(fs, "audience", aud), ofFile, unknownID)
		}
		return code
	}
	if o.DPoPKey != nil {
		warnUnbound(stderr, resp, o.DPoPKey)
	}
	if *decode {
		// One JSON document, so that jq, JSON.parse and json.tool read
		// it whole: the response, with the decoded ID-JAG as a member.
		jag, _ := resp["access_token"].(string)
		header, claims, err := decodeJWT(jag)
		if err != nil {
			printJSON(stdout, resp)
			fmt.Fprintln(stderr, "xaa-idp exchange: cannot decode the ID-JAG:", err)
			return exitFailure
		}
		resp["decoded"] = map[string]any{"header": header, "claims": claims}
	}
	printJSON(stdout, resp)
	return exitOK
}

// warnUnbound says when the ID-JAG of an exchange with a DPoP proof is not
// bound to the proof's key: an IdP that ignores DPoP, or the wrong_cnf
// fault.
func warnUnbound(stderr io.Writer, resp map[string]any, key crypto.Signer) {
	jag, _ := resp["access_token"].(string)
	_, claims, _ := decodeJWT(jag)
	cnf, _ := claims["cnf"].(map[string]any)
	got, _ := cnf["jkt"].(string)
	want, _ := dpop.Thumbprint(key)
	switch {
	case got == "":
		fmt.Fprintf(stderr, "xaa-idp exchange: warning: the ID-JAG has no cnf.jkt: it is not bound to the DPoP key (jkt %s)\n", want)
	case got != want:
		fmt.Fprintf(stderr, "xaa-idp exchange: warning: the ID-JAG's cnf.jkt %s is not the DPoP key's %s: no proof of the key redeems it\n", got, want)
	}
}

// idpNowRE finds the IdP's time in the description of a proof refused for
// its iat (dpop.Verify).
var idpNowRE = regexp.MustCompile(`now \(?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\)`)

// hintDPoPClock says when a proof of --dpop-key was refused because the
// IdP's clock is not this machine's (serve --clock, the admin API's
// clock): the proof's iat is this machine's time.
func hintDPoPClock(stderr io.Writer, err error) {
	var oe *idpclient.Error
	if !errors.As(err, &oe) || oe.Code != "invalid_dpop_proof" {
		return
	}
	m := idpNowRE.FindStringSubmatch(oe.Description)
	if m == nil {
		return
	}
	idpNow, perr := time.Parse(time.RFC3339, m[1])
	if perr != nil {
		return
	}
	off, way := time.Until(idpNow), "ahead of"
	if off < 0 {
		off, way = -off, "behind"
	}
	if off < 30*time.Second {
		return
	}
	fmt.Fprintf(stderr, "xaa-idp exchange: the IdP's clock is about %s %s this machine's (serve --clock, PUT /admin/api/clock), and a DPoP proof's iat, this machine's time, must be within 60s of it: put the IdP's clock back, or exchange without --dpop-key\n", off.Round(time.Minute), way)
}

// reportError prints an OAuth error answer as JSON on stdout (scripts parse
// it) and a readable line on stderr.
func reportError(stdout, stderr io.Writer, cmd string, err error, timeout time.Duration) int {
	var oe *idpclient.Error
	if errors.As(err, &oe) {
		body := oe.Body
		if body == nil {
			body = map[string]any{"error": oe.Code, "error_description": oe.Description}
		}
		printJSON(stdout, body)
	}
	fmt.Fprintf(stderr, "xaa-idp %s: %s\n", cmd, oneLine(err.Error()))
	hintUntrusted(stderr, cmd, err)
	hintRefused(stderr, cmd, "--issuer", err)
	hintTimeout(stderr, cmd, err, timeout)
	return exitFailure
}

// checkHTTPURL refuses a URL flag that is not an http or https URL with a
// host, as bad usage before any request (Go's client would say
// "unsupported protocol scheme" and the command exit 1).
func checkHTTPURL(fs *flag.FlagSet, flagName, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s is not an http or https URL", flagValue(fs, flagName, v))
	}
	return nil
}

// checkUnquoted refuses a token in double quotes: a token is base64url
// and dots, so in quotes it is a JSON string as jq prints it without -r.
// The flag is named after the token's member in a JSON answer.
func checkUnquoted(fs *flag.FlagSet, flagName, v string) error {
	if strings.HasPrefix(v, `"`) || strings.HasSuffix(v, `"`) {
		member := strings.ReplaceAll(flagName, "-", "_")
		return fmt.Errorf("%s is in double quotes, as 'jq .%s' prints it: use 'jq -r .%s'", flagRef(fs, flagName), member, member)
	}
	return nil
}

// addTimeoutFlag is --timeout of the client commands.
func addTimeoutFlag(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("timeout", defaultClientTimeout, "give up when the servers have not answered within this long")
}

// defaultClientTimeout bounds login and exchange, and connect's login and
// each of its MCP servers: a server that accepts a connection and never
// answers is a failure, not a hang.
const defaultClientTimeout = connect.DefaultTimeout

// hintTimeout says which flag bounded a request that timed out.
func hintTimeout(stderr io.Writer, cmd string, err error, timeout time.Duration) {
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(stderr, "xaa-idp %s: no answer within --timeout %s\n", cmd, timeout)
	}
}

// hintUntrusted says how to trust the CA of `serve --tls` when a
// certificate did not verify.
func hintUntrusted(stderr io.Writer, cmd string, err error) {
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		fmt.Fprintf(stderr, "xaa-idp %s: for an IdP started with --tls, trust its local CA with --ca-file DIR/tls/ca.pem ('xaa-idp ca --state-dir DIR' prints it)\n", cmd)
	}
}

// hintRedirect says where the redirect URI the IdP did not find among the
// client's came from: login and connect send --redirect-uri, which
// defaults to http://127.0.0.1/callback, a URI a client configured with
// other redirect_uris does not have.
func hintRedirect(stderr io.Writer, cmd string, err error, redirect string) {
	var oe *idpclient.Error
	if errors.As(err, &oe) && oe.Code == "invalid_request" && strings.HasPrefix(oe.Description, "redirect_uri ") && strings.Contains(oe.Description, " is not registered for client ") {
		fmt.Fprintf(stderr, "xaa-idp %s: it logs in with the redirect URI %s: pass --redirect-uri with one of the client's redirect_uris\n", cmd, redirect)
	}
}

// hintPlainHTTP says to give the URL as http:// when an https:// one
// reached a server that speaks plain http, for which Go's client says only
// "server gave HTTP response to HTTPS client" (the opposite mistake is
// told to give https://).
func hintPlainHTTP(stderr io.Writer, cmd, flagName, given string, err error) {
	if err != nil && strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") && strings.HasPrefix(given, "https://") {
		fmt.Fprintf(stderr, "xaa-idp %s: the server speaks plain http: give %s http://%s\n", cmd, flagName, strings.TrimPrefix(given, "https://"))
	}
}

// hintRefused says what to do when nothing listens at the address a
// command dialed: most often the IdP is not started yet, or runs on
// another port than the one flagName gave.
func hintRefused(stderr io.Writer, cmd, flagName string, err error) {
	var op *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) && errors.As(err, &op) && op.Addr != nil {
		fmt.Fprintf(stderr, "xaa-idp %s: nothing answers at %s: start the IdP (xaa-idp serve), or give the URL of the one running with %s\n", cmd, op.Addr, flagName)
	}
}

func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeJWT shows a JWT's header and claims without verifying it: the
// receiving authorization server verifies; this is for reading.
func decodeJWT(raw string) (map[string]any, map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("not a compact JWS")
	}
	var out [2]map[string]any
	for i := range out {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(b, &out[i]); err != nil {
			return nil, nil, err
		}
	}
	return out[0], out[1], nil
}
