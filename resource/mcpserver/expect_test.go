package mcpserver_test

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

// TestMCP_DeclaredTooLargeIsRefusedBeforeItIsSent: a POST whose
// Content-Length is over the SDK's 4 MiB is refused with 413 and the
// server's JSON error, naming the limit, before any of it is read, so a
// client that sent Expect: 100-continue is told at once (RFC 9110
// section 10.1.1). Before, the tool-scope check read 4 MiB of it into
// memory, and the SDK then answered in plain text.
func TestMCP_DeclaredTooLargeIsRefusedBeforeItIsSent(t *testing.T) {
	e := newEnv(t)
	host := strings.TrimPrefix(e.mcpOrigin, "http://")
	for _, length := range []string{"100000000000", fmt.Sprint(4<<20 + 1)} {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = fmt.Fprintf(conn, "POST /mcp HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: %s\r\nExpect: 100-continue\r\n\r\n",
			host, e.accessToken("issues.read"), length)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			!strings.Contains(string(body), `"invalid_request"`) || !strings.Contains(string(body), "4194304 bytes") {
			t.Errorf("Content-Length %s: HTTP %d %s %q, want 413 JSON invalid_request naming 4194304 bytes before the body is sent", length, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}
