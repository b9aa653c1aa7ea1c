package cimd

import "net"

// UseDNS makes r resolve host names with dns: tests name hosts that
// resolve where they say, without real DNS.
func UseDNS(r *Resolver, dns *net.Resolver) { r.dialer.Resolver = dns }
