package mcpserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMCPServer_MetadataMethods: the RFC 9728 metadata is a plain
// document, so HEAD answers as GET does, without the body (RFC 9110 §9.3.2;
// GET and HEAD are the methods every general-purpose server supports,
// §9.1), as the authorization servers' metadata does; it was a 405. Any
// other method is a 405 with Allow naming those it takes (RFC 9110
// §15.5.6: MUST), which it lacked.
func TestMCPServer_MetadataMethods(t *testing.T) {
	e := newEnv(t)
	url := e.mcpOrigin + "/.well-known/oauth-protected-resource/mcp"

	resp, err := http.Head(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("HEAD %s: HTTP %d, Content-Type %q; want 200 application/json, as GET", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, url, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		allow := resp.Header.Get("Allow")
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(allow, "GET") || !strings.Contains(allow, "HEAD") {
			t.Errorf("%s %s: HTTP %d, Allow %q; want 405 with Allow naming GET and HEAD", method, url, resp.StatusCode, allow)
		}
	}

	resp, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"resource":"`+e.mcpURL+`"`) {
		t.Errorf("GET %s: HTTP %d %s", url, resp.StatusCode, body)
	}
}
