package cimd_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
)

// fakeDNS answers A and AAAA queries for the names of hosts (written
// without the final dot) with their address, and any other name with
// NXDOMAIN; it returns a resolver that asks it and nothing else.
func fakeDNS(t *testing.T, hosts map[string]netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			a, ok := hosts[strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")]
			rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true}
			if !ok {
				rh.RCode = dnsmessage.RCodeNameError
			}
			b := dnsmessage.NewBuilder(nil, rh)
			b.EnableCompression()
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			rr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
			switch {
			case ok && q.Type == dnsmessage.TypeA && a.Is4():
				_ = b.AResource(rr, dnsmessage.AResource{A: a.As4()})
			case ok && q.Type == dnsmessage.TypeAAAA && a.Is6():
				_ = b.AAAAResource(rr, dnsmessage.AAAAResource{AAAA: a.As16()})
			}
			msg, err := b.Finish()
			if err == nil {
				_, _ = pc.WriteTo(msg, from)
			}
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// TestResolve_PatternNamingADNSNameAdmitsOnlyPublicAddresses: a pattern
// that names a DNS name narrows the allow list to that name; it does not
// let whoever controls the name's DNS point the IdP at a loopback,
// private or link-local address (cloud metadata at 169.254.169.254). Such
// an address is fetched only when a pattern names it itself: an IP
// literal, or localhost for loopback. Until 2026-12-06 a pattern naming
// the host admitted any non-public address the name resolved to.
func TestResolve_PatternNamingADNSNameAdmitsOnlyPublicAddresses(t *testing.T) {
	noGoroutineLeak(t)
	s := newSite(t)
	port := s.URL[strings.LastIndex(s.URL, ":"):]
	dns := fakeDNS(t, map[string]netip.Addr{
		"partner.test":  netip.MustParseAddr("127.0.0.1"),
		"private.test":  netip.MustParseAddr("10.1.2.3"),
		"metadata.test": netip.MustParseAddr("169.254.169.254"),
	})
	doc := func(host string) string {
		id := "http://" + host + port + "/" + host + ".json"
		s.publish("/"+host+".json", publicDoc(id), "")
		return id
	}
	tests := []struct {
		name, allow, clientID, detail string
	}{
		{"a name resolving to loopback", "http://partner.test:*", doc("partner.test"), "address 127.0.0.1 is a loopback address"},
		{"a name resolving to a private address", "http://private.test:*", doc("private.test"), "address 10.1.2.3 is a private address"},
		{"a name resolving to cloud metadata", "http://metadata.test/*", "http://metadata.test/latest/client.json", "address 169.254.169.254 is a link-local address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := patientResolver(cimd.Config{Enabled: true, Allow: []string{tt.allow}})
			cimd.UseDNS(r, dns)
			_, err := r.Resolve(t.Context(), tt.clientID)
			if !errors.Is(err, cimd.ErrFetch) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("err = %v, want ErrFetch containing %q", err, tt.detail)
			}
			if n := s.total(); n != 0 {
				t.Fatalf("%d requests reached the server", n)
			}
		})
	}
	// A jwks_uri is held to the same rule: its own host's pattern.
	t.Run("a jwks_uri under a name resolving to loopback", func(t *testing.T) {
		r := patientResolver(cimd.Config{Enabled: true, Allow: []string{"http://127.0.0.1:*", "http://partner.test:*"}})
		cimd.UseDNS(r, dns)
		s.publish("/keys.json", keySet(t), "")
		d := publicDoc(s.URL + "/keyed.json")
		d["token_endpoint_auth_method"] = "private_key_jwt"
		d["jwks_uri"] = "http://partner.test" + port + "/keys.json"
		id := s.publish("/keyed.json", d, "")
		_, err := r.Resolve(t.Context(), id)
		if !errors.Is(err, cimd.ErrFetch) && !errors.Is(err, cimd.ErrInvalidDocument) || !strings.Contains(err.Error(), "address 127.0.0.1 is a loopback address") {
			t.Fatalf("err = %v, want the jwks_uri's loopback address refused", err)
		}
		if n := s.requests("/keys.json"); n != 0 {
			t.Fatalf("the jwks_uri was fetched %d times", n)
		}
	})
	// The address itself, named by a pattern, is fetched, and so is a
	// loopback address under localhost.
	for _, allow := range []string{"http://127.0.0.1:*", "http://localhost:*"} {
		r := patientResolver(cimd.Config{Enabled: true, Allow: []string{allow}})
		id := strings.Replace(s.URL, "127.0.0.1", patternHostOf(allow), 1) + "/named.json"
		s.publish("/named.json", publicDoc(id), "")
		if _, err := r.Resolve(t.Context(), id); err != nil {
			t.Errorf("allow %s: %v", allow, err)
		}
	}
	s.waitClosed(t)
}

