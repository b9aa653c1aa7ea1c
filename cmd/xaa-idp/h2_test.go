package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// protoRecorder is a RoundTripper that records the protocol of every
// answer.
type protoRecorder struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	protos []string
}

func (p *protoRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.rt.RoundTrip(r)
	if err == nil {
		p.mu.Lock()
		p.protos = append(p.protos, r.Method+" "+r.URL.Path+" "+resp.Proto)
		p.mu.Unlock()
	}
	return resp, err
}

// h2Only is a client of the CA of stateDir that speaks HTTP/2 and nothing
// else.
func h2Only(t *testing.T, stateDir string) (*http.Client, *protoRecorder) {
	t.Helper()
	base := trustOnly(t, stateDir).Transport.(*http.Transport)
	tr := &http.Transport{TLSClientConfig: base.TLSClientConfig.Clone(), Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP2(true)
	rec := &protoRecorder{rt: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: rec}, rec
}

// TestServeTLS_SpeaksHTTP2: serve --tls offers h2 by ALPN, and a client
// that speaks only HTTP/2 discovers, logs in and exchanges, with the same
// header and body limits as HTTP/1.1.
func TestServeTLS_SpeaksHTTP2(t *testing.T) {
	state := t.TempDir()
	issuer, _ := startBinary(t, &syncBuffer{}, "serve", "--addr", "127.0.0.1:0", "--tls", "--state-dir", state)
	hc, rec := h2Only(t, state)
	ctx := context.Background()
	meta, err := idpclient.Discover(ctx, hc, issuer)
	if err != nil {
		t.Fatalf("discovery over HTTP/2: %v", err)
	}
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice", HTTPClient: hc})
	if err != nil {
		t.Fatalf("login over HTTP/2: %v", err)
	}
	resp, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: tok.IDToken(),
		Audience: "http://127.0.0.1:8101", Resource: "http://127.0.0.1:8201/mcp", HTTPClient: hc})
	if err != nil || resp["issued_token_type"] != "urn:ietf:params:oauth:token-type:id-jag" {
		t.Fatalf("exchange over HTTP/2: %v %v", err, resp)
	}
	rec.mu.Lock()
	protos := strings.Join(rec.protos, "\n")
	rec.mu.Unlock()
	if !strings.Contains(protos, "GET /.well-known/openid-configuration HTTP/2.0") || !strings.Contains(protos, "POST /oauth/token HTTP/2.0") {
		t.Errorf("answers:\n%s\nwant discovery and the token endpoint over HTTP/2.0", protos)
	}

	// The body limit of the token endpoint (64 KiB), with a length
	// declared and without one.
	big := "grant_type=password&x=" + strings.Repeat("a", 100<<10)
	for _, body := range []io.Reader{strings.NewReader(big), io.MultiReader(strings.NewReader(big))} {
		req, _ := http.NewRequest(http.MethodPost, meta.TokenEndpoint, body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("mcp-client", "mcp-secret")
		r, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error string }
		json.NewDecoder(r.Body).Decode(&e)
		r.Body.Close()
		if r.Proto != "HTTP/2.0" || r.StatusCode != http.StatusRequestEntityTooLarge || e.Error != "invalid_request" {
			t.Errorf("a 100 KiB token request (length %d): %s %d %q, want HTTP/2.0 413 invalid_request", req.ContentLength, r.Proto, r.StatusCode, e.Error)
		}
	}

	// The header limit (64 KiB): the server advertises it in its
	// SETTINGS (MAX_HEADER_LIST_SIZE), so a larger header is refused.
	req, _ := http.NewRequest(http.MethodPost, meta.TokenEndpoint, strings.NewReader(url.Values{"grant_type": {"password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Big", strings.Repeat("b", 100<<10))
	if r, err := hc.Do(req); err == nil {
		r.Body.Close()
		if r.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a 100 KiB header over HTTP/2: %s %d, want it refused", r.Proto, r.StatusCode)
		}
	}
	// Just under the limit it is served.
	req, _ = http.NewRequest(http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 60<<10))
	if r, err := hc.Do(req); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("a 60 KiB header over HTTP/2: %v %v", r, err)
	} else {
		r.Body.Close()
	}

	// HTTP/1.1 is still offered.
	h1 := trustOnly(t, state)
	h1.Transport.(*http.Transport).TLSClientConfig.NextProtos = []string{"http/1.1"}
	if r, err := h1.Get(issuer + "/.well-known/openid-configuration"); err != nil || r.Proto != "HTTP/1.1" {
		t.Errorf("HTTP/1.1 client: %v %v", r, err)
	} else {
		r.Body.Close()
	}
}

