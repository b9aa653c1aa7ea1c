// Interop test: the official MCP Python SDK's Enterprise-Managed
// Authorization client, IdentityAssertionOAuthProvider
// (src/mcp/client/auth/extensions/identity_assertion.py in
// github.com/modelcontextprotocol/python-sdk). Read at tag v2.0.0 (commit
// 6f69a3758ebf2ee55ce050f58b470ce11af71133; unchanged at
// 57394b0548d1e2dc2dce8d67d84985769df3b8bb, 2026-08-20), plus the redirect
// rule of the later releases (PR #3397, merged 2026-09-04:
// RedirectAwareAuth and next_request_within_origin in
// src/mcp/shared/_httpx_utils.py, handle_auth_metadata_response in
// src/mcp/client/auth/utils.py), read from the copies in the code index,
// whose commit is not known; the stored repository snapshot has no tag
// after v2.0.0, so mcp 2.3.0 itself could not be pinned (docs/interop.md).
// The SDK cannot be installed here, so pyProvider below replays, request by
// request, what the provider sends and every check it makes on the
// answers; docs/interop.md lists them. The SDK does not make the token
// exchange at the IdP (its docs leave it to the application's
// assertion_provider callback); pyFetchIDJAG replays the one the SDK's own
// conformance client makes (.github/actions/conformance/client.py,
// run_enterprise_managed_authorization).
package interop_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/fixtures"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// Constants of the Python SDK (mcp.shared.auth, mcp_types.version).
const (
	pyJWTBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer" // JWT_BEARER_GRANT_TYPE
	// pyLatestProtocolVersion is LATEST_PROTOCOL_VERSION, which
	// create_oauth_metadata_request sends as MCP-Protocol-Version, and
	// the version the client's server/discover probe proposes.
	pyLatestProtocolVersion = "2026-07-28"
)

// pyProvider is IdentityAssertionOAuthProvider: an httpx2.Auth wrapping
// every request the MCP client sends.
type pyProvider struct {
	t            *testing.T
	serverURL    string
	clientID     string
	clientSecret string
	issuer       string // configured, never discovered
	scope        string // "" is None
	basic        bool   // token_endpoint_auth_method client_secret_basic
	// assertion is assertion_provider(audience, resource).
	assertion func(audience, resource string) (string, error)
	now       func() time.Time // time.time()

	http          *http.Client // follows no redirect itself (httpx2's default); see sendFollowing
	tokenEndpoint string
	token         *pyToken
	expiry        time.Time // zero: no expires_in, never expires

	// What the provider sent, "METHOD URL STATUS", for the test to read.
	sent []string
}

// pyToken is mcp.shared.auth.OAuthToken after validation.
type pyToken struct {
	AccessToken string
	TokenType   string
	ExpiresIn   *int64
	Scope       *string
}

func newPyProvider(t *testing.T, serverURL, clientID, clientSecret, issuer string, assertion func(audience, resource string) (string, error)) *pyProvider {
	return &pyProvider{
		t: t, serverURL: serverURL, clientID: clientID, clientSecret: clientSecret, issuer: issuer,
		assertion: assertion, now: time.Now,
		http: pyHTTPClient(),
	}
}

// pyHTTPClient is httpx2.AsyncClient as create_mcp_http_client and the
// conformance client make it: redirect following off.
func pyHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Redirect budgets: _AUTH_REDIRECT_LIMIT for each request the auth flow
// makes itself (RedirectAwareAuth), and httpx2.AsyncClient's max_redirects
// for the MCP request (stream_within_origin).
const (
	pyAuthRedirectLimit = 5
	pyMaxRedirects      = 20
)

// resource is resource_url_from_server_url(server_url): scheme and host
// lowercased, the fragment dropped (mcp/shared/auth_utils.py).
func (p *pyProvider) resource() string {
	u, err := url.Parse(p.serverURL)
	if err != nil {
		p.t.Fatalf("server_url %q: %v", p.serverURL, err)
	}
	u.Scheme, u.Host, u.Fragment, u.RawFragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), "", ""
	return u.String()
}

func (p *pyProvider) send(req *http.Request) (*http.Response, []byte, error) {
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	p.sent = append(p.sent, fmt.Sprintf("%s %s %d", req.Method, req.URL, resp.StatusCode))
	return resp, body, err
}

// sendFollowing sends a request the auth flow makes itself (metadata, token)
// the way RedirectAwareAuth does in the releases after v2.0.0: a redirect
// that pyNextWithinOrigin accepts is followed, at most pyAuthRedirectLimit
// times; any other redirect is the answer the flow sees.
func (p *pyProvider) sendFollowing(method, target string, header http.Header, body []byte) (*http.Response, []byte, error) {
	for hop := 0; ; hop++ {
		req, err := http.NewRequest(method, target, bytes.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		req.Header = header.Clone()
		resp, respBody, err := p.send(req)
		if err != nil || hop == pyAuthRedirectLimit {
			return resp, respBody, err
		}
		next, ok := pyNextWithinOrigin(req, resp)
		if !ok {
			return resp, respBody, nil
		}
		target = next.String()
	}
}

// pyNextWithinOrigin is next_request_within_origin
// (mcp/shared/_httpx_utils.py): the URL a redirect leads to, if httpx2 builds
// a next request for it (a 301, 302, 303, 307 or 308 with a Location), the
// method stays (307 and 308, or any redirect of a GET: httpx2 turns a POST
// into a GET on 301, 302 and 303), the URL is on the origin of the request
// sent (or its https upgrade on default ports), and the Location brings no
// userinfo of its own.
func pyNextWithinOrigin(req *http.Request, resp *http.Response) (*url.URL, bool) {
	next := pyRedirectTarget(req, resp)
	if next == nil {
		return nil, false
	}
	switch resp.StatusCode {
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		if req.Method != http.MethodGet {
			return nil, false
		}
	}
	if next.User != nil && next.User.String() != req.URL.User.String() {
		return nil, false
	}
	from, to := pyOrigin(req.URL.String()), pyOrigin(next.String())
	upgrade := req.URL.Scheme == "http" && next.Scheme == "https" && strings.EqualFold(req.URL.Hostname(), next.Hostname()) &&
		req.URL.Port() == "" && next.Port() == ""
	if from != to && !upgrade {
		return nil, false
	}
	return next, true
}

// pyRedirectTarget is response.next_request's URL: the Location of a
// redirect status resolved against the request's URL; nil for any other
// answer.
func pyRedirectTarget(req *http.Request, resp *http.Response) *url.URL {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil
	}
	u, err := req.URL.Parse(loc)
	if err != nil {
		return nil
	}
	return u
}

