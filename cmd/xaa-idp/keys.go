package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runKeys calls a running IdP's admin API: `keys rotate` publishes new
// signing keys, `keys list` shows the published ones.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stdout, stderr = terminalSafe(stdout), terminalSafe(stderr) // they print what servers said
	const keysUsage = "Usage: xaa-idp keys rotate|list [--issuer URL] --admin-user U --admin-password P [--ca-file FILE]"
	if len(args) > 0 && isHelpFlag(args[0]) {
		// As every other command's -h: the flags, with their defaults.
		fmt.Fprintln(stdout, keysUsage)
		fs, _, _, _, _ := keysFlags("keys", stdout, stdout)
		fs.PrintDefaults()
		return exitOK
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "xaa-idp keys: name the action, rotate or list")
		fmt.Fprintln(stderr, keysUsage)
		return exitUsage
	}
	if strings.HasPrefix(args[0], "-") {
		// The flags stop at the first word that is not one: an action
		// after them would be an unexpected argument. The example keeps
		// the values given (a password) off the terminal.
		action := "rotate|list"
		if last := args[len(args)-1]; last == "rotate" || last == "list" {
			action = last
		}
		fmt.Fprintf(stderr, "xaa-idp keys: name the action, rotate or list, before the flags: xaa-idp keys %s --admin-user U --admin-password P\n", action)
		fmt.Fprintln(stderr, keysUsage)
		return exitUsage
	}
	action, args := args[0], args[1:]
	var method, path string
	switch action {
	case "rotate":
		method, path = http.MethodPost, "/admin/api/keys/rotate"
	case "list":
		method, path = http.MethodGet, "/admin/api/keys"
	default:
		fmt.Fprintf(stderr, "xaa-idp keys: unknown action %q; use rotate or list\n", action)
		return exitUsage
	}
	fs, issuer, user, password, caFile := keysFlags("keys "+action, stdout, stderr)
	if code, stop := parse(fs, args); stop {
		return code
	}
	if *user == "" || *password == "" {
		// No user has an empty password: without one the call could only
		// be a failed admin login, counted by the user's login throttle.
		fmt.Fprintln(stderr, "xaa-idp keys: --admin-user and --admin-password are required")
		return exitUsage
	}
	if err := checkHTTPURL(fs, "issuer", *issuer); err != nil {
		fmt.Fprintln(stderr, "xaa-idp keys:", err)
		return exitUsage
	}
	hc, err := httpClient(fs, *caFile)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp keys:", err)
		return exitUsage
	}
	body, err := adminCall(ctx, hc, method, strings.TrimSuffix(*issuer, "/"), path, *user, *password)
	if err != nil {
		fmt.Fprintln(stderr, "xaa-idp keys "+action+":", oneLine(err.Error()))
		hintUntrusted(stderr, "keys "+action, err)
		hintRefused(stderr, "keys "+action, "--issuer", err)
		hintPlainHTTP(stderr, "keys "+action, "--issuer", *issuer, err)
		return exitFailure
	}
	_, _ = stdout.Write(body)
	return exitOK
}

// keysFlags defines the flags of keys rotate and keys list.
func keysFlags(name string, stdout, stderr io.Writer) (fs *flag.FlagSet, issuer, user, password, caFile *string) {
	fs = newFlagSet(name, stdout, stderr)
	issuer = fs.String("issuer", "http://127.0.0.1:8080", "the running IdP's issuer URL")
	user = fs.String("admin-user", "", "an admin user's username (required)")
	password = fs.String("admin-password", "", "the admin user's password (required)")
	caFile = addCAFileFlag(fs)
	return fs, issuer, user, password, caFile
}

// adminCall sends one admin API request (issuer, then path) with HTTP
// Basic and returns the body of a 2xx answer; any other answer is an
// error that carries the API's error_description.
func adminCall(ctx context.Context, hc *http.Client, method, issuer, path, user, password string) ([]byte, error) {
	url := issuer + path
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(user, password)
	// A redirect is not followed: Go's client would send the password on
	// to the same host name on any port or scheme, plain http included.
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, fmt.Errorf("%s answered %s to %q: an admin API request, which carries the admin's password, is not sent on; give the IdP's issuer as --issuer", url, resp.Status, resp.Header.Get("Location"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s answered %s: %s: %s", url, resp.Status, e.Error, e.Description)
		}
		if speaksHTTPS(resp, body) {
			return nil, fmt.Errorf("%s answered %s: the server speaks https: give the issuer as https://%s", url, resp.Status, strings.TrimPrefix(issuer, "http://"))
		}
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	if !json.Valid(body) {
		// The admin API answers JSON: a web page answering 200 (a front
		// end's catch-all, another service on the port) did nothing.
		kind := resp.Header.Get("Content-Type")
		if kind == "" {
			kind = "no Content-Type"
		}
		return nil, fmt.Errorf("%s answered %s with %s, not the admin API's JSON: give the IdP's issuer as --issuer", url, resp.Status, kind)
	}
	return body, nil
}

// speaksHTTPS reports whether resp, whose body begins with body, is how
// Go's https servers (serve --tls) answer a plain http request.
func speaksHTTPS(resp *http.Response, body []byte) bool {
	return resp.StatusCode == http.StatusBadRequest && resp.Request.URL.Scheme == "http" && bytes.Contains(body, []byte("HTTP request to an HTTPS server"))
}
