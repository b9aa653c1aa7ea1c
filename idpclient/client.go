// Package idpclient is a small OAuth client for xaa-idp: a browserless
// code + PKCE login and an RFC 8693 token exchange for an ID-JAG. The CLI's
// login, exchange and connect commands and the tests use it; it speaks only
// the wire protocol, so it works against any IdP with a compatible login form.
package idpclient

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/dpop"
)

// Metadata is the part of the IdP's discovery document the client uses.
type Metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	// IssParameter is authorization_response_iss_parameter_supported: the
	// authorization response names its issuer (RFC 9207).
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// Discover fetches the issuer's OpenID configuration and checks that it
// names the same issuer (OIDC Discovery section 4.3).
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	// The issuer as given may end in a slash (Auth0's do); the discovery
	// URL drops it (OIDC Discovery section 4.1).
	given := issuer
	issuer = strings.TrimSuffix(issuer, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, err
	}
	resp, err := noDowngrade(client(hc)).Do(req)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Go's https servers answer plain http with this 400 (serve --tls).
		// Read as the token endpoint's errors are: a root of many
		// tenants lists more issuers than 4 KiB hold.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode == http.StatusBadRequest && req.URL.Scheme == "http" && strings.Contains(string(body), "HTTP request to an HTTPS server") {
			return nil, fmt.Errorf("discovery: %s answered %s: the server speaks https: give the issuer as https://%s", req.URL, resp.Status, strings.TrimPrefix(given, "http://"))
		}
		// The root of an xaa-idp with tenants says which issuers it has.
		var e struct {
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && e.Description != "" {
			return nil, fmt.Errorf("discovery: %s answered %s: %s", req.URL, resp.Status, e.Description)
		}
		return nil, fmt.Errorf("discovery: %s answered %s", req.URL, resp.Status)
	}
	var m Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&m); err != nil {
		// A web page (another service on the port, a front end's
		// catch-all): the decoder's "invalid character '<'" named
		// neither the URL nor the issuer to fix.
		kind := resp.Header.Get("Content-Type")
		switch {
		case kind == "":
			kind = "no Content-Type"
		case strings.Contains(kind, "json"):
			kind += fmt.Sprintf(" that does not parse (%v)", err)
		}
		return nil, fmt.Errorf("discovery: %s answered %s with %s, not the IdP's metadata: give the IdP's issuer (--issuer)", req.URL, resp.Status, kind)
	}
	if m.Issuer != given && m.Issuer != issuer {
		if m.Issuer == issuer+"/" {
			return nil, fmt.Errorf("discovery: metadata issuer %q differs from %q: give the issuer with its trailing slash", m.Issuer, given)
		}
		return nil, fmt.Errorf("discovery: metadata issuer %q differs from %q", m.Issuer, given)
	}
	// The login posts the password to the authorization endpoint's form and
	// the client secret to the token endpoint: an https issuer's must be
	// https too.
	for name, u := range map[string]string{"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint} {
		if u != "" && downgrade(req.URL, u) {
			return nil, fmt.Errorf("discovery: %s %q of the https issuer %s is not https", name, u, issuer)
		}
	}
	return &m, nil
}

// downgrade reports whether going from an https URL to target leaves
// https.
func downgrade(from *url.URL, target string) bool {
	u, err := url.Parse(target)
	return from.Scheme == "https" && (err != nil || !strings.EqualFold(u.Scheme, "https"))
}