// pyRedirectNote is redirect_note: " (redirected to LOCATION; not
// followed)" for a redirect answer, the location without userinfo, query
// or fragment; "" otherwise.
func pyRedirectNote(req *http.Request, resp *http.Response) string {
	u := pyRedirectTarget(req, resp)
	if u == nil {
		return ""
	}
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return " (redirected to " + c.String() + "; not followed)"
}

// do is async_auth_flow: the request with the stored token while it has
// not expired; on 401, or 403 with error="insufficient_scope", discovery
// (once), a fresh assertion, the JWT bearer grant, and the request again
// with the new token. Anything else is the answer as is.
func (p *pyProvider) do(method, target string, header http.Header, body []byte) (*http.Response, []byte, error) {
	build := func() *http.Request {
		req, err := http.NewRequest(method, target, bytes.NewReader(body))
		if err != nil {
			p.t.Fatal(err)
		}
		req.Header = header.Clone()
		if req.Header == nil {
			req.Header = http.Header{}
		}
		return req
	}
	req := build()
	if p.token != nil && (p.expiry.IsZero() || !p.now().After(p.expiry)) {
		req.Header.Set("Authorization", "Bearer "+p.token.AccessToken)
	}
	resp, respBody, err := p.send(req)
	if err != nil {
		return nil, nil, err
	}
	var scope string
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		scope = p.scope
	case resp.StatusCode == http.StatusForbidden && pyWWWAuthField(resp, "error") == "insufficient_scope":
		scope = pyUnionScopes(p.scope, pyWWWAuthField(resp, "scope"))
	default:
		return resp, respBody, nil
	}

	if p.tokenEndpoint == "" {
		if err := p.discover(); err != nil {
			return nil, nil, err
		}
	}
	assertion, err := p.assertion(p.issuer, p.resource())
	if err != nil {
		return nil, nil, fmt.Errorf("assertion_provider: %w", err)
	}
	tok, err := p.exchange(scope, assertion)
	if err != nil {
		return nil, nil, err
	}
	if tok.Scope == nil && scope != "" {
		tok.Scope = &scope
	}
	p.token, p.expiry = tok, time.Time{}
	if tok.ExpiresIn != nil {
		p.expiry = p.now().Add(time.Duration(*tok.ExpiresIn) * time.Second)
	}

	req = build()
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return p.send(req)
}

// discover fetches the metadata from the configured issuer's well-known
// URLs in order (build_oauth_authorization_server_metadata_discovery_urls
// with the issuer for both arguments), each through sendFollowing: the
// first valid document wins; a 3xx not followed, a 4xx, or a document that
// is not valid OAuthMetadata moves on (handle_auth_metadata_response; up
// to v2.0.0 a 3xx stopped); any other status stops. Then the issuer must equal the configured one, and the
// token endpoint must be on its origin.
func (p *pyProvider) discover() error {
	for _, u := range pyASMetadataURLs(p.issuer) {
		resp, body, err := p.sendFollowing(http.MethodGet, u, http.Header{"MCP-Protocol-Version": {pyLatestProtocolVersion}}, nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			if resp.StatusCode < 300 || resp.StatusCode >= 500 {
				break
			}
			continue
		}
		meta, err := pyValidateOAuthMetadata(body)
		if err != nil {
			p.t.Logf("%s: not OAuthMetadata, trying the next URL: %v", u, err)
			continue
		}
		// validate_metadata_issuer: str(issuer) == the configured issuer.
		// str() of pydantic's AnyHttpUrl (url_preserve_empty_path) is the
		// string itself for the issuers here: lowercase host, no default
		// port, no trailing "/".
		if meta.Issuer != p.issuer {
			return fmt.Errorf("OAuthFlowError: Authorization server metadata issuer mismatch: %s != %s", meta.Issuer, p.issuer)
		}
		if pyOrigin(meta.TokenEndpoint) != pyOrigin(p.issuer) {
			return fmt.Errorf("OAuthFlowError: Token endpoint %s is not on the configured issuer origin %s", meta.TokenEndpoint, p.issuer)
		}
		p.tokenEndpoint = meta.TokenEndpoint
		return nil
	}
	return fmt.Errorf("OAuthFlowError: No authorization server metadata at configured issuer %s", p.issuer)
}

// exchange is _build_token_request and the handling of its answer: the form
// in the provider's order, client_id always in the body, the secret in the
// body or as Basic of the quote()d id and secret; anything but 200 is an
// OAuthTokenError; the body must be a valid OAuthToken.
func (p *pyProvider) exchange(scope, assertion string) (*pyToken, error) {
	form := [][2]string{
		{"grant_type", pyJWTBearerGrant},
		{"assertion", assertion},
		{"client_id", p.clientID},
		{"resource", p.resource()},
	}
	if scope != "" {
		form = append(form, [2]string{"scope", scope})
	}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if p.basic {
		cred := base64.StdEncoding.EncodeToString([]byte(pyQuote(p.clientID) + ":" + pyQuote(p.clientSecret)))
		header.Set("Authorization", "Basic "+cred)
	} else {
		form = append(form, [2]string{"client_secret", p.clientSecret})
	}
	resp, body, err := p.sendFollowing(http.MethodPost, p.tokenEndpoint, header, []byte(pyURLEncode(form)))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("OAuthTokenError: Token exchange failed (%d)%s: %s", resp.StatusCode, pyRedirectNote(resp.Request, resp), body)
	}
	return pyValidateOAuthToken(body)
}

// pyASMetadataURLs is build_oauth_authorization_server_metadata_discovery_urls
// (mcp/client/auth/utils.py) for an authorization server URL.
func pyASMetadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	base := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" {
		path := strings.TrimRight(u.Path, "/")
		return []string{
			base + "/.well-known/oauth-authorization-server" + path,
			base + "/.well-known/openid-configuration" + path,
			base + path + "/.well-known/openid-configuration",
		}
	}
	return []string{base + "/.well-known/oauth-authorization-server", base + "/.well-known/openid-configuration"}
}

