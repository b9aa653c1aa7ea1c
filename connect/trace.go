package connect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// tracer is an http.RoundTripper that reports each request of the flow as
// a Step. Bodies are read only when someone is watching.
type tracer struct {
	base      http.RoundTripper
	trace     func(Step)
	mcpServer string
	idpPath   string // the path of the IdP's issuer: a tenant's login is under it
}

func (t *tracer) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	if t.trace == nil {
		return base.RoundTrip(req)
	}
	var form url.Values
	if req.Body != nil && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ = url.ParseQuery(string(b))
	}
	var rpc struct {
		Method string `json:"method"`
	}
	if req.Body != nil && strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(b))
		_ = json.Unmarshal(b, &rpc)
	}
	resp, err := base.RoundTrip(req)
	step := Step{MCPServer: t.mcpServer, Name: stepName(req, form, rpc.Method, t.idpPath), Method: req.Method, URL: redactURL(req.URL)}
	if err != nil {
		step.Detail = err.Error()
		t.trace(step)
		return nil, err
	}
	step.Status = resp.StatusCode
	step.Detail = t.detail(resp)
	t.trace(step)
	return resp, nil
}

func stepName(req *http.Request, form url.Values, rpcMethod, idpPath string) string {
	p := req.URL.Path
	switch {
	case strings.Contains(p, "/.well-known/openid-configuration"):
		return "IdP discovery"
	case strings.Contains(p, "/.well-known/oauth-protected-resource"):
		return "protected-resource metadata (RFC 9728)"
	case strings.Contains(p, "/.well-known/oauth-authorization-server"):
		return "authorization-server metadata (RFC 8414)"
	case strings.HasSuffix(p, "/me/mcp-servers"):
		return "assigned MCP servers"
	case strings.HasPrefix(p, idpPath+"/authorize") || strings.HasPrefix(p, idpPath+"/login"):
		return "login"
	}
	switch form.Get("grant_type") {
	case "authorization_code":
		return "code redemption"
	case "urn:ietf:params:oauth:grant-type:token-exchange":
		return "token exchange at the IdP (ID-JAG)"
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		return "JWT bearer grant at the authorization server"
	}
	name := "MCP request"
	if rpcMethod != "" {
		name = "MCP " + rpcMethod
	}
	if req.Header.Get("Authorization") == "" {
		name += " (no token)"
	}
	return name
}

// detail summarizes a response: an OAuth error, or a token's decoded
// claims (never the token itself), or the WWW-Authenticate challenge.
func (t *tracer) detail(resp *http.Response) string {
	if c := resp.Header.Get("WWW-Authenticate"); c != "" && resp.StatusCode == http.StatusUnauthorized {
		return "WWW-Authenticate: " + c
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return ""
	}
	// The first MiB is read for the trace; the caller reads it again and
	// then the rest, unread, so that the trace never cuts an answer.
	orig := resp.Body
	b, _ := io.ReadAll(io.LimitReader(orig, 1<<20))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), orig), orig}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	if e, ok := m["error"].(string); ok {
		d, _ := m["error_description"].(string)
		return strings.TrimSpace(e + ": " + d)
	}
	if tok, ok := m["access_token"].(string); ok {
		if claims := jwtClaims(tok); claims != "" {
			kind := "access token"
			if t, ok := m["issued_token_type"].(string); ok {
				kind = t
			}
			return fmt.Sprintf("%s, claims %s", kind, claims)
		}
		return fmt.Sprintf("token_type %v, scope %v", m["token_type"], m["scope"])
	}
	return ""
}

func jwtClaims(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	return string(b)
}

// redactURL drops query values that may carry codes or tokens.
func redactURL(u *url.URL) string {
	c := *u
	q := c.Query()
	for _, k := range []string{"code", "state", "code_challenge"} {
		if q.Has(k) {
			q.Set(k, "…")
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}
