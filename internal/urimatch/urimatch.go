// Package urimatch matches a URL that a client sends (an audience or a
// resource) against one the configuration lists, for the IdP and the demo
// authorization servers alike (docs/http.md, "URL matching"): the two are
// the same URL when they are equal after RFC 3986 §6.2.2 syntax-based
// normalisation of http and https URLs (scheme and host case, the default
// port, the case of percent-encoding and percent-encoded unreserved
// characters, an empty path before a query "/"), up to one trailing "/"
// on either side, which also makes an empty path at the end equal to "/"
// (§6.2.3). The path's case, its dot segments and
// the query still count. Other URIs (urn:…) compare exactly. The caller
// answers with the configured spelling, never the client's.
//
// redirect_uri is not matched here: it is compared exactly (OAuth 2.0
// Security BCP, RFC 9700 §4.1.3), see internal/redirecturi.
package urimatch

import "strings"

// Same reports whether presented names the configured URL: equal once both
// are [Normal], up to one trailing "/" on either side. Nothing matches an
// empty configured value.
func Same(configured, presented string) bool {
	if configured == "" {
		return false
	}
	return slashEqual(Normal(configured), Normal(presented))
}

// SameResolved is Same once the dot segments of both paths are removed
// (RFC 3986 §5.2.4, §6.2.2.3: "http://idp/." and "http://idp/a/.." are
// "http://idp/", as a client that resolves the URL reaches it). Matching a
// request's audience or resource keeps dot segments (Same); a refusal
// that must catch every spelling of a URL, such as an MCP server's issuer
// that is the IdP's own, takes this.
func SameResolved(configured, presented string) bool {
	if configured == "" {
		return false
	}
	return slashEqual(resolved(Normal(configured)), resolved(Normal(presented)))
}

// resolved removes the dot segments of the path of an http or https URL
// that Normal returned; other values are returned as they are.
func resolved(s string) string {
	i := strings.Index(s, "://")
	if i <= 0 || (s[:i] != "http" && s[:i] != "https") {
		return s
	}
	rest := s[i+len("://"):]
	start := strings.IndexByte(rest, '/')
	if start < 0 || strings.ContainsAny(rest[:start], "?#") {
		return s
	}
	path := rest[start:]
	end := strings.IndexAny(path, "?#")
	if end < 0 {
		end = len(path)
	}
	if p := RemoveDotSegments(path[:end]); p != path[:end] {
		return s[:i+len("://")+start] + p + path[end:]
	}
	return s
}

// RemoveDotSegments is RFC 3986 §5.2.4's algorithm on an absolute path,
// as a URL parser applies it ("/a/../b/." is "/b/"); a path without a
// dot is returned as it is.
func RemoveDotSegments(in string) string {
	if !strings.Contains(in, ".") {
		return in
	}
	out := make([]byte, 0, len(in))
	popSegment := func() {
		if j := strings.LastIndexByte(string(out), '/'); j >= 0 {
			out = out[:j]
		} else {
			out = out[:0]
		}
	}
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			popSegment()
		case in == "/..":
			in = "/"
			popSegment()
		case in == "." || in == "..":
			in = ""
		default:
			j := strings.IndexByte(in[1:], '/') + 1
			if j == 0 {
				j = len(in)
			}
			out = append(out, in[:j]...)
			in = in[j:]
		}
	}
	return string(out)
}

// Keys returns the values that Same accepts for configured, each [Normal]:
// the keys of an index that is looked up with Normal(presented).
func Keys(configured string) []string {
	n := Normal(configured)
	out := []string{n, n + "/"}
	if t, ok := strings.CutSuffix(n, "/"); ok && t != "" {
		out = append(out, t)
	}
	return out
}

// slashEqual reports whether a and b are equal up to one trailing "/" on
// either side. (It compares in place: concatenating the "/" would allocate
// for long URLs.)
func slashEqual(a, b string) bool {
	longer, shorter := a, b
	if len(b) > len(a) {
		longer, shorter = b, a
	}
	switch len(longer) - len(shorter) {
	case 0:
		return a == b
	case 1:
		return longer[len(shorter)] == '/' && longer[:len(shorter)] == shorter
	}
	return false
}

// Normal returns an absolute http or https URL in RFC 3986 §6.2.2 normal
// form: scheme and host in lower case, the scheme's default port (and an
// empty one) dropped, an empty path before a query or fragment made "/",
// percent-encoded unreserved characters decoded and other
// percent-encodings in upper case. Anything else is returned as it
// is, and so is a URL with userinfo. A URL already normal is returned
// without allocating.
func Normal(s string) string {
	i := strings.Index(s, "://")
	if i <= 0 {
		return s
	}
	scheme := s[:i]
	var defaultPort string
	switch {
	case strings.EqualFold(scheme, "https"):
		defaultPort = ":443"
	case strings.EqualFold(scheme, "http"):
		defaultPort = ":80"
	default:
		return s
	}
	rest := s[i+len("://"):]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if !hostPort(authority) {
		return s
	}
	host, ok := strings.CutSuffix(authority, defaultPort)
	if !ok {
		host = strings.TrimSuffix(authority, ":")
	}
	if host == "" {
		return s
	}
	lscheme, lhost, ntail := lowerASCII(scheme), lowerASCII(host), percentNormal(tail)
	if lscheme == scheme && lhost == authority && ntail == tail && (tail == "" || tail[0] == '/') {
		return s
	}
	if ntail != "" && ntail[0] != '/' {
		// An empty path before a query or fragment is "/" (§6.2.3); at
		// the end of the URL, Same's trailing "/" has it.
		ntail = "/" + ntail
	}
	return lscheme + "://" + lhost + ntail
}

// hostPort reports whether an authority is a host and an optional port of
// digits only (RFC 3986 §3.2), the host an IPv6 literal in brackets or a
// name or address without ":" or "@": a URL with userinfo, or one such as
// http://host:8101:80 that is none, is compared as it is.
func hostPort(authority string) bool {
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && i > strings.LastIndexByte(authority, ']') {
		host, port = authority[:i], authority[i+1:]
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	if strings.HasPrefix(host, "[") {
		return len(host) > 2 && strings.IndexByte(host, ']') == len(host)-1
	}
	return host != "" && !strings.ContainsAny(host, ":@[]")
}

// lowerASCII lower-cases the ASCII letters of s, returning s itself when
// it has none in upper case.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// percentNormal decodes the percent-encoded unreserved characters of s
// (RFC 3986 §6.2.2.2) and writes the hex digits of the others in upper
// case (§6.2.2.1), returning s itself when nothing changes.
func percentNormal(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			b = append(b, s[i])
			continue
		}
		if c := unhex(s[i+1])<<4 | unhex(s[i+2]); unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex(s[i+1]), upperHex(s[i+2]))
		}
		i += 2
	}
	if string(b) == s {
		return s
	}
	return string(b)
}

// unreserved reports whether c is an RFC 3986 §2.3 unreserved character.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - ('a' - 'A')
	}
	return c
}
