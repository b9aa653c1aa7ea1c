package admin_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConfigAPI_BodyHeaders: a change whose JSON body came gzipped
// (Content-Encoding: gzip) was read as plain and refused for what it then
// was ("the body is not JSON: invalid character '\x1f'"); one with two
// Content-Type headers was read as the first said. A content coding is 415
// unsupported_media_type, as a body that is not JSON (RFC 9110 section
// 15.5.16), with Accept-Encoding: identity; two Content-Type headers are
// 400 invalid_request, as two Authorization headers are. Neither changes
// the file; Content-Encoding: identity is a plain body.
func TestConfigAPI_BodyHeaders(t *testing.T) {
	p := editable(t)
	const body = `[{"groups":["eng"],"scopes":["files.read"]}]`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, body)
	_ = zw.Close()
	cases := []struct {
		name   string
		body   string
		header [][2]string
		status int
		error  string
		says   string
		faults bool // POST /admin/api/faults, which reads JSON or YAML
	}{
		{"gzip", gz.String(), [][2]string{{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Encoding gzip", false},
		{"identity, br", gz.String(), [][2]string{{"Content-Type", "application/json"}, {"Content-Encoding", "identity, br"}}, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Encoding br", false},
		{"json then text", body, [][2]string{{"Content-Type", "application/json"}, {"Content-Type", "text/plain"}}, http.StatusBadRequest, "invalid_request", "more than one Content-Type header", false},
		{"text then json", body, [][2]string{{"Content-Type", "text/plain"}, {"Content-Type", "application/json"}}, http.StatusBadRequest, "invalid_request", "more than one Content-Type header", false},
		{"faults, gzip", gz.String(), [][2]string{{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Encoding gzip", true},
		{"faults, two types", `{"match": {"grant_type": "x"}, "error": "server_error"}`, [][2]string{{"Content-Type", "application/json"}, {"Content-Type", "application/yaml"}}, http.StatusBadRequest, "invalid_request", "more than one Content-Type header", true},
		{"identity", body, [][2]string{{"Content-Type", "application/json"}, {"Content-Encoding", "identity"}}, http.StatusOK, "", "", false},
	}
	for _, c := range cases {
		method, path := http.MethodPut, "/admin/api/servers/files/access"
		if c.faults {
			method, path = http.MethodPost, "/admin/api/faults"
		}
		req, _ := http.NewRequest(method, p.base+path, strings.NewReader(c.body))
		req.SetBasicAuth("alice", "alice-pw")
		req.Header.Set("If-Match", "*")
		for _, h := range c.header {
			req.Header.Add(h[0], h[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if c.status == http.StatusOK {
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: %d %s, want 200", c.name, resp.StatusCode, b)
			}
			continue
		}
		e := decode[apiError](t, b)
		if resp.StatusCode != c.status || e.Error != c.error || !strings.Contains(e.Description, c.says) {
			t.Errorf("%s: %d %s, want %d %s saying %q", c.name, resp.StatusCode, b, c.status, c.error, c.says)
		}
		if c.status == http.StatusUnsupportedMediaType && resp.Header.Get("Accept-Encoding") != "identity" {
			t.Errorf("%s: Accept-Encoding %q, want identity", c.name, resp.Header.Get("Accept-Encoding"))
		}
		if readFile(t, p.file) != editConfig {
			t.Fatalf("%s changed the file", c.name)
		}
	}
}
