package policy

import (
	"fmt"
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
	if a, err := idna.Lookup.ToASCII(host); err == nil && !strings.HasPrefix(host, "[") {
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