func patternHostOf(pattern string) string {
	h, _, _ := strings.Cut(strings.TrimPrefix(pattern, "http://"), ":")
	return h
}

// TestResolve_AllowPrivateAdmitsAnIntranetName: a company's documents on
// an intranet host named by DNS (https://clients.corp.example/...) are
// fetched when an allow_private pattern names the host, from the private
// or loopback address it resolves to; before, only a pattern naming the
// address itself admitted one, and such a company could not allow its
// documents at all. The pattern opens that name alone (another name
// resolving to loopback stays refused), and never a link-local address:
// cloud metadata (169.254.169.254, fd00:ec2::254, 100.100.100.200) is fetched only under a
// pattern naming that address.
func TestResolve_AllowPrivateAdmitsAnIntranetName(t *testing.T) {
	noGoroutineLeak(t)
	s := newSite(t)
	port := s.URL[strings.LastIndex(s.URL, ":"):]
	dns := fakeDNS(t, map[string]netip.Addr{
		"clients.corp.test":  netip.MustParseAddr("127.0.0.1"),
		"other.corp.test":    netip.MustParseAddr("127.0.0.1"),
		"metadata.corp.test": netip.MustParseAddr("169.254.169.254"),
		"aws6.corp.test":     netip.MustParseAddr("fd00:ec2::254"),
		"ll6.corp.test":      netip.MustParseAddr("fe80::1"),
		"alibaba.corp.test":  netip.MustParseAddr("100.100.100.200"),
	})
	allowPrivate := []string{"http://clients.corp.test:*", "http://metadata.corp.test:*", "http://aws6.corp.test:*", "http://ll6.corp.test:*", "http://alibaba.corp.test:*"}
	r := patientResolver(cimd.Config{Enabled: true, Allow: []string{"http://*"}, AllowPrivate: allowPrivate})
	cimd.UseDNS(r, dns)
	id := "http://clients.corp.test" + port + "/corp.json"
	s.publish("/corp.json", publicDoc(id), "")
	c, err := r.Resolve(t.Context(), id)
	if err != nil {
		t.Fatalf("a name allow_private names, resolving to 127.0.0.1: %v", err)
	}
	if c.ClientID != id || s.requests("/corp.json") != 1 {
		t.Fatalf("resolved %q with %d fetches, want %q fetched once", c.ClientID, s.requests("/corp.json"), id)
	}
	for _, tt := range []struct{ name, clientID, detail string }{
		{"another name resolving to loopback", "http://other.corp.test" + port + "/other.json", "address 127.0.0.1 is a loopback address"},
		{"a name resolving to cloud metadata", "http://metadata.corp.test" + port + "/m.json", "address 169.254.169.254 is a link-local address"},
		{"a name resolving to IPv6 cloud metadata", "http://aws6.corp.test" + port + "/m.json", "address fd00:ec2::254 is the IPv6 address of AWS's instance metadata, where cloud metadata is served"},
		{"a name resolving to IPv6 link-local", "http://ll6.corp.test" + port + "/m.json", "address fe80::1 is a link-local address"},
		// In the shared address space (RFC 6598), not a link-local one.
		{"a name resolving to Alibaba Cloud's metadata", "http://alibaba.corp.test" + port + "/m.json", "address 100.100.100.200 is the address of Alibaba Cloud's instance metadata, where cloud metadata is served"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Resolve(t.Context(), tt.clientID)
			if !errors.Is(err, cimd.ErrFetch) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("err = %v, want ErrFetch containing %q", err, tt.detail)
			}
		})
	}
	if n := s.total(); n != 1 {
		t.Fatalf("%d requests reached the server, want the allowed document's alone", n)
	}
	// An allow_private pattern does not admit what no allow pattern does.
	r = patientResolver(cimd.Config{Enabled: true, Allow: []string{"https://*"}, AllowPrivate: allowPrivate})
	cimd.UseDNS(r, dns)
	if _, err := r.Resolve(t.Context(), "http://clients.corp.test"+port+"/corp2.json"); !errors.Is(err, cimd.ErrNotAllowed) {
		t.Fatalf("a URL allow_private names and allow does not: err = %v, want ErrNotAllowed", err)
	}
	s.waitClosed(t)
}

