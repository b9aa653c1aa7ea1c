// Package clientaddr names the client of a request that reverse proxies
// the operator trusts forwarded: every throttle and share the IdP keys by
// client address (the pending sign-ins, the metadata document clients'
// assertions, the SCIM bearer tokens) counts the TCP peer, which behind a
// proxy is the proxy for every client. With the proxies' addresses named
// (serve --trusted-proxies, README "Behind a reverse proxy"), a request
// whose peer is one of them is taken to come from the address the
// proxies put in X-Forwarded-For: the rightmost one that is not itself a
// trusted proxy (RFC 7239 section 5.2 orders the hops so; anything left
// of it is what the client wrote, and anyone can write anything there).
// A request from any other peer keeps its peer, whatever it sends.
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is the set of reverse proxies whose X-Forwarded-For is read.
// The zero value trusts none: X-Forwarded-For is never read.
type Trusted []netip.Prefix

// MaxTrusted bounds the list: a proxy tier is a few addresses or
// networks, and each request compares its peer with every one.
const MaxTrusted = 64

// Parse reads proxies given as IP addresses (10.0.0.5, ::1) or networks
// (10.0.0.0/8, fd00::/8). An IPv4-mapped address is the IPv4 one.
func Parse(values []string) (Trusted, error) {
	if len(values) > MaxTrusted {
		return nil, fmt.Errorf("%d trusted proxies given, at most %d: name their networks (10.0.0.0/8) rather than each address", len(values), MaxTrusted)
	}
	var t Trusted
	for _, v := range values {
		if p, err := netip.ParsePrefix(v); err == nil {
			if p.Addr().Zone() == "" {
				t = append(t, netip.PrefixFrom(p.Addr().Unmap(), unmappedBits(p)).Masked())
				continue
			}
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is neither an IP address (10.0.0.5) nor a network (10.0.0.0/8)", v)
		}
		a = a.Unmap()
		t = append(t, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

// unmappedBits is p's length for its address unmapped: ::ffff:10.0.0.0/104
// is 10.0.0.0/8.
func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return max(p.Bits()-96, 0)
	}
	return p.Bits()
}

func (t Trusted) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of is the client address of r: its peer, or, when the peer is a trusted
// proxy, the rightmost address of X-Forwarded-For that is not a trusted
// proxy. A hop the proxies wrote that is no address (a proxy that writes
// "unknown", or a port) ends the walk at the last trusted hop: the
// request is then counted as that proxy's, not as an address someone
// else wrote further left. ok is false when r's peer is no address,
// which a real listener never gives.
func (t Trusted) Of(r *http.Request) (addr netip.Addr, ok bool) {
	peer, ok := peerOf(r.RemoteAddr)
	if !ok || len(t) == 0 || !t.trusts(peer) {
		return peer, ok
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		list := hops[i]
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				list, hop = list[:j], list[j+1:]
			} else {
				list, hop = "", list
			}
			a, err := netip.ParseAddr(strings.TrimSpace(hop))
			if err != nil || a.Zone() != "" {
				return peer, true
			}
			if a = a.Unmap(); !t.trusts(a) {
				return a, true
			}
			peer = a
		}
	}
	return peer, true
}

func peerOf(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// Handler serves h with each request's RemoteAddr set to its client
// address (Of, port 0) when its peer is a trusted proxy, so that
// everything that keys by the peer keys by the client. With no proxies
// trusted it is h.
func (t Trusted) Handler(h http.Handler) http.Handler {
	if len(t) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := t.Of(r); ok {
			if peer, _ := peerOf(r.RemoteAddr); a != peer {
				r2 := *r
				r2.RemoteAddr = netip.AddrPortFrom(a, 0).String()
				r = &r2
			}
		}
		h.ServeHTTP(w, r)
	})
}

// Key is the client address of a request whose RemoteAddr (after
// Handler) is remote, as the throttles and shares count it: an IPv4
// address, an IPv6 one by its /64, which one host is commonly given whole
// (a count per address would let it take a new one for each try). An
// IPv4-mapped address is the IPv4 one. "" if remote is no address, which
// a real listener never gives.
func Key(remote string) string {
	a, ok := peerOf(remote)
	if !ok {
		return ""
	}
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