// noDowngrade is hc, but it refuses a redirect from https to anything else:
// a discovery document fetched over plain http could name the https issuer
// with endpoints of whoever answered.
func noDowngrade(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if downgrade(via[len(via)-1].URL, req.URL.String()) {
			return fmt.Errorf("redirect from https to %s refused", req.URL.Redacted())
		}
		if hc.CheckRedirect != nil {
			return hc.CheckRedirect(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

func client(hc *http.Client) *http.Client {
	if hc == nil {
		return http.DefaultClient
	}
	return hc
}

// LoginOptions describe a login.
type LoginOptions struct {
	Issuer       string
	ClientID     string
	ClientSecret string // empty for a public client
	// ClientAssertion, when set, authenticates the code redemption with
	// private_key_jwt (RFC 7523 section 2.2) instead of a secret.
	ClientAssertion string
	Username        string
	Password        string
	// Scopes are the scopes to request. Nil asks for every claim and a
	// refresh token: openid profile email groups offline_access. An empty,
	// non-nil slice sends no scope parameter, which the IdP takes as
	// openid (RFC 6749 section 3.3).
	Scopes      []string
	RedirectURI string // default: http://127.0.0.1/callback
	Nonce       string // optional
	HTTPClient  *http.Client
}

// Tokens is a token endpoint response.
type Tokens map[string]any

// IDToken returns the id_token member.
func (t Tokens) IDToken() string { s, _ := t["id_token"].(string); return s }

// RefreshToken returns the refresh_token member.
func (t Tokens) RefreshToken() string { s, _ := t["refresh_token"].(string); return s }

// Error is an OAuth error answer (RFC 6749 section 5.2) or a redirect
// carrying one (section 4.1.2.1).
type Error struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
	Body        map[string]any
}

func (e *Error) Error() string {
	if e.Code == "" {
		// A JSON answer that is no OAuth error (a gateway's {"message": ...}).
		return fmt.Sprintf("HTTP %d %s without an OAuth error code", e.Status, http.StatusText(e.Status))
	}
	if e.Description != "" {
		return e.Code + ": " + e.Description
	}
	return e.Code
}

// Login runs the authorization code flow with PKCE (S256) without a
// browser: it follows the IdP's redirects, fills in the login form with
// username and password, catches the redirect to RedirectURI and redeems
// the code.
func Login(ctx context.Context, o LoginOptions) (Tokens, error) {
	meta, err := Discover(ctx, o.HTTPClient, o.Issuer)
	if err != nil {
		return nil, err
	}
	if o.RedirectURI == "" {
		o.RedirectURI = DefaultRedirectURI
	}
	if o.Scopes == nil {
		o.Scopes = []string{"openid", "profile", "email", "groups", "offline_access"}
	}
	jar, _ := cookiejar.New(nil)
	base := client(o.HTTPClient)
	hc := &http.Client{
		Transport:     base.Transport,
		Jar:           jar,
		Timeout:       base.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	verifier := randomString(48)
	sum := sha256.Sum256([]byte(verifier))
	state := randomString(16)
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {o.ClientID},
		"redirect_uri":          {o.RedirectURI},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if len(o.Scopes) > 0 {
		q.Set("scope", strings.Join(o.Scopes, " "))
	}
	if o.Nonce != "" {
		q.Set("nonce", o.Nonce)
	}
	next := meta.AuthorizationEndpoint + "?" + q.Encode()
	var req *http.Request
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
	if err != nil {
		return nil, err
	}
	posted := false
	for hop := 0; hop < 10; hop++ {
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "":
			target, err := req.URL.Parse(loc)
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(target.String(), o.RedirectURI) {
				return redeem(ctx, base, meta, o, target.Query(), state, verifier)
			}
			if downgrade(req.URL, target.String()) {
				// The next page may be the login form, which gets the password.
				return nil, fmt.Errorf("login: %s redirected from https to %s", req.URL.Redacted(), target.Redacted())
			}
			req, err = http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
			if err != nil {
				return nil, err
			}
		case resp.StatusCode == http.StatusOK && !posted && strings.Contains(string(body), `name="password"`):
			// The login page: post the credentials back with the request id.
			form := url.Values{
				"authRequestID": {req.URL.Query().Get("authRequestID")},
				"username":      {o.Username},
				"password":      {o.Password},
			}
			req, err = http.NewRequestWithContext(ctx, http.MethodPost, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path, strings.NewReader(form.Encode()))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			posted = true
		case resp.StatusCode == http.StatusUnauthorized && posted:
			return nil, &Error{Status: resp.StatusCode, Code: "access_denied", Description: "login refused: " + loginMessage(string(body))}
		default:
			if e := oauthErrorPage(resp.StatusCode, body); e != nil {
				// A refusal that cannot be redirected (an unknown
				// client_id or redirect_uri, RFC 6749 section 4.1.2.1).
				return nil, e
			}
			return nil, fmt.Errorf("login: unexpected %s from %s: %s", resp.Status, req.URL, excerpt(body))
		}
	}
	return nil, errors.New("login: too many redirects")
}

// oauthErrorPage is an error answer whose body is a JSON OAuth error
// (an "error" code), else nil.
func oauthErrorPage(status int, body []byte) *Error {
	if status < 400 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	code, _ := m["error"].(string)
	if code == "" {
		return nil
	}
	e := &Error{Status: status, Code: code, Body: m}
	e.Description, _ = m["error_description"].(string)
	return e
}

// maxExcerpt is how much of an unexpected page an error quotes: enough to
// recognize it, not a screenful of HTML that hides the status line.
const maxExcerpt = 300

// excerpt is the start of a page for an error message.
func excerpt(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) <= maxExcerpt {
		return s
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes)", len(body))
}

// loginMessage is the text of the login page's refusal: the element marked
// role="alert", whatever other attributes it has, its inner tags (a <bdi>
// around a username) dropped and its entities decoded.
func loginMessage(page string) string {
	if i := strings.Index(page, `role="alert"`); i >= 0 {
		rest := page[i:]
		if j := strings.IndexByte(rest, '>'); j >= 0 {
			rest = rest[j+1:]
			if k := strings.Index(rest, "</p>"); k >= 0 {
				var text strings.Builder
				inTag := false
				for _, c := range rest[:k] {
					switch {
					case c == '<':
						inTag = true
					case c == '>':
						inTag = false
					case !inTag:
						text.WriteRune(c)
					}
				}
				if msg := strings.TrimSpace(html.UnescapeString(text.String())); msg != "" {
					return excerpt([]byte(msg))
				}
			}
		}
	}
	return "invalid credentials"
}

func redeem(ctx context.Context, hc *http.Client, meta *Metadata, o LoginOptions, q url.Values, state, verifier string) (Tokens, error) {
	// RFC 9207 section 2.4, before anything in the response is believed: an
	// iss must be the issuer discovered, and one that announces the
	// parameter must send it.
	if iss, sent := q["iss"]; sent && (len(iss) != 1 || iss[0] != meta.Issuer) {
		return nil, fmt.Errorf("login: the authorization response comes from issuer %q, not %q (RFC 9207)", strings.Join(iss, " "), meta.Issuer)
	} else if !sent && meta.IssParameter {
		return nil, fmt.Errorf("login: the authorization response has no iss, which %s announces (RFC 9207)", meta.Issuer)
	}
	if e := q.Get("error"); e != "" {
		return nil, &Error{Code: e, Description: q.Get("error_description")}
	}
	if q.Get("state") != state {
		return nil, fmt.Errorf("login: state mismatch in the redirect")
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {q.Get("code")},
		"redirect_uri":  {o.RedirectURI},
		"code_verifier": {verifier},
		"client_id":     {o.ClientID},
	}
	if o.ClientSecret != "" {
		form.Set("client_secret", o.ClientSecret)
	}
	if o.ClientAssertion != "" {
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", o.ClientAssertion)
	}
	return post(ctx, hc, meta.TokenEndpoint, form, nil)
}

// ExchangeOptions describe a token exchange for an ID-JAG.
type ExchangeOptions struct {
	Issuer           string // used to discover the token endpoint when TokenEndpoint is empty
	TokenEndpoint    string
	ClientID         string
	ClientSecret     string // sent client_secret_post; empty for a public client
	SubjectToken     string
	SubjectTokenType string // default: ID token
	Audience         string
	Resource         string
	Scopes           []string
	HTTPClient       *http.Client
	// DPoPKey, when set, sends a DPoP proof of it (RFC 9449 section 5),
	// for an ID-JAG bound to the key (cnf.jkt).
	DPoPKey crypto.Signer
}

// Token types of RFC 8693 and the ID-JAG draft.
const (
	TokenTypeIDJAG   = "urn:ietf:params:oauth:token-type:id-jag"
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeRefresh = "urn:ietf:params:oauth:token-type:refresh_token"
)

// Exchange asks the IdP for an ID-JAG. On success the result holds
// access_token (the ID-JAG), issued_token_type, token_type, expires_in
// and scope.
func Exchange(ctx context.Context, o ExchangeOptions) (Tokens, error) {
	endpoint, err := tokenEndpoint(ctx, o.HTTPClient, o.Issuer, o.TokenEndpoint)
	if err != nil {
		return nil, err
	}
	if o.SubjectTokenType == "" {
		o.SubjectTokenType = TokenTypeIDToken
	}
	form := url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"requested_token_type": {TokenTypeIDJAG},
		"subject_token":        {o.SubjectToken},
		"subject_token_type":   {o.SubjectTokenType},
		"audience":             {o.Audience},
		"client_id":            {o.ClientID},
	}
	if o.Resource != "" {
		form.Set("resource", o.Resource)
	}
	if len(o.Scopes) > 0 {
		form.Set("scope", strings.Join(o.Scopes, " "))
	}
	if o.ClientSecret != "" {
		form.Set("client_secret", o.ClientSecret)
	}
	var header http.Header
	if o.DPoPKey != nil {
		proof, err := dpop.NewProof(o.DPoPKey, dpop.Params{Method: http.MethodPost, URL: endpoint})
		if err != nil {
			return nil, fmt.Errorf("DPoP proof: %w", err)
		}
		header = http.Header{dpop.Header: {proof}}
	}
	return post(ctx, client(o.HTTPClient), endpoint, form, header)
}

