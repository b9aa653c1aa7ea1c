package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/xaa-idp/xaa-idp/idp"
)

// answer is the response of an in-process call.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// decode reads a JSON body.
func (a *answer) decode(v any) error {
	if err := json.Unmarshal(a.Body, v); err != nil {
		return fmt.Errorf("the answer (%d) is not the JSON expected: %w", a.Status, err)
	}
	return nil
}

// apiError is the error_description of an admin API error, or the status.
func (a *answer) apiError() string {
	var e struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(a.Body, &e) == nil && (e.Description != "" || e.Code != "") {
		if e.Description != "" {
			return e.Description
		}
		return e.Code
	}
	return fmt.Sprintf("the admin API answered %d %s", a.Status, http.StatusText(a.Status))
}

// recorder is the ResponseWriter of an in-process call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// do sends a request to the product's handler in-process: the same code
// path a script's HTTP request takes, without the network, so it works
// whatever address the issuer names (a container's published port, a
// proxy).
func (c *Console) do(req *http.Request) *answer {
	rec := &recorder{header: http.Header{}}
	if req.RemoteAddr == "" {
		req.RemoteAddr = "127.0.0.1:0"
	}
	c.handler.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &answer{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}
}

// newRequest builds an in-process request for a path of the product as
// the Handler sees it ("/admin/api/status"), or for an absolute URL of the
// issuer (discovery answers with those). The Handler is mounted under the
// tenant's path, which app.Tenants strips from every request before it:
// an absolute URL loses it here likewise.
func (c *Console) newRequest(ctx context.Context, method, target string, body io.Reader) (*http.Request, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	if u.IsAbs() {
		rest, ok := strings.CutPrefix(u.Path, c.base)
		if !ok || !strings.HasPrefix(rest, "/") {
			return nil, fmt.Errorf("the IdP named %s, which is not under its issuer %s: check the issuer and the tenant's path", target, c.idp.Issuer())
		}
		u = &url.URL{Path: rest, RawQuery: u.RawQuery}
	}
	// The console's own requests never meet a fault of the IdP's
	// endpoints: an admin must be able to sign in to remove one.
	req, err := http.NewRequestWithContext(idp.OwnRequest(ctx), method, c.issuer.ResolveReference(u).String(), body)
	if err != nil {
		return nil, err
	}
	req.Host = c.issuer.Host
	return req, nil
}

// api calls the admin API in-process as the admin signed in on r: the
// request carries r's session cookie, which the API checks through the
// Session hook. csrf, when set, goes in the X-CSRF-Token header that
// state-changing calls need.
func (c *Console) api(r *http.Request, method, path string, header http.Header, body []byte, csrf string) *answer {
	req, err := c.newRequest(r.Context(), method, path, bytes.NewReader(body))
	if err != nil {
		return &answer{Status: http.StatusInternalServerError, Body: []byte(`{"error":"server_error"}`)}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header["Cookie"] = r.Header["Cookie"]
	req.RemoteAddr = r.RemoteAddr
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set(csrfHeader, csrf)
	}
	return c.do(req)
}

// apiGet is a GET of the admin API that must answer 200 with JSON.
func (c *Console) apiGet(r *http.Request, path string, v any) (*answer, error) {
	a := c.api(r, http.MethodGet, path, nil, nil, "")
	if a.Status != http.StatusOK {
		return a, fmt.Errorf("GET %s: %s", c.url(path), a.apiError()) // as the browser would reach it
	}
	return a, a.decode(v)
}

// postForm posts a form to the IdP in-process (its token endpoint).
func (c *Console) postForm(ctx context.Context, target string, form url.Values, user, password string) (*answer, error) {
	req, err := c.newRequest(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if user != "" {
		// RFC 6749 section 2.3.1: form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(password))
	}
	return c.do(req), nil
}
