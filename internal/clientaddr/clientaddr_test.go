package clientaddr_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/clientaddr"
)

// TestOf_TakesTheHopTheTrustedProxiesWrote: X-Forwarded-For is read only
// from a trusted peer, from the right, and only as far as the trusted
// proxies wrote it: what a client wrote to its left never counts.
func TestOf_TakesTheHopTheTrustedProxiesWrote(t *testing.T) {
	trusted, err := clientaddr.Parse([]string{"10.0.0.0/8", "192.0.2.7", "::ffff:172.16.0.0/108"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"untrusted peer keeps its address", "198.51.100.9:5000", []string{"203.0.113.1"}, "198.51.100.9"},
		{"no proxies trusted: peer", "198.51.100.9:5000", nil, "198.51.100.9"},
		{"trusted peer, one hop", "10.1.2.3:5000", []string{"203.0.113.1"}, "203.0.113.1"},
		{"a client's own hop left of the proxy's is ignored", "10.1.2.3:5000", []string{"192.0.2.200, 203.0.113.1"}, "203.0.113.1"},
		{"two trusted proxies in a row", "10.1.2.3:5000", []string{"203.0.113.1, 192.0.2.7"}, "203.0.113.1"},
		{"hops across several header lines", "10.1.2.3:5000", []string{"203.0.113.1", "10.9.9.9"}, "203.0.113.1"},
		{"an IPv4-mapped network given", "172.16.0.4:5000", []string{"203.0.113.1"}, "203.0.113.1"},
		{"IPv6 client", "[::ffff:10.0.0.1]:5000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"a hop that is no address stops at the proxy", "10.1.2.3:5000", []string{"203.0.113.1, unknown"}, "10.1.2.3"},
		{"a hop with a port stops at the proxy", "10.1.2.3:5000", []string{"203.0.113.1:443"}, "10.1.2.3"},
		{"no header: the proxy itself", "10.1.2.3:5000", nil, "10.1.2.3"},
		{"only trusted hops: the leftmost", "10.1.2.3:5000", []string{"10.4.4.4"}, "10.4.4.4"},
		{"a hop with a zone stops at the proxy", "10.1.2.3:5000", []string{"fe80::1%eth0"}, "10.1.2.3"},
		{"an IPv4-mapped hop is its IPv4 address", "10.1.2.3:5000", []string{"::ffff:203.0.113.1"}, "203.0.113.1"},
		{"an IPv4-mapped untrusted peer is its IPv4 address", "[::ffff:198.51.100.9]:5000", nil, "198.51.100.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			tr := trusted
			if strings.HasPrefix(c.name, "no proxies") {
				tr = nil
			}
			got, ok := tr.Of(r)
			if !ok || got.String() != c.want {
				t.Errorf("Of(%s, %q) = %v %v, want %s", c.remote, c.xff, got, ok, c.want)
			}
		})
	}
}

// TestParse_RefusesWhatIsNoAddress: a typo in the list is refused naming
// it, not read as trusting nothing (or everything).
func TestParse_RefusesWhatIsNoAddress(t *testing.T) {
	for _, v := range []string{"10.0.0", "proxy.example", "10.0.0.0/33", "fe80::1%eth0", ""} {
		if _, err := clientaddr.Parse([]string{v}); err == nil || !strings.Contains(err.Error(), `"`+v+`"`) {
			t.Errorf("Parse(%q) = %v, want an error naming it", v, err)
		}
	}
	many := make([]string, clientaddr.MaxTrusted+1)
	for i := range many {
		many[i] = "10.0.0.1"
	}
	if _, err := clientaddr.Parse(many); err == nil {
		t.Errorf("Parse of %d proxies: no error", len(many))
	}
}

// TestHandler_RewritesTheTrustedPeersRequests: the handler behind sees
// the client's address as the peer, port 0, and a request from another
// peer untouched.
func TestHandler_RewritesTheTrustedPeersRequests(t *testing.T) {
	trusted, err := clientaddr.Parse([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	h := trusted.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }))
	for _, c := range []struct{ remote, xff, want string }{
		{"127.0.0.1:4000", "203.0.113.5", "203.0.113.5:0"},
		{"127.0.0.1:4000", "2001:db8::5", "[2001:db8::5]:0"},
		{"127.0.0.2:4000", "203.0.113.5", "127.0.0.2:4000"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		r.Header.Set("X-Forwarded-For", c.xff)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if seen != c.want {
			t.Errorf("peer %s, X-Forwarded-For %s: handler saw %s, want %s", c.remote, c.xff, seen, c.want)
		}
	}
}

// TestKey_CountsAnIPv6HostByItsNetwork: the throttles' key is the IPv4
// address, or the IPv6 /64 a host is commonly given whole.
func TestKey_CountsAnIPv6HostByItsNetwork(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"203.0.113.5:4000", "203.0.113.5"},
		{"[::ffff:203.0.113.5]:4000", "203.0.113.5"},
		{"[2001:db8:1:2::5]:0", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::9]:4000", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:4000", "fe80::/64"},
		{"2001:db8::1", "2001:db8::/64"},
		{"not an address", ""},
	} {
		if got := clientaddr.Key(c.remote); got != c.want {
			t.Errorf("Key(%q) = %q, want %q", c.remote, got, c.want)
		}
	}
}