// TestResolve_AllowPrivateAdmitsPrivateAndLoopbackAlone: allow_private
// trusts a company's DNS to point at its own network (README, "CIMD
// clients"): the private ranges (10.0.0.0/8, 172.16.0.0/12,
// 192.168.0.0/16, fc00::/7) and loopback. The other ranges that are not
// globally reachable are no company's intranet, and a name it trusts
// reached them: the carrier-grade NAT space 100.64.0.0/10 (a carrier's
// network, and some clouds' services beside their metadata), "this
// network" 0.0.0.0/8, the benchmarking, documentation and reserved ranges,
// the local-use NAT64 prefix and the deprecated site-local fec0::/10. Such
// an address is fetched only when an allow pattern names it, and the
// refusal says so (not "name the host in cimd.allow_private", which it is).
func TestResolve_AllowPrivateAdmitsPrivateAndLoopbackAlone(t *testing.T) {
	noGoroutineLeak(t)
	s := newSite(t)
	port := s.URL[strings.LastIndex(s.URL, ":"):]
	hosts := map[string]netip.Addr{
		"cgnat.corp.test":     netip.MustParseAddr("100.64.0.1"),
		"cgnat-end.corp.test": netip.MustParseAddr("100.127.255.254"),
		"this.corp.test":      netip.MustParseAddr("0.0.0.1"),
		"bench.corp.test":     netip.MustParseAddr("198.18.0.1"),
		"doc.corp.test":       netip.MustParseAddr("192.0.2.1"),
		"reserved.corp.test":  netip.MustParseAddr("240.0.0.1"),
		"nat64.corp.test":     netip.MustParseAddr("64:ff9b:1::a00:1"),
		"sitelocal.corp.test": netip.MustParseAddr("fec0::1"),
		"doc6.corp.test":      netip.MustParseAddr("2001:db8::1"),
		"loop.corp.test":      netip.MustParseAddr("127.0.0.1"),
	}
	var allowPrivate []string
	for h := range hosts {
		allowPrivate = append(allowPrivate, "http://"+h+":*")
	}
	r := fastResolver(cimd.Config{Enabled: true, Allow: []string{"http://*"}, AllowPrivate: allowPrivate})
	cimd.UseDNS(r, fakeDNS(t, hosts))
	for h, a := range hosts {
		if h == "loop.corp.test" {
			continue
		}
		t.Run(h, func(t *testing.T) {
			_, err := r.Resolve(t.Context(), "http://"+h+port+"/m.json")
			want := fmt.Sprintf("address %s is ", a)
			if !errors.Is(err, cimd.ErrFetch) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "cimd.allow_private admits private (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7) and loopback addresses alone") {
				t.Fatalf("err = %v, want ErrFetch naming %s and what allow_private admits", err, a)
			}
		})
	}
	id := "http://loop.corp.test" + port + "/corp.json"
	s.publish("/corp.json", publicDoc(id), "")
	if _, err := r.Resolve(t.Context(), id); err != nil {
		t.Fatalf("a name allow_private names, resolving to 127.0.0.1: %v", err)
	}
	if n := s.total(); n != 1 {
		t.Fatalf("%d requests reached the server, want the loopback document's alone", n)
	}
	s.waitClosed(t)
}