// TestDemoTLS_SpeaksHTTP2: demo --tls offers h2 by ALPN on its
// authorization and MCP servers as serve --tls does on the IdP, so a
// client that speaks only HTTP/2 logs in, exchanges, redeems the ID-JAG
// at the demo authorization server and calls the MCP server.
func TestDemoTLS_SpeaksHTTP2(t *testing.T) {
	state := t.TempDir()
	asPort, mcpPort := freePort(t), freePort(t)
	cfg := minimalConfig(t, "https", asPort, mcpPort)
	_, stdout := startBinary(t, &syncBuffer{}, "demo", "--addr", "127.0.0.1:0", "--tls", "--state-dir", state, "--config", cfg)
	banner := waitFor(t, stdout, "Ctrl-C stops everything.")
	issuer := strings.Fields(banner[strings.Index(banner, "  IdP"):])[1]
	asIssuer := fmt.Sprintf("https://127.0.0.1:%d", asPort)
	resource := fmt.Sprintf("https://127.0.0.1:%d/mcp", mcpPort)
	hc, rec := h2Only(t, state)
	ctx := context.Background()

	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "my-mcp-client", ClientSecret: "change-me", Username: "dev", Password: "dev", HTTPClient: hc})
	if err != nil {
		t.Fatalf("login over HTTP/2: %v", err)
	}
	jag, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "my-mcp-client", ClientSecret: "change-me", SubjectToken: tok.IDToken(),
		Audience: asIssuer, Resource: resource, HTTPClient: hc})
	if err != nil {
		t.Fatalf("exchange over HTTP/2: %v", err)
	}
	asMeta, err := idpclient.Discover(ctx, hc, asIssuer)
	if err != nil {
		t.Fatalf("the demo authorization server's metadata over HTTP/2: %v", err)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag["access_token"].(string)}}
	req, _ := http.NewRequest(http.MethodPost, asMeta.TokenEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-mcp-client-at-notes", "change-me")
	r, err := hc.Do(req)
	if err != nil {
		t.Fatalf("the demo authorization server's token endpoint over HTTP/2: %v", err)
	}
	var at struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(r.Body).Decode(&at)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || at.AccessToken == "" {
		t.Fatalf("redeeming the ID-JAG over HTTP/2: %s %d", r.Proto, r.StatusCode)
	}
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"h2","version":"1"}}}`
	req, _ = http.NewRequest(http.MethodPost, resource, strings.NewReader(init))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+at.AccessToken)
	r, err = hc.Do(req)
	if err != nil {
		t.Fatalf("the MCP server over HTTP/2: %v", err)
	}
	io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Errorf("initialize at the MCP server over HTTP/2: %s %d", r.Proto, r.StatusCode)
	}
	rec.mu.Lock()
	protos := strings.Join(rec.protos, "\n")
	rec.mu.Unlock()
	for _, want := range []string{"POST /oauth/token HTTP/2.0", "GET /.well-known/openid-configuration HTTP/2.0", "POST /token HTTP/2.0", "POST /mcp HTTP/2.0"} {
		if !strings.Contains(protos, want) {
			t.Errorf("answers:\n%s\nwant %q", protos, want)
		}
	}

	// HTTP/1.1 is still offered.
	h1 := trustOnly(t, state)
	h1.Transport.(*http.Transport).TLSClientConfig.NextProtos = []string{"http/1.1"}
	if r, err := h1.Get(asIssuer + "/.well-known/oauth-authorization-server"); err != nil || r.Proto != "HTTP/1.1" {
		t.Errorf("HTTP/1.1 client: %v %v", r, err)
	} else {
		r.Body.Close()
	}
}
