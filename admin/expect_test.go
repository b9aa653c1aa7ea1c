package admin_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAdminAPI_DeclaredTooLargeIsRefusedBeforeItIsSent: an admin's change
// whose Content-Length is over the body limit gets 413 request_too_large
// at once; a client that sent Expect: 100-continue is not asked for a
// body that is going to be refused (RFC 9110 section 10.1.1). Before, the
// API answered 100 Continue and read 1 MiB (64 KiB for faults) first.
func TestAdminAPI_DeclaredTooLargeIsRefusedBeforeItIsSent(t *testing.T) {
	base, _ := startIdP(t)
	for _, c := range []struct{ method, path, ct, length string }{
		{"PUT", "/admin/api/users/zed", "application/json", "100000000000"},
		{"PUT", "/admin/api/users/zed", "application/json", fmt.Sprint(1<<20 + 1)},
		{"POST", "/admin/api/scim/v2/Users", "application/scim+json", "100000000000"},
		{"POST", "/admin/api/faults", "application/json", "100000000000"},
	} {
		t.Run(c.method+" "+c.path+" "+c.length, func(t *testing.T) {
			resp, body := expectContinue(t, base, c.method, c.path, c.ct, c.length)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("HTTP %d %q, want 413 before the body is sent", resp.StatusCode, body)
			}
		})
	}
}

// TestAdminAPI_DeclaredBodyWhereNoneIsTakenIsRefusedBeforeItIsSent: a
// call that takes no body (a DELETE, a key rotation) with a Content-Length
// over the 1 KiB of white space it tolerates is refused, 400 "takes no
// body", at once. Before, a client that sent Expect: 100-continue was
// asked for the body, and one that then sent nothing waited for the
// server's read deadline.
func TestAdminAPI_DeclaredBodyWhereNoneIsTakenIsRefusedBeforeItIsSent(t *testing.T) {
	base, _ := startIdP(t)
	for _, c := range []struct{ method, path string }{
		{"DELETE", "/admin/api/users/bob"},
		{"POST", "/admin/api/keys/rotate"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			resp, body := expectContinue(t, base, c.method, c.path, "application/json", "100000000000")
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "takes no body") {
				t.Fatalf("HTTP %d %q, want 400 takes no body before the body is sent", resp.StatusCode, body)
			}
		})
	}
}

// expectContinue sends alice's request head alone, declaring a body of
// length bytes with Expect: 100-continue, and returns the first answer.
func expectContinue(t *testing.T, base, method, path, ct, length string) (*http.Response, []byte) {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	auth := base64.StdEncoding.EncodeToString([]byte("alice:alice-pw"))
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A bound on a broken server, not a pause.
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Type: %s\r\nContent-Length: %s\r\nExpect: 100-continue\r\n\r\n",
		method, path, host, auth, ct, length)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}
