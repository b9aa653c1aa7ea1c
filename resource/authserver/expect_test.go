package authserver_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBody_DeclaredTooLargeIsRefusedBeforeItIsSent: a body whose
// Content-Length is over the endpoint's 64 KiB is refused (400
// invalid_request, as one over the limit is) before any of it is read,
// so a client that sent Expect: 100-continue is told at once instead of
// being asked for the body (RFC 9110 section 10.1.1). Before, every
// endpoint answered "100 Continue" and read 64 KiB of the body first.
func TestBody_DeclaredTooLargeIsRefusedBeforeItIsSent(t *testing.T) {
	e := newEnv(t)
	host := strings.TrimPrefix(e.asURL, "http://")
	for _, c := range []struct{ path, ct, errKey string }{
		{"/token", "application/x-www-form-urlencoded", "error"},
		{"/introspect", "application/x-www-form-urlencoded", "error"},
		{"/authorize", "application/x-www-form-urlencoded", "error"},
		{"/events", "application/secevent+jwt", "err"},
	} {
		for _, length := range []string{"100000000000", fmt.Sprint(64<<10 + 1)} {
			t.Run(c.path+" "+length, func(t *testing.T) {
				resp, raw, body := sendHead(t, host, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %s\r\nExpect: 100-continue\r\n\r\n", c.path, host, c.ct, length))
				if resp.StatusCode != http.StatusBadRequest || body[c.errKey] != "invalid_request" {
					t.Fatalf("HTTP %d %q, want 400 invalid_request before the body is sent", resp.StatusCode, raw)
				}
			})
		}
	}
}

// TestAuthorize_DeclaredTooLargeWithOddFormTypeIsRefusedBeforeItIsSent:
// a form type with a parameter mime cannot parse ("; charset") is still
// a form to ParseForm, which reads the body; the declared length is
// refused before it, as for a plain form type. The check used to want
// the type parsed without error, so such a request was sent 100 Continue
// and had 64 KiB of its body read before the same 400.
func TestAuthorize_DeclaredTooLargeWithOddFormTypeIsRefusedBeforeItIsSent(t *testing.T) {
	e := newEnv(t)
	host := strings.TrimPrefix(e.asURL, "http://")
	for _, ct := range []string{"application/x-www-form-urlencoded; charset", "Application/X-WWW-Form-Urlencoded;;"} {
		t.Run(ct, func(t *testing.T) {
			resp, raw, body := sendHead(t, host, fmt.Sprintf("POST /authorize HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", host, ct, 64<<10+1))
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
				t.Fatalf("HTTP %d %q, want 400 invalid_request before the body is sent", resp.StatusCode, raw)
			}
		})
	}
}

// sendHead sends head, a request's header without its body, to host on a
// connection of its own and returns the answer, its body and that body as
// JSON.
func sendHead(t *testing.T, host, head string) (*http.Response, []byte, map[string]any) {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A bound on a broken server, not a pause: the answer is due as soon
	// as the headers are read.
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	return resp, raw, body
}