// RefreshOptions describe a refresh token grant (RFC 6749 section 6).
type RefreshOptions struct {
	Issuer        string
	TokenEndpoint string // optional: skips discovery
	ClientID      string
	ClientSecret  string // empty for a public client
	RefreshToken  string
	HTTPClient    *http.Client
}

// Refresh redeems a refresh token for new tokens: with the openid scope
// granted, a new ID token (OIDC Core section 12.2) and, as this IdP rotates
// them, a new refresh token.
func Refresh(ctx context.Context, o RefreshOptions) (Tokens, error) {
	endpoint, err := tokenEndpoint(ctx, o.HTTPClient, o.Issuer, o.TokenEndpoint)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {o.RefreshToken}, "client_id": {o.ClientID}}
	if o.ClientSecret != "" {
		form.Set("client_secret", o.ClientSecret)
	}
	return post(ctx, client(o.HTTPClient), endpoint, form, nil)
}

// tokenEndpoint is given, or else found by discovery at the issuer.
func tokenEndpoint(ctx context.Context, hc *http.Client, issuer, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	meta, err := Discover(ctx, hc, issuer)
	if err != nil {
		return "", err
	}
	return meta.TokenEndpoint, nil
}

func post(ctx context.Context, hc *http.Client, endpoint string, form url.Values, header http.Header) (Tokens, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := noRedirects(hc).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, fmt.Errorf("%s answered %s to %s: a token request, which carries the client's credentials, is not sent on", endpoint, resp.Status, loc)
	}
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("%s answered %s without a JSON body", endpoint, resp.Status)
	}
	code, isError := body["error"].(string)
	if resp.StatusCode != http.StatusOK || isError {
		e := &Error{Status: resp.StatusCode, Body: body, Code: code}
		e.Description, _ = body["error_description"].(string)
		return nil, e
	}
	// access_token is required in every success (RFC 6749 section 5.1,
	// RFC 8693 section 2.2.1): without it the answer is no success.
	if at, _ := body["access_token"].(string); at == "" {
		return nil, fmt.Errorf("%s answered %s without an access_token", endpoint, resp.Status)
	}
	return body, nil
}

