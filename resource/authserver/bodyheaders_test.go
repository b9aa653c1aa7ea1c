package authserver_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestBodyHeaders: a token request whose form came gzipped was refused for
// its Content-Type-less misreading (the compressed bytes are no form), and
// one with two Content-Type headers was read as the first said. A content
// coding is 400 invalid_request naming it (RFC 6749 section 5.2; RFC 9110
// section 8.4.1) with Accept-Encoding: identity; two Content-Type headers
// are 400 invalid_request, as two Authorization headers are; neither
// spends the ID-JAG. Content-Encoding: identity is a plain body.
func TestBodyHeaders(t *testing.T) {
	e := newEnv(t)
	jag := e.jag(t, nil)
	form := url.Values{"grant_type": {authserver.GrantTypeJWTBearer}, "assertion": {jag}}.Encode()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(form))
	_ = zw.Close()
	for _, c := range []struct {
		name   string
		body   string
		header [][2]string
		says   string
	}{
		{"gzip", gz.String(), [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Encoding", "gzip"}}, "Content-Encoding gzip"},
		{"form then text", form, [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Type", "text/plain"}}, "more than one Content-Type header"},
	} {
		for _, path := range []string{"/token", "/introspect"} {
			hr, _ := http.NewRequest(http.MethodPost, e.asURL+path, strings.NewReader(c.body))
			hr.SetBasicAuth(url.QueryEscape(confidentialClient), url.QueryEscape(confidentialSecret))
			for _, h := range c.header {
				hr.Header.Add(h[0], h[1])
			}
			r := do(t, hr)
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || !strings.Contains(r.str("error_description"), c.says) {
				t.Errorf("%s, %s: %d %s, want 400 invalid_request saying %q", path, c.name, r.status, r.raw, c.says)
			}
			if c.name == "gzip" && r.header.Get("Accept-Encoding") != "identity" {
				t.Errorf("%s, %s: Accept-Encoding %q, want identity", path, c.name, r.header.Get("Accept-Encoding"))
			}
		}
	}
	hr, _ := http.NewRequest(http.MethodPost, e.asURL+"/token", strings.NewReader(form))
	hr.SetBasicAuth(url.QueryEscape(confidentialClient), url.QueryEscape(confidentialSecret))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("Content-Encoding", "identity")
	if r := do(t, hr); r.status != http.StatusOK {
		t.Fatalf("the ID-JAG after the refusals, Content-Encoding: identity: %d %s", r.status, r.raw)
	}
}
