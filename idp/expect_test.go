package idp_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBody_DeclaredTooLargeIsRefusedBeforeItIsSent: a request that
// declares a body longer than the endpoint reads (Content-Length) and
// asks whether to send it (Expect: 100-continue) gets the 413 at once,
// not "100 Continue" (RFC 9110 section 10.1.1: a server that will refuse
// the body says so instead). Before, the IdP invited the body, and the
// client sent 64 KiB more (or 8 KiB at the login form) only to be
// refused. The token endpoint answers with its JSON error.
func TestBody_DeclaredTooLargeIsRefusedBeforeItIsSent(t *testing.T) {
	p := startConformanceIdP(t)
	for _, c := range []struct {
		name, path, length string
		json               bool
	}{
		{"token endpoint", "/oauth/token", "100000000000", true},
		{"token endpoint, just over", "/oauth/token", fmt.Sprint(64<<10 + 1), true},
		{"revocation endpoint", "/revoke", "100000000000", true},
		{"login form", "/login?authRequestID=x", "100000000000", false},
		{"login form, just over", "/login?authRequestID=x", fmt.Sprint(8<<10 + 1), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// A bound on a broken server, not a pause: the answer is due
			// as soon as the headers are read.
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %s\r\nExpect: 100-continue\r\n\r\n",
				c.path, strings.TrimPrefix(p.URL, "http://"), c.length)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("HTTP %d %q, want 413 before the body is sent", resp.StatusCode, body)
			}
			if c.json && (!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(body), `"error":"invalid_request"`)) {
				t.Errorf("%s %s, want the JSON invalid_request error", resp.Header.Get("Content-Type"), body)
			}
		})
	}
}
