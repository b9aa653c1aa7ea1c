package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

func runLogin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("login", stderr)
	issuer := fs.String("issuer", "http://127.0.0.1:8080", "the IdP's issuer URL")
	clientID := fs.String("client-id", "", "client_id registered at the IdP (required)")
	secret := fs.String("client-secret", "", "client secret (omit for a public client)")
	username := fs.String("username", "", "user to log in (required)")
	password := fs.String("password", "", "the user's password")
	redirect := fs.String("redirect-uri", "http://127.0.0.1/callback", "a redirect URI registered for the client")
	var scopes listFlag
	fs.Var(&scopes, "scope", "scopes (repeatable; default: openid profile email offline_access)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *clientID == "" || *username == "" {
		fmt.Fprintln(stderr, "xaa-idp login: --client-id and --username are required")
		return exitUsage
	}
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{
		Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret, Username: *username,
		Password: *password, Scopes: scopes, RedirectURI: *redirect,
	})
	if err != nil {
		return reportError(stdout, stderr, "login", err)
	}
	printJSON(stdout, tok)
	return exitOK
}

func runExchange(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("exchange", stderr)
	issuer := fs.String("issuer", "http://127.0.0.1:8080", "the IdP's issuer URL")
	clientID := fs.String("client-id", "", "client_id registered at the IdP (required)")
	secret := fs.String("client-secret", "", "client secret (omit for a public client)")
	idToken := fs.String("id-token", "", "the user's ID token (the subject token)")
	refresh := fs.String("refresh-token", "", "a refresh token of the IdP as the subject, instead of --id-token")
	audience := fs.String("audience", "", "issuer of the MCP server's authorization server (required)")
	resource := fs.String("resource", "", "the MCP server's resource URL")
	decode := fs.Bool("decode", false, "also print the decoded ID-JAG header and claims")
	var scopes listFlag
	fs.Var(&scopes, "scope", "scopes at the MCP server (repeatable)")
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *clientID == "" || *audience == "" || (*idToken == "") == (*refresh == "") {
		fmt.Fprintln(stderr, "xaa-idp exchange: --client-id, --audience and one of --id-token or --refresh-token are required")
		return exitUsage
	}
	o := idpclient.ExchangeOptions{
		Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret, SubjectToken: *idToken,
		Audience: *audience, Resource: *resource, Scopes: scopes,
	}
	if *refresh != "" {
		o.SubjectToken, o.SubjectTokenType = *refresh, idpclient.TokenTypeRefresh
	}
	resp, err := idpclient.Exchange(ctx, o)
	if err != nil {
		return reportError(stdout, stderr, "exchange", err)
	}
	printJSON(stdout, resp)
	if *decode {
		jag, _ := resp["access_token"].(string)
		header, claims, err := decodeJWT(jag)
		if err != nil {
			fmt.Fprintln(stderr, "xaa-idp exchange: cannot decode the ID-JAG:", err)
			return exitFailure
		}
		printJSON(stdout, map[string]any{"header": header, "claims": claims})
	}
	return exitOK
}

// reportError prints an OAuth error answer as JSON on stdout (scripts parse
// it) and a readable line on stderr.
func reportError(stdout, stderr io.Writer, cmd string, err error) int {
	var oe *idpclient.Error
	if errors.As(err, &oe) {
		body := oe.Body
		if body == nil {
			body = map[string]any{"error": oe.Code, "error_description": oe.Description}
		}
		printJSON(stdout, body)
	}
	fmt.Fprintf(stderr, "xaa-idp %s: %v\n", cmd, err)
	return exitFailure
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
