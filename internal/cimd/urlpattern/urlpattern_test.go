package urlpattern_test

import (
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/cimd/urlpattern"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"https://*", "https://client.example/meta.json", true},
		{"https://*", "http://client.example/meta.json", false},
		{"http://127.0.0.1:*", "http://127.0.0.1:8390/client-metadata.json", true},
		{"http://127.0.0.1:*", "http://127.0.0.10/x", false},
		{"https://*.example.com/*", "https://a.example.com/c.json", true},
		{"https://*.example.com/*", "https://example.com.evil/c.json", false},
		{"https://a.example/c.json", "https://a.example/c.json", true},
		{"https://a.example/c.json", "https://a.example/c.json2", false},
		{"*", "", true},
		{"", "x", false},
	} {
		if got := urlpattern.Match(c.pattern, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestAllowedDefault(t *testing.T) {
	for s, want := range map[string]bool{
		"https://client.example/c.json":    true,
		"http://localhost:3000/c.json":     true,
		"http://[::1]:3000/c.json":         true,
		"http://client.example/c.json":     false,
		"http://192.168.1.1:3000/c.json":   false,
		"ftp://client.example/client.json": false,
	} {
		if got := urlpattern.Allowed(urlpattern.DefaultAllow, s); got != want {
			t.Errorf("Allowed(DefaultAllow, %q) = %v, want %v", s, got, want)
		}
	}
}