// pyOrigin is _origin: scheme, host and port, the port defaulted by scheme.
func pyOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	return u.Scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// pyWWWAuthField is extract_field_from_www_auth: the first field="value"
// or field=value of WWW-Authenticate.
func pyWWWAuthField(resp *http.Response, field string) string {
	re := regexp.MustCompile(regexp.QuoteMeta(field) + `=(?:"([^"]+)"|([^\s,]+))`)
	m := re.FindStringSubmatch(resp.Header.Get("WWW-Authenticate"))
	if m == nil {
		return ""
	}
	if m[1] != "" {
		return m[1]
	}
	return m[2]
}

// pyUnionScopes is union_scopes: the previous scopes, then the new ones not
// among them.
func pyUnionScopes(previous, next string) string {
	if previous == "" {
		return next
	}
	if next == "" {
		return previous
	}
	merged := strings.Fields(previous)
	for _, s := range strings.Fields(next) {
		if !slices.Contains(merged, s) {
			merged = append(merged, s)
		}
	}
	return strings.Join(merged, " ")
}

// pyQuote is urllib.parse.quote(s, safe=""): every byte but the RFC 3986
// unreserved characters percent-encoded (a space as %20, not +).
func pyQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// pyURLEncode is httpx's form encoding (urllib.parse.urlencode: quote_plus
// of each name and value), in the dict's order.
func pyURLEncode(form [][2]string) string {
	parts := make([]string, len(form))
	for i, kv := range form {
		parts[i] = url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1])
	}
	return strings.Join(parts, "&")
}

// pyMetadata is what the provider reads of OAuthMetadata.
type pyMetadata struct {
	Issuer, TokenEndpoint string
}

// pyValidateOAuthMetadata applies OAuthMetadata.model_validate_json
// (mcp/shared/auth.py): a JSON object whose issuer, authorization_endpoint
// and token_endpoint are http(s) URLs; the optional URL members absent,
// null or http(s) URLs; the list members absent, null or lists of strings
// (response_types_supported absent or a list: it is not Optional); the
// boolean members absent, null or booleans. Unknown members are ignored.
func pyValidateOAuthMetadata(body []byte) (*pyMetadata, error) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	httpURL := func(name string, required bool) (string, error) {
		v, present := doc[name]
		if !present || v == nil {
			if required {
				return "", fmt.Errorf("%s is required", name)
			}
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s = %#v is not a URL string", name, v)
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("%s = %q is not an http(s) URL (AnyHttpUrl)", name, s)
		}
		return s, nil
	}
	meta := &pyMetadata{}
	var err error
	if meta.Issuer, err = httpURL("issuer", true); err != nil {
		return nil, err
	}
	if _, err = httpURL("authorization_endpoint", true); err != nil {
		return nil, err
	}
	if meta.TokenEndpoint, err = httpURL("token_endpoint", true); err != nil {
		return nil, err
	}
	for _, name := range []string{"registration_endpoint", "service_documentation", "op_policy_uri", "op_tos_uri", "revocation_endpoint", "introspection_endpoint"} {
		if _, err := httpURL(name, false); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"scopes_supported", "response_types_supported", "response_modes_supported", "grant_types_supported",
		"token_endpoint_auth_methods_supported", "token_endpoint_auth_signing_alg_values_supported", "ui_locales_supported",
		"revocation_endpoint_auth_methods_supported", "revocation_endpoint_auth_signing_alg_values_supported",
		"introspection_endpoint_auth_methods_supported", "introspection_endpoint_auth_signing_alg_values_supported",
		"code_challenge_methods_supported", "authorization_grant_profiles_supported"} {
		v, present := doc[name]
		if !present || (v == nil && name != "response_types_supported") {
			continue
		}
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s = %#v is not a list", name, v)
		}
		for _, e := range list {
			if _, ok := e.(string); !ok {
				return nil, fmt.Errorf("%s holds %#v, not a string", name, e)
			}
		}
	}
	for _, name := range []string{"client_id_metadata_document_supported", "authorization_response_iss_parameter_supported"} {
		if v, present := doc[name]; present && v != nil {
			if _, ok := v.(bool); !ok {
				return nil, fmt.Errorf("%s = %#v is not a boolean", name, v)
			}
		}
	}
	return meta, nil
}

// pyValidateOAuthToken applies OAuthToken.model_validate_json: a JSON
// object with a string access_token; token_type absent (Bearer) or a
// string whose str.title() is "Bearer"; expires_in absent, null or an
// integer (pydantic's lax mode also takes an integral float or a string of
// digits); scope and refresh_token absent, null or strings. The
// Content-Type is not looked at.
func pyValidateOAuthToken(body []byte) (*pyToken, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("OAuthTokenError: Invalid token response: not a JSON object: %v", err)
	}
	invalid := func(format string, args ...any) (*pyToken, error) {
		return nil, fmt.Errorf("OAuthTokenError: Invalid token response: "+format, args...)
	}
	tok := &pyToken{TokenType: "Bearer"}
	if err := json.Unmarshal(doc["access_token"], &tok.AccessToken); err != nil || doc["access_token"] == nil {
		return invalid("access_token %s is not a string", doc["access_token"])
	}
	if raw, ok := doc["token_type"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || raw == nil || string(raw) == "null" {
			return invalid("token_type %s is not a string", raw)
		}
		if pyTitle(s) != "Bearer" {
			return invalid("token_type %q: Input should be 'Bearer'", s)
		}
	}
	if raw, ok := doc["expires_in"]; ok && string(raw) != "null" {
		var n json.Number
		var s string
		switch {
		case json.Unmarshal(raw, &n) == nil:
		case json.Unmarshal(raw, &s) == nil:
			n = json.Number(strings.TrimSpace(s))
		default:
			return invalid("expires_in %s is not an integer", raw)
		}
		f, err := n.Float64()
		if err != nil || f != float64(int64(f)) {
			return invalid("expires_in %s is not an integer", raw)
		}
		v := int64(f)
		tok.ExpiresIn = &v
	}
	for _, name := range []string{"scope", "refresh_token"} {
		raw, ok := doc[name]
		if !ok || string(raw) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return invalid("%s %s is not a string", name, raw)
		}
		if name == "scope" {
			tok.Scope = &s
		}
	}
	return tok, nil
}

