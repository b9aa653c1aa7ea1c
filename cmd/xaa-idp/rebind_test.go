package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServe_RefusesARebindingBrowser: the IdP that serve runs refuses a
// browser's admin API call under a host name it does not answer to (a
// page whose name was rebound to 127.0.0.1), and serves the same call
// from a script, whatever its Host.
func TestServe_RefusesARebindingBrowser(t *testing.T) {
	issuer := startServe(t)
	u, _ := url.Parse(issuer)
	evil := "evil.example:" + u.Port()
	call := func(header ...string) (int, string) {
		req, _ := http.NewRequest("GET", issuer+"/admin/api/config", nil)
		req.Host = evil
		req.SetBasicAuth("alice", "alice")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := call("Origin", "http://"+evil); code != http.StatusForbidden || !strings.Contains(body, "DNS rebinding") {
		t.Errorf("browser at %s: %d %s, want 403 saying why", evil, code, body)
	}
	if code, body := call(); code != http.StatusOK {
		t.Errorf("script with Host %s: %d %s, want 200", evil, code, body)
	}
}

// TestServe_NodeFetchUnderAServiceNameIsAScript: Node's fetch (undici)
// marks every request Sec-Fetch-Mode: cors, though no browser sent it and
// it carries neither Origin nor Sec-Fetch-Site, which every browser that
// sends Fetch Metadata does. A Node script (a CI job, a container reaching
// the IdP by its service name) is a script: its admin API calls and its
// sign-in are served whatever its Host.
func TestServe_NodeFetchUnderAServiceNameIsAScript(t *testing.T) {
	issuer := startServe(t)
	u, _ := url.Parse(issuer)
	service := "xaa-idp:" + u.Port()
	nodeFetch := func(req *http.Request) *http.Response {
		t.Helper()
		req.Host = service
		// The headers undici's fetch adds (Node 22).
		req.Header.Set("Accept", "*/*")
		req.Header.Set("Accept-Language", "*")
		req.Header.Set("Sec-Fetch-Mode", "cors")
		req.Header.Set("User-Agent", "node")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	req, _ := http.NewRequest("GET", issuer+"/admin/api/config", nil)
	req.SetBasicAuth("alice", "alice")
	resp := nodeFetch(req)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("Node's GET /admin/api/config with Host %s: %d %s, want 200", service, resp.StatusCode, b)
	}
	req, _ = http.NewRequest("POST", issuer+"/admin/api/faults", strings.NewReader(`{"endpoint": "jwks", "http_status": 503, "times": 1}`))
	req.SetBasicAuth("alice", "alice")
	req.Header.Set("Content-Type", "application/json")
	resp = nodeFetch(req)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("Node's POST /admin/api/faults with Host %s: %d %s, want 201", service, resp.StatusCode, b)
	}
	// A browser's request is still refused under that name.
	req, _ = http.NewRequest("GET", issuer+"/admin/api/config", nil)
	req.SetBasicAuth("alice", "alice")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp = nodeFetch(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a browser's GET (Sec-Fetch-Site) with Host %s: %d, want 403", service, resp.StatusCode)
	}
}
