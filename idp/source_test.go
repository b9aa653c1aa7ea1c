package idp

import (
	"net/http"
	"testing"
)

// TestSourceOf: the pending-login share counts an IPv4 peer by its
// address and an IPv6 peer by its /64; X-Forwarded-For is not read.
func TestSourceOf(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"127.0.0.2:5000", "127.0.0.2"},
		{"[::ffff:10.1.2.3]:443", "10.1.2.3"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:80", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"@", ""},
	} {
		r := &http.Request{RemoteAddr: c.remote, Header: http.Header{"X-Forwarded-For": {"192.0.2.1"}}}
		if got := sourceOf(r); got != c.want {
			t.Errorf("sourceOf(%q) = %q, want %q", c.remote, got, c.want)
		}
	}
}