// pyTitle is str.title() for ASCII: each run of letters capitalized.
func pyTitle(s string) string {
	b := []byte(strings.ToLower(s))
	prevLetter := false
	for i, c := range b {
		letter := 'a' <= c && c <= 'z'
		if letter && !prevLetter {
			b[i] = c - 'a' + 'A'
		}
		prevLetter = letter
	}
	return string(b)
}

// pyFetchIDJAG is fetch_id_jag of the SDK's conformance client: the RFC
// 8693 token exchange at the IdP with the ID token, audience and resource
// as the provider passes them, and the IdP client's id (the conformance
// client sends no secret; a confidential client adds client_secret, as
// client_secret_post); resp.raise_for_status(), then
// resp.json()["access_token"] and nothing else.
func pyFetchIDJAG(tokenEndpoint, clientID, clientSecret string, idToken func() string, got *[]string) func(audience, resource string) (string, error) {
	return func(audience, resource string) (string, error) {
		form := [][2]string{
			{"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
			{"requested_token_type", "urn:ietf:params:oauth:token-type:id-jag"},
			{"subject_token", idToken()},
			{"subject_token_type", "urn:ietf:params:oauth:token-type:id_token"},
			{"audience", audience},
			{"resource", resource},
			{"client_id", clientID},
		}
		if clientSecret != "" {
			form = append(form, [2]string{"client_secret", clientSecret})
		}
		// httpx2.AsyncClient(timeout=30.0): no redirect is followed, and
		// raise_for_status refuses a 3xx like any answer outside 2xx.
		resp, err := pyHTTPClient().Post(tokenEndpoint, "application/x-www-form-urlencoded", strings.NewReader(pyURLEncode(form)))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return "", fmt.Errorf("HTTPStatusError: %d from the IdP: %s", resp.StatusCode, body)
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			return "", fmt.Errorf("resp.json(): %v", err)
		}
		jag, ok := doc["access_token"].(string)
		if !ok {
			return "", fmt.Errorf(`KeyError/TypeError: access_token = %#v`, doc["access_token"])
		}
		if got != nil {
			*got = append(*got, jag)
		}
		return jag, nil
	}
}

// pyMCP is the streamable HTTP transport of the Python client on a
// 2026-07-28 connection, sending JSON-RPC through the provider
// (mcp/client/streamable_http.py): Accept and Content-Type on every POST,
// the stamp's headers per request.
type pyMCP struct {
	t      *testing.T
	p      *pyProvider
	url    string
	nextID int
}

// call posts a JSON-RPC request and returns the HTTP status and the
// JSON-RPC response (nil when the answer carries none).
func (c *pyMCP) call(method string, params any, extra http.Header) (int, map[string]any) {
	c.t.Helper()
	c.nextID++
	msg := map[string]any{"jsonrpc": "2.0", "id": c.nextID, "method": method}
	if params != nil {
		msg["params"] = params
	}
	status, body, ct := c.post(msg, extra)
	if status >= 400 && !strings.HasPrefix(ct, "application/json") {
		return status, nil
	}
	return status, c.response(body, ct, c.nextID)
}

func (c *pyMCP) post(msg map[string]any, extra http.Header) (int, []byte, string) {
	c.t.Helper()
	status, body, ct, err := c.send(msg, extra)
	if err != nil {
		c.t.Fatalf("%s: %v", msg["method"], err)
	}
	return status, body, ct
}

// send is post returning the exception the provider raised, if any.
func (c *pyMCP) send(msg map[string]any, extra http.Header) (int, []byte, string, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return 0, nil, "", err
	}
	h := http.Header{"Accept": {"application/json, text/event-stream"}, "Content-Type": {"application/json"}}
	for k, v := range extra {
		h[k] = v
	}
	// stream_within_origin: each hop goes through the provider; a redirect
	// pyNextWithinOrigin accepts is followed, at most pyMaxRedirects times;
	// any other is the answer, a failure to the transport.
	target := c.url
	for hop := 0; ; hop++ {
		resp, respBody, err := c.p.do(http.MethodPost, target, h, body)
		if err != nil {
			return 0, nil, "", err
		}
		if next, ok := pyNextWithinOrigin(resp.Request, resp); ok && hop < pyMaxRedirects {
			target = next.String()
			continue
		}
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return resp.StatusCode, respBody, ct, nil
	}
}

// response finds the JSON-RPC response with the id in a JSON body or an
// SSE stream.
func (c *pyMCP) response(body []byte, ct string, id int) map[string]any {
	c.t.Helper()
	var candidates [][]byte
	switch ct {
	case "application/json":
		candidates = append(candidates, body)
	case "text/event-stream":
		var data []byte
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
			case line == "" && len(data) > 0:
				candidates, data = append(candidates, data), nil
			}
		}
		if len(data) > 0 {
			candidates = append(candidates, data)
		}
	default:
		return nil
	}
	for _, raw := range candidates {
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil && m["id"] == float64(id) {
			return m
		}
	}
	return nil
}

// pyMeta is the _meta the client stamps on server/discover and, on a
// 2026-07-28 connection, on every request (ClientSession._stamp): the
// version, clientInfo, and the capabilities of a client with no callbacks.
func pyMeta() map[string]any {
	return map[string]any{
		"io.modelcontextprotocol/protocolVersion":    pyLatestProtocolVersion,
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "mcp", "version": "2.0.0"},
		"io.modelcontextprotocol/clientCapabilities": map[string]any{},
	}
}

// connect is Client(mode="auto").__aenter__ (negotiate_auto in
// mcp/client/_probe.py): the server/discover probe, whose 401 starts the
// provider's flow; a result listing 2026-07-28 is adopted: no session, no
// initialize, every request stamped (tool).
func (c *pyMCP) connect() {
	c.t.Helper()
	status, probe := c.call("server/discover", map[string]any{"_meta": pyMeta()},
		http.Header{"MCP-Protocol-Version": {pyLatestProtocolVersion}, "Mcp-Method": {"server/discover"}})
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		c.t.Fatalf("server/discover with the provider's token: %d %v", status, probe)
	}
	res, _ := probe["result"].(map[string]any)
	if versions, _ := res["supportedVersions"].([]any); !slices.Contains(versions, any(pyLatestProtocolVersion)) {
		c.t.Fatalf("server/discover: %d %v; the demo MCP server speaks %s, and this replay covers only that path, not the fallback to initialize", status, probe, pyLatestProtocolVersion)
	}
}