// noRedirects is hc, but it returns a redirect instead of following it:
// a client following a 307 or 308 would post the same form (client
// secret, code and verifier, subject or refresh token) to wherever the
// Location says, another host or plain http. Token endpoints do not
// redirect (RFC 6749 section 3.2 names one URL).
func noRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AssignedServer is one MCP server of the IdP's assigned-servers endpoint.
type AssignedServer struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Issuer      string   `json:"issuer"`
	Resource    string   `json:"resource"`
	ClientID    string   `json:"client_id"`
	Assigned    bool     `json:"assigned"`
	Scopes      []string `json:"scopes"`
	Error       string   `json:"error"`
	Description string   `json:"error_description"`
}

// AssignedServers asks the IdP which MCP servers the signed-in user may
// reach through this client (xaa-idp's xaa_mcp_servers_endpoint extension),
// with the access token of a login.
func AssignedServers(ctx context.Context, hc *http.Client, issuer, accessToken string) ([]AssignedServer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuer, "/")+"/me/mcp-servers", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := noDowngrade(client(hc)).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		err := fmt.Errorf("assigned MCP servers: %s answered %s: %s", req.URL, resp.Status, excerpt(b))
		if resp.StatusCode == http.StatusUnauthorized {
			return nil, &TokenRefusedError{err}
		}
		return nil, err
	}
	var body struct {
		Servers []AssignedServer `json:"mcp_servers"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("assigned MCP servers: %w", err)
	}
	return body.Servers, nil
}

// TokenRefusedError is AssignedServers' error when the IdP refused the
// access token (401 invalid_token): it expired, or the login was ended. A
// refresh of the login may give one it takes.
type TokenRefusedError struct{ err error }

func (e *TokenRefusedError) Error() string { return e.err.Error() }

// DefaultRedirectURI is the redirect URI a login uses unless told another:
// a loopback one, which the IdP matches on any port (RFC 8252 section 7.3).
const DefaultRedirectURI = "http://127.0.0.1/callback"

// RedirectFor is the redirect URI a browserless login of a client with the
// registered redirect URIs should ask for: "" (DefaultRedirectURI) when it
// has that one or none, else its first, since the IdP takes only a
// registered one.
func RedirectFor(registered []string) string {
	if len(registered) == 0 || slices.Contains(registered, DefaultRedirectURI) {
		return ""
	}
	return registered[0]
}
