package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"

	"github.com/xaa-idp/xaa-idp/internal/urimatch"
)

// urlSpellings warns of each URL of idp that tokens carry as written but
// that no client writes so: the IdP's own issuer (every token's iss,
// which clients compare with the URL they were given), and each MCP
// server's issuer, http(s) aliases and resources (the ID-JAG's aud is
// the issuer as written, its resource the resource as written). Clients
// write a URL as a URL parser does (the TypeScript SDK sends
// new URL(...).href); the IdP matches their audience and resource after
// RFC 3986 normalisation (internal/urimatch), but an authorization
// server or client that compares the token's "HTTPS://MCP.Example.com/mcp"
// or "https://mcp.example.com:443/mcp" with what it knows refuses it, and
// an international host or a space no request matches at all: a warning
// says what to write.
func urlSpellings(idp *Config, lines *lineIndex, file, prefix string) Problems {
	var out Problems
	warn := func(path, what, s string) {
		if want := clientSpelling(s); want != "" {
			out = append(out, Problem{File: file, Line: lines.line(prefix + path),
				Msg: fmt.Sprintf("warning: %s%q is not written as clients write it; write %q (clients write a URL's scheme and host in lower case, without the default port, with a space and other such characters percent-encoded, and tokens carry the URL as written here, which the clients and servers that read them compare as written)", what, s, want)})
		}
	}
	warn("issuer", "issuer ", idp.Issuer)
	for si, s := range idp.MCPServers {
		at := fmt.Sprintf("mcp_servers[%d].", si)
		who := "server " + s.ID + ": "
		warn(at+"issuer", who+"issuer ", s.Issuer)
		for i, a := range s.Aliases {
			warn(fmt.Sprintf("%saliases[%d]", at, i), who+"alias ", a)
		}
		for i, r := range s.Resources {
			warn(fmt.Sprintf("%sresources[%d]", at, i), who+"resource ", r)
		}
	}
	return out
}

// IssuerSpelling is the issuer s as clients write it when s is written
// otherwise, "" when it is written so: serve warns of an --issuer so, as
// check warns of the issuer: key (urlSpellings).
func IssuerSpelling(s string) string { return clientSpelling(s) }

// clientSpelling is the http or https URL s as a WHATWG URL parser (a
// browser, the TypeScript SDK's new URL) writes it: scheme and host in
// lower case, an international host in punycode, no default port, dot
// segments resolved (RFC 3986 §5.2.4; urimatch keeps them), and spaces,
// controls, non-ASCII and the other characters it escapes
// percent-encoded. It is "" when s is written so already, or is no http
// or https URL (a URN alias).
func clientSpelling(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return ""
	}
	scheme = asciiLower(scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if strings.Contains(authority, "@") {
		// Refused (userinfoProblem); a warning would quote its password.
		return ""
	}
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i:], "]") {
		host, port = authority[:i], authority[i+1:]
	}
	if port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		port = ":" + port
	} else {
		port = ""
	}
	if ip, ok := parserIP(host); ok {
		host = ip
	} else if a, err := idna.Lookup.ToASCII(host); err == nil && !strings.HasPrefix(host, "[") {
		host = a
	}
	path, query, hasQuery := strings.Cut(tail, "?")
	canon := scheme + "://" + asciiLower(host) + port + percentEncode(urimatch.RemoveDotSegments(path), "\"<>`{}")
	if hasQuery {
		canon += "?" + percentEncode(query, "\"<>'")
	}
	if canon == s {
		return ""
	}
	return canon
}

// parserIP is the host of a URL, an IP address, as a WHATWG URL parser
// writes it (URL Standard, "host serializing"): an IPv6 literal
// compressed in lower case (as RFC 5952 has it), and an IPv4 address as
// four decimal numbers whatever shorthand it was typed in (127.1,
// 0x7f.0.0.1, 0177.0.0.1). false for a name, for an IPv4-mapped IPv6
// literal (which Go and the parser write differently) and for what the
// parser refuses.
func parserIP(host string) (string, bool) {
	if v6, ok := strings.CutPrefix(host, "["); ok {
		a, err := netip.ParseAddr(strings.TrimSuffix(v6, "]"))
		if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
			return "", false
		}
		return "[" + a.String() + "]", true
	}
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	if len(parts) > 4 {
		return "", false
	}
	var n uint64
	for i, p := range parts {
		base := 10
		switch {
		case len(p) >= 2 && (p[:2] == "0x" || p[:2] == "0X"):
			p, base = p[2:], 16
			if p == "" {
				p = "0"
			}
		case len(p) >= 2 && p[0] == '0':
			p, base = p[1:], 8
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil || p[0] == '+' || p[0] == '-' {
			return "", false
		}
		if last := i == len(parts)-1; !last && v > 255 || last && v >= 1<<(8*(5-len(parts))) {
			return "", false
		}
		if i < len(parts)-1 {
			n |= v << (8 * (3 - i))
		} else {
			n |= v
		}
	}
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String(), true
}

// percentEncode encodes the bytes of s that a URL parser encodes in a
// path or query: controls, space, non-ASCII and those in set.
func percentEncode(s, set string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(set, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