// tool calls a tool and returns the HTTP status and the result's
// structuredContent (nil for an error). The request carries the 2026-07-28
// stamp: _meta, and the MCP-Protocol-Version, Mcp-Method and Mcp-Name
// headers.
func (c *pyMCP) tool(name string, args map[string]any) (int, map[string]any) {
	c.t.Helper()
	status, resp := c.call("tools/call", map[string]any{"name": name, "arguments": args, "_meta": pyMeta()},
		http.Header{"MCP-Protocol-Version": {pyLatestProtocolVersion}, "Mcp-Method": {"tools/call"}, "Mcp-Name": {name}})
	if resp == nil {
		return status, nil
	}
	res, _ := resp["result"].(map[string]any)
	if res == nil || res["isError"] == true {
		c.t.Logf("tools/call %s: %d %v", name, status, resp)
		return status, nil
	}
	sc, _ := res["structuredContent"].(map[string]any)
	return status, sc
}

// pyConformanceIssuer is how the SDK's conformance client learns the
// authorization server's issuer: authorization_servers[0] of the
// protected-resource metadata at the first URL of
// build_protected_resource_metadata_discovery_urls(None, server_url), the
// path-based one, taken verbatim from the JSON.
func pyConformanceIssuer(t *testing.T, serverURL string) string {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	prmURL := u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource"
	if u.Path != "" && u.Path != "/" {
		prmURL += u.Path
	}
	resp, err := pyHTTPClient().Get(prmURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 { // raise_for_status, redirects not followed
		t.Fatalf("GET %s: %d", prmURL, resp.StatusCode)
	}
	var prm struct {
		AuthorizationServers []string `json:"authorization_servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&prm); err != nil || len(prm.AuthorizationServers) == 0 {
		t.Fatalf("GET %s: authorization_servers[0]: %v %v", prmURL, err, prm)
	}
	return prm.AuthorizationServers[0]
}

// TestPythonSDKIdentityAssertion runs the Python SDK's flow end to end for
// alice at the tracker through the confidential client (the provider
// requires a secret): mcp-client at the IdP, mcp-client-at-tracker with the
// same secret at the tracker's authorization server, with each
// token_endpoint_auth_method the provider offers.
func TestPythonSDKIdentityAssertion(t *testing.T) {
	srv := idptest.New(t)
	tracker := srv.StartDemoServers()["tracker"]
	idpMeta := discover(t, srv.Issuer())
	jwks := fetchJWKS(t, idpMeta.JWKSURI)
	idToken := srv.LoginVia("mcp-client", "alice").IDToken

	for _, method := range []string{"client_secret_post", "client_secret_basic"} {
		t.Run(method, func(t *testing.T) {
			issuer := pyConformanceIssuer(t, tracker.URL)
			if issuer != tracker.AuthServer {
				t.Fatalf("protected-resource metadata names %q, want the authorization server %q", issuer, tracker.AuthServer)
			}
			var jags []string
			p := newPyProvider(t, tracker.URL, "mcp-client-at-tracker", "mcp-secret", issuer,
				pyFetchIDJAG(idpMeta.TokenEndpoint, "mcp-client", "mcp-secret", func() string { return idToken }, &jags))
			p.basic = method == "client_secret_basic"
			c := &pyMCP{t: t, p: p, url: tracker.URL}
			c.connect()

			// The requests of the provider: the probe refused, the metadata
			// from the first well-known URL, the grant, the probe again. No
			// protected-resource metadata, no registration, no /authorize.
			want := []string{
				"POST " + tracker.URL + " 401",
				"GET " + issuer + "/.well-known/oauth-authorization-server 200",
				"POST " + issuer + "/token 200",
			}
			if len(p.sent) < 4 || !slices.Equal(p.sent[:3], want) || strings.HasSuffix(p.sent[3], " 401") {
				t.Fatalf("the provider sent\n%s\nwant it to start with\n%s\nand the probe again, authorized", strings.Join(p.sent, "\n"), strings.Join(want, "\n"))
			}

			// The ID-JAG the application passed on is what the provider's
			// docs say the authorization server needs: aud the configured
			// issuer, resource the canonical server URL, client_id the
			// provider's client_id.
			if len(jags) != 1 {
				t.Fatalf("%d assertions requested, want 1", len(jags))
			}
			h, claims := verifyJWT(t, jags[0], jwks)
			if typ := h.ExtraHeaders["typ"]; typ != idJAGType {
				t.Errorf("ID-JAG typ %v", typ)
			}
			wantString(t, claims, "aud", issuer)
			wantString(t, claims, "resource", p.resource())
			wantString(t, claims, "client_id", p.clientID)
			wantString(t, claims, "sub", "00u-alice")

			// The access token: Bearer, an integer expires_in (the provider
			// reuses it until then), the ID-JAG's scopes.
			if p.token.ExpiresIn == nil || *p.token.ExpiresIn != 3600 {
				t.Errorf("expires_in %v, want 3600", p.token.ExpiresIn)
			}
			if p.token.Scope == nil || *p.token.Scope != "issues.read issues.write" {
				t.Errorf("scope %v, want issues.read issues.write", p.token.Scope)
			}

			status, who := c.tool("whoami", nil)
			if status != http.StatusOK || who == nil {
				t.Fatalf("whoami: %d %v", status, who)
			}
			if who["sub"] != "00u-alice" || who["client_id"] != p.clientID || who["resource"] != tracker.URL || who["issuer"] != issuer {
				t.Errorf("whoami %v", who)
			}
			if n := len(p.sent); n != 5 { // and whoami
				t.Errorf("the provider sent %d requests, want 5 (one token request):\n%s", n, strings.Join(p.sent, "\n"))
			}
		})
	}
}

// TestPythonSDKIdentityAssertion_StepUp: a provider configured with scope
// issues.read gets a token with that scope alone; create_issue is refused
// with 403 insufficient_scope, whose scope parameter the provider unions
// with its own, and a fresh ID-JAG buys the wider token, with which the
// call is sent again and succeeds. No second metadata fetch.
func TestPythonSDKIdentityAssertion_StepUp(t *testing.T) {
	srv := idptest.New(t)
	tracker := srv.StartDemoServers()["tracker"]
	idpMeta := discover(t, srv.Issuer())
	idToken := srv.LoginVia("mcp-client", "alice").IDToken
	var jags []string
	p := newPyProvider(t, tracker.URL, "mcp-client-at-tracker", "mcp-secret", tracker.AuthServer,
		pyFetchIDJAG(idpMeta.TokenEndpoint, "mcp-client", "mcp-secret", func() string { return idToken }, &jags))
	p.scope = "issues.read"
	c := &pyMCP{t: t, p: p, url: tracker.URL}
	c.connect()
	if p.token.Scope == nil || *p.token.Scope != "issues.read" {
		t.Fatalf("first token's scope %v, want issues.read", p.token.Scope)
	}
	before := len(p.sent)

	status, issue := c.tool("create_issue", map[string]any{"title": "Python client stepped up"})
	if status != http.StatusOK || issue == nil || issue["id"] == nil {
		t.Fatalf("create_issue after step-up: %d %v\n%s", status, issue, strings.Join(p.sent[before:], "\n"))
	}
	got := p.sent[before:]
	want := []string{
		"POST " + tracker.URL + " 403",
		"POST " + tracker.AuthServer + "/token 200",
		"POST " + tracker.URL + " 200",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the step-up sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.token.Scope == nil || *p.token.Scope != "issues.read issues.write" {
		t.Errorf("stepped-up token's scope %v, want issues.read issues.write", p.token.Scope)
	}
	if len(jags) != 2 {
		t.Errorf("%d ID-JAGs requested, want a fresh one for the step-up", len(jags))
	}
}

// TestPythonSDKIdentityAssertion_Expiry: once expires_in has passed on the
// provider's clock it sends the request without the token, and the 401 runs
// the flow again from the cached token endpoint with a fresh ID-JAG (no
// refresh token: the IdP decides again). The IdP and the demo servers'
// clock moves as far, so the application logs the user in again for a
// fresh ID token, as its ID token has expired too.
func TestPythonSDKIdentityAssertion_Expiry(t *testing.T) {
	srv := idptest.New(t)
	tracker := srv.StartDemoServers()["tracker"]
	idpMeta := discover(t, srv.Issuer())
	var offset time.Duration
	var jags []string
	p := newPyProvider(t, tracker.URL, "mcp-client-at-tracker", "mcp-secret", tracker.AuthServer,
		pyFetchIDJAG(idpMeta.TokenEndpoint, "mcp-client", "mcp-secret", func() string { return srv.LoginVia("mcp-client", "alice").IDToken }, &jags))
	p.now = func() time.Time { return time.Now().Add(offset) }
	c := &pyMCP{t: t, p: p, url: tracker.URL}
	c.connect()
	first := p.token.AccessToken

	offset = time.Duration(*p.token.ExpiresIn)*time.Second + time.Second
	srv.Clock().Advance(offset)
	before := len(p.sent)
	status, who := c.tool("whoami", nil)
	if status != http.StatusOK || who == nil || who["sub"] != "00u-alice" {
		t.Fatalf("whoami after expiry: %d %v\n%s", status, who, strings.Join(p.sent[before:], "\n"))
	}
	want := []string{
		"POST " + tracker.URL + " 401",
		"POST " + tracker.AuthServer + "/token 200",
		"POST " + tracker.URL + " 200",
	}
	if got := p.sent[before:]; !slices.Equal(got, want) {
		t.Errorf("after expiry the provider sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.token.AccessToken == first || len(jags) != 2 {
		t.Errorf("no new token from a fresh ID-JAG (%d ID-JAGs)", len(jags))
	}
}

// TestPythonSDKConformanceExchange: the token exchange exactly as the SDK's
// conformance client sends it, client_id alone (a public client, mcp-public
// here), gets what it reads: a 2xx answer with access_token. Its
// IdentityAssertionOAuthProvider could not redeem that ID-JAG here, since
// the provider insists on a client secret and mcp-public-at-tracker has
// none; the demo authorization server says so with invalid_client.
func TestPythonSDKConformanceExchange(t *testing.T) {
	srv := idptest.New(t)
	tracker := srv.StartDemoServers()["tracker"]
	idpMeta := discover(t, srv.Issuer())
	idToken := srv.LoginVia("mcp-public", "alice").IDToken
	fetch := pyFetchIDJAG(idpMeta.TokenEndpoint, "mcp-public", "", func() string { return idToken }, nil)
	p := newPyProvider(t, tracker.URL, "mcp-public-at-tracker", "any-secret", tracker.AuthServer, fetch)
	jag, err := fetch(p.issuer, p.resource())
	if err != nil {
		t.Fatalf("the conformance client's token exchange: %v", err)
	}
	if err := p.discover(); err != nil {
		t.Fatal(err)
	}
	_, err = p.exchange("", jag)
	if err == nil || !strings.Contains(err.Error(), "(401)") || !strings.Contains(err.Error(), `"invalid_client"`) {
		t.Errorf("a public client's grant with a secret: %v; want OAuthTokenError with 401 invalid_client", err)
	}
}

// TestPythonSDKTokenResponseChecks holds pyValidateOAuthToken and
// pyValidateOAuthMetadata to what pydantic does with the SDK's models, so
// that the replay cannot pass answers the SDK would refuse.
func TestPythonSDKTokenResponseChecks(t *testing.T) {
	for body, ok := range map[string]bool{
		`{"access_token":"a","token_type":"Bearer","expires_in":3600}`: true,
		`{"access_token":"a","token_type":"bearer"}`:                   true,
		`{"access_token":"a"}`:                                         true,
		`{"access_token":"a","expires_in":"3600"}`:                     true,
		`{"access_token":"a","expires_in":null,"scope":null}`:          true,
		`{"access_token":"a","token_type":"N_A"}`:                      false,
		`{"access_token":"a","token_type":"DPoP"}`:                     false,
		`{"access_token":"a","token_type":null}`:                       false,
		`{"access_token":"a","expires_in":1.5}`:                        false,
		`{"access_token":"a","scope":["x"]}`:                           false,
		`{"token_type":"Bearer"}`:                                      false,
		`{"access_token":1}`:                                           false,
	} {
		if _, err := pyValidateOAuthToken([]byte(body)); (err == nil) != ok {
			t.Errorf("OAuthToken %s: err %v, want ok %t", body, err, ok)
		}
	}
	base := `"issuer":"http://a","authorization_endpoint":"http://a/authorize","token_endpoint":"http://a/token"`
	for body, ok := range map[string]bool{
		`{` + base + `}`: true,
		`{` + base + `,"registration_endpoint":null,"x":1}`:              true,
		`{"issuer":"http://a","token_endpoint":"http://a/token"}`:        false,
		`{` + base + `,"registration_endpoint":""}`:                      false,
		`{` + base + `,"response_types_supported":null}`:                 false,
		`{` + base + `,"scopes_supported":"a b"}`:                        false,
		`{` + base + `,"client_id_metadata_document_supported":"maybe"}`: false,
	} {
		if _, err := pyValidateOAuthMetadata([]byte(body)); (err == nil) != ok {
			t.Errorf("OAuthMetadata %s: err %v, want ok %t", body, err, ok)
		}
	}
	if got := pyQuote("a b:c/+~"); got != "a%20b%3Ac%2F%2B~" {
		t.Errorf("quote = %q", got)
	}
	if got := pyTitle("bEARER"); got != "Bearer" {
		t.Errorf("title = %q", got)
	}
}

// TestPythonSDKIdentityAssertion_SecretQuoting: the provider's Basic
// credentials are quote(id, safe="") and quote(secret, safe="") joined by
// ":" (RFC 6749 §2.3.1), so a secret with reserved characters reaches the
// authorization server percent-encoded, and in the body form-encoded with
// client_secret_post. Both must authenticate.
func TestPythonSDKIdentityAssertion_SecretQuoting(t *testing.T) {
	const secret = "p@ss w/+:=%~é"
	cfg, err := policy.Parse(fixtures.Demo, fixtures.DemoFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client("mcp-client").ClientSecret = secret
	srv := idptest.New(t, idptest.WithConfig(cfg))
	tracker := srv.StartDemoServers()["tracker"]
	idpMeta := discover(t, srv.Issuer())
	idToken := srv.LoginVia("mcp-client", "alice").IDToken
	for _, basic := range []bool{true, false} {
		p := newPyProvider(t, tracker.URL, "mcp-client-at-tracker", secret, tracker.AuthServer,
			pyFetchIDJAG(idpMeta.TokenEndpoint, "mcp-client", secret, func() string { return idToken }, nil))
		p.basic = basic
		c := &pyMCP{t: t, p: p, url: tracker.URL}
		c.connect()
		if status, who := c.tool("whoami", nil); status != http.StatusOK || who == nil || who["client_id"] != "mcp-client-at-tracker" {
			t.Errorf("basic %t: whoami %d %v\n%s", basic, status, who, strings.Join(p.sent, "\n"))
		}
	}
}

// TestPythonSDKRedirectRule holds the replay's redirect handling to the
// SDK's (RedirectAwareAuth and next_request_within_origin, after v2.0.0):
// the provider's own requests follow a redirect that keeps the method and
// the origin, and nothing else; a token answer that is a redirect not
// followed is an OAuthTokenError naming where it led, without its query.
// Against xaa-idp no request of the flow is redirected (the other tests
// compare every request with its status), so this test is what makes the
// rule fail when it should.
func TestPythonSDKRedirectRule(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"elsewhere","token_type":"Bearer"}`)
	}))
	defer other.Close()
	var tokenRedirect func(w http.ResponseWriter, r *http.Request)
	crossOriginMetadata := false
	var as *httptest.Server
	as = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			if crossOriginMetadata { // not followed: the next URL is tried
				http.Redirect(w, r, other.URL+"/metadata", http.StatusFound)
				return
			}
			http.Redirect(w, r, "/metadata", http.StatusMovedPermanently) // a GET follows any same-origin redirect
		case "/.well-known/openid-configuration":
			http.Redirect(w, r, "/metadata", http.StatusSeeOther)
		case "/metadata":
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%s/authorize","token_endpoint":"%s/old-token"}`, as.URL, as.URL, as.URL)
		case "/old-token":
			tokenRedirect(w, r)
		case "/token":
			if r.Method != http.MethodPost || r.PostFormValue("assertion") != "jag" {
				http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
				return
			}
			io.WriteString(w, `{"access_token":"at","token_type":"Bearer","expires_in":60}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer as.Close()

	for _, tc := range []struct {
		name     string
		redirect func(w http.ResponseWriter, r *http.Request)
		wantErr  string // "" for a token
	}{
		{"307 within the origin", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/token", http.StatusTemporaryRedirect)
		}, ""},
		{"308 within the origin", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, as.URL+"/token", http.StatusPermanentRedirect)
		}, ""},
		{"302 turns the POST into a GET", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/token?x=1", http.StatusFound)
		}, "Token exchange failed (302) (redirected to " + as.URL + "/token; not followed): "},
		{"307 to another origin", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
		}, "Token exchange failed (307) (redirected to " + other.URL + "/token; not followed): "},
		{"more than five", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/old-token", http.StatusTemporaryRedirect)
		}, "Token exchange failed (307) (redirected to " + as.URL + "/old-token; not followed): "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokenRedirect = tc.redirect
			p := newPyProvider(t, "http://mcp.example/mcp", "c", "s", as.URL, nil)
			if err := p.discover(); err != nil {
				t.Fatalf("discovery through a same-origin 301 of a GET: %v\n%s", err, strings.Join(p.sent, "\n"))
			}
			if p.tokenEndpoint != as.URL+"/old-token" {
				t.Fatalf("token endpoint %q", p.tokenEndpoint)
			}
			if want := []string{"GET " + as.URL + "/.well-known/oauth-authorization-server 301", "GET " + as.URL + "/metadata 200"}; !slices.Equal(p.sent, want) {
				t.Errorf("discovery sent\n%s\nwant\n%s", strings.Join(p.sent, "\n"), strings.Join(want, "\n"))
			}
			tok, err := p.exchange("", "jag")
			switch {
			case tc.wantErr == "" && (err != nil || tok.AccessToken != "at"):
				t.Errorf("got %v, %v; want the token through the redirect\n%s", tok, err, strings.Join(p.sent, "\n"))
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, %v; want OAuthTokenError %q\n%s", tok, err, tc.wantErr, strings.Join(p.sent, "\n"))
			}
		})
	}

	t.Run("metadata redirect to another origin", func(t *testing.T) {
		crossOriginMetadata = true
		p := newPyProvider(t, "http://mcp.example/mcp", "c", "s", as.URL, nil)
		if err := p.discover(); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"GET " + as.URL + "/.well-known/oauth-authorization-server 302",
			"GET " + as.URL + "/.well-known/openid-configuration 303",
			"GET " + as.URL + "/metadata 200",
		}
		if !slices.Equal(p.sent, want) {
			t.Errorf("discovery sent\n%s\nwant\n%s", strings.Join(p.sent, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestPythonSDKIdentityAssertion_ResubmittedIDJAG: the provider itself
// keeps no ID-JAG; it calls assertion_provider for every grant (step-up,
// expiry). An application whose callback hands back a cached ID-JAG
// re-submits it; the demo authorization server refuses the replayed jti
// with 400 invalid_grant, and the provider raises OAuthTokenError with the
// status and body at once: no retry, no second call to the callback, the
// MCP call fails. Its earlier token stays stored and is used for the next
// request.
func TestPythonSDKIdentityAssertion_ResubmittedIDJAG(t *testing.T) {
	srv := idptest.New(t)
	tracker := srv.StartDemoServers()["tracker"]
	idpMeta := discover(t, srv.Issuer())
	idToken := srv.LoginVia("mcp-client", "alice").IDToken
	var jags []string
	fetch := pyFetchIDJAG(idpMeta.TokenEndpoint, "mcp-client", "mcp-secret", func() string { return idToken }, &jags)
	calls := 0
	cached := func(audience, resource string) (string, error) { // the application's cache
		calls++
		if len(jags) > 0 {
			return jags[0], nil
		}
		return fetch(audience, resource)
	}
	p := newPyProvider(t, tracker.URL, "mcp-client-at-tracker", "mcp-secret", tracker.AuthServer, cached)
	p.scope = "issues.read"
	c := &pyMCP{t: t, p: p, url: tracker.URL}
	c.connect()
	first := p.token.AccessToken
	before := len(p.sent)

	c.nextID++
	msg := map[string]any{"jsonrpc": "2.0", "id": c.nextID, "method": "tools/call",
		"params": map[string]any{"name": "create_issue", "arguments": map[string]any{"title": "t"}, "_meta": pyMeta()}}
	_, _, _, err := c.send(msg, http.Header{"MCP-Protocol-Version": {pyLatestProtocolVersion}, "Mcp-Method": {"tools/call"}, "Mcp-Name": {"create_issue"}})
	if err == nil || !strings.Contains(err.Error(), "OAuthTokenError: Token exchange failed (400): ") ||
		!strings.Contains(err.Error(), `"invalid_grant"`) || !strings.Contains(err.Error(), "already redeemed") {
		t.Fatalf("step-up with the re-submitted ID-JAG: %v; want OAuthTokenError 400 invalid_grant (jti replay)\n%s", err, strings.Join(p.sent[before:], "\n"))
	}
	want := []string{
		"POST " + tracker.URL + " 403",
		"POST " + tracker.AuthServer + "/token 400",
	}
	if got := p.sent[before:]; !slices.Equal(got, want) {
		t.Errorf("the step-up sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if calls != 2 || len(jags) != 1 {
		t.Errorf("assertion_provider called %d times, the IdP %d times; want 2 and 1", calls, len(jags))
	}
	if p.token.AccessToken != first {
		t.Errorf("the refused grant replaced the stored token")
	}
	before = len(p.sent)
	if status, who := c.tool("whoami", nil); status != http.StatusOK || who == nil {
		t.Errorf("whoami with the earlier token: %d %v", status, who)
	}
	if got := p.sent[before:]; len(got) != 1 {
		t.Errorf("whoami sent\n%s\nwant one request with the stored token", strings.Join(got, "\n"))
	}
}

// TestPythonSDKIdentityAssertion_ResubmittedIDJAGAllowed: with
// allow_id_jag_reuse on the tracker, the ID-JAG an application caches is
// redeemed again when a second provider (a new session of the
// application) re-submits it: the provider gets a new access token and its
// MCP calls work, with one token exchange at the IdP for both sessions.
func TestPythonSDKIdentityAssertion_ResubmittedIDJAGAllowed(t *testing.T) {
	const at = "    scopes: [issues.read, issues.write]\n    clients:\n      mcp-client: mcp-client-at-tracker\n"
	reuse := strings.Replace(string(fixtures.Demo), at, "    scopes: [issues.read, issues.write]\n    allow_id_jag_reuse: true\n    clients:\n      mcp-client: mcp-client-at-tracker\n", 1)
	if reuse == string(fixtures.Demo) {
		t.Fatal("the fixture's tracker entry changed; update the test")
	}
	srv := idptest.New(t, idptest.WithConfigYAML(reuse))
	tracker := srv.StartDemoServers()["tracker"]
	idpMeta := discover(t, srv.Issuer())
	idToken := srv.LoginVia("mcp-client", "alice").IDToken
	var jags []string
	fetch := pyFetchIDJAG(idpMeta.TokenEndpoint, "mcp-client", "mcp-secret", func() string { return idToken }, &jags)
	cached := func(audience, resource string) (string, error) { // the application's cache
		if len(jags) > 0 {
			return jags[0], nil
		}
		return fetch(audience, resource)
	}
	var tokens []string
	for session := range 2 {
		p := newPyProvider(t, tracker.URL, "mcp-client-at-tracker", "mcp-secret", tracker.AuthServer, cached)
		p.scope = "issues.read"
		c := &pyMCP{t: t, p: p, url: tracker.URL}
		c.connect()
		if status, who := c.tool("whoami", nil); status != http.StatusOK || who == nil {
			t.Fatalf("session %d: whoami: %d %v", session+1, status, who)
		}
		tokens = append(tokens, p.token.AccessToken)
	}
	if len(jags) != 1 || tokens[0] == tokens[1] {
		t.Errorf("%d token exchanges at the IdP, access tokens equal: %v; want 1 exchange and two access tokens", len(jags), tokens[0] == tokens[1])
	}
}
