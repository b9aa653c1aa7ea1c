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
