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

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAccessRequests_DeclaredTooLargeIsRefusedBeforeItIsSent: a POST
// /me/access-requests whose Content-Length is over the endpoint's 16 KiB
// gets its 413 at once, naming the limit, instead of "100 Continue" and a
// read of the body up to the limit (RFC 9110 section 10.1.1), as at the
// token endpoint. Before, the IdP invited the body and then answered
// "http: request body too large", which named no limit.
func TestAccessRequests_DeclaredTooLargeIsRefusedBeforeItIsSent(t *testing.T) {
	cfg, err := policy.Parse([]byte(appsConfig), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	at, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw")["access_token"].(string)
	for _, length := range []string{"100000000000", fmt.Sprint(16<<10 + 1)} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = fmt.Fprintf(conn, "POST /me/access-requests HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nExpect: 100-continue\r\n\r\n",
			strings.TrimPrefix(p.URL, "http://"), at, length)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("Content-Length %s: HTTP %d %q, want 413 before the body is sent", length, resp.StatusCode, body)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(body), `"error":"invalid_request"`) ||
			!strings.Contains(string(body), "16384 bytes") {
			t.Errorf("Content-Length %s: %s %s, want the JSON invalid_request error naming 16384 bytes", length, resp.Header.Get("Content-Type"), body)
		}
	}

	// A chunked body, of no declared length, stays bounded by its reader
	// and is told the same.
	big := `{"server": "wiki", "reason": "` + strings.Repeat("x", 20<<10) + `"}`
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/me/access-requests", io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Authorization", "Bearer "+at)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "16384 bytes") {
		t.Errorf("chunked: HTTP %d %s, want 413 naming 16384 bytes", resp.StatusCode, body)
	}
}
