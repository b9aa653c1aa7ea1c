package app

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
)

// hostGuard refuses, against DNS rebinding, a browser's request for the
// admin API, the console or the login form's post under a host name the
// IdP does not answer to by design.
//
// A web page at http://evil.example:8080 whose name its owner rebinds to
// 127.0.0.1 reaches a local IdP as its own origin: its Origin and Host
// agree, so no cross-site check sees it, and with the demo's known
// passwords it could read and change the configuration (HTTP Basic), or
// sign in at the login form as a demo user and act as them. Its requests
// name the attacker's host in Host. Browsers mark their requests (Origin,
// Sec-Fetch-Site, a "Mozilla/" User-Agent) and scripts (curl, Go, Node,
// Python) send none of these: only a marked request is checked, so a
// script, a CI job or a container reaching the IdP by a service name is
// never refused.
//
// The names allowed are the issuer's host (every tenant's issuer shares
// it), localhost and the names under it (RFC 6761 section 6.3: loopback
// by definition, which browsers resolve to loopback themselves, so no one
// can rebind them), IP literals (no name, nothing to rebind) and hosts
// (the host of --addr); ports are ignored, and case too, for ASCII
// letters alone (RFC 4343). Names are compared as sent: a browser sends
// an internationalised name in its ASCII (xn--) form, which the standard
// library cannot derive, so an issuer written with a host that is not
// ASCII matches no browser's request (warnNonASCIIIssuer). A request
// whose Origin names an allowed name is let through whatever its Host: a
// proxy that passes its upstream's name on as Host. /me/* (bearer tokens) and /apps (the SSO
// cookie, which a rebound name never holds) need no guard once the login
// form refuses: a rebound page cannot sign in to get either.
type hostGuard struct {
	next  http.Handler
	names map[string]bool
	// issuer is named in the refusal.
	issuer string
}

// guardHosts wraps h with a hostGuard for the names of issuer and hosts.
func guardHosts(h http.Handler, issuer string, hosts []string) http.Handler {
	g := &hostGuard{next: h, names: map[string]bool{"localhost": true}, issuer: issuer}
	if u, err := url.Parse(issuer); err == nil {
		g.names[hostName(u.Host)] = true
	}
	for _, h := range hosts {
		g.names[hostName(h)] = true
	}
	return g
}

func (g *hostGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !guarded(r) || !fromBrowser(r) || g.allowed(r.Host) {
		g.next.ServeHTTP(w, r)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err == nil && u.Host != "" && g.allowed(u.Host) {
			g.next.ServeHTTP(w, r)
			return
		}
	}
	host := audit.TruncateTo(r.Host, 256)
	slog.Warn("refused a browser's request under a host name the IdP does not answer to (DNS rebinding?)",
		"host", host, "origin", audit.TruncateTo(r.Header.Get("Origin"), 256), "method", r.Method, "path", audit.TruncateTo(r.URL.Path, 256))
	msg := "this request comes from a browser at host " + host + ", a name this IdP does not answer to (its issuer's host, localhost or a name under it, an IP address or the host of --addr): refused as a possible DNS rebinding attack. Open the IdP at its issuer, " + g.issuer + "; behind a proxy, pass the browser's Host header on."
	if admin.IsSCIM(r.URL.Path) {
		admin.SCIMError(w, http.StatusForbidden, msg)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/admin/api/") {
		httpjson.Write(w, http.StatusForbidden, map[string]string{"error": "forbidden", "error_description": msg})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(msg + "\n"))
}

// guarded reports whether the guard checks r: the admin API and the
// console (/admin/...), and the login form's post.
func guarded(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/admin/") || r.URL.Path == "/admin" ||
		(r.URL.Path == "/login" && r.Method == http.MethodPost)
}

// fromBrowser reports whether r carries a header that only browsers send:
// Origin, or Sec-Fetch-Site, which a browser that sends Fetch Metadata
// sends on every request to a trustworthy origin (https, loopback names),
// or a browser's User-Agent (every browser's begins "Mozilla/", and a
// page's script cannot change it), which marks the same-origin GET that
// over plain http carries neither. Not the other Sec-Fetch-* headers
// alone: Node's fetch (undici) marks every request Sec-Fetch-Mode: cors,
// and a Node script is a script; nor a script's own User-Agent (curl/,
// Go-http-client/, python-requests/, node).
func fromBrowser(r *http.Request) bool {
	_, origin := r.Header["Origin"]
	_, site := r.Header["Sec-Fetch-Site"]
	return origin || site || strings.HasPrefix(r.Header.Get("User-Agent"), "Mozilla/")
}

// allowed reports whether hostport's host is an IP literal or a name the
// IdP answers to.
func (g *hostGuard) allowed(hostport string) bool {
	name := hostName(hostport)
	if name == "" {
		return false
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	if sub, ok := strings.CutSuffix(name, ".localhost"); ok && sub != "" && !strings.HasSuffix(sub, ".") {
		return true
	}
	return g.names[name]
}

// warnNonASCIIIssuer warns, at the start, when the issuer's host is not
// ASCII: the guard refuses every browser there (hostGuard).
func warnNonASCIIIssuer(issuer string) {
	u, err := url.Parse(issuer)
	if err != nil {
		return
	}
	if name := hostName(u.Host); !ascii(name) {
		slog.Warn("the issuer's host is not ASCII: browsers send its ASCII (xn--, punycode) form, which the DNS-rebinding guard cannot derive, so it refuses their console requests and sign-ins; write the issuer with the host's xn-- form",
			"host", name)
	}
}

// ascii reports whether s is ASCII.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// lowerASCII maps s's ASCII upper-case letters to lower case, and nothing
// else: Unicode's lower case would make KELVIN SIGN a k, and a name that
// is not the one allowed equal to it.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// hostName is the host of a Host header or URL host (port and IPv6
// brackets removed), its ASCII letters lower case, without a final dot.
func hostName(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	} else {
		h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	}
	return strings.TrimSuffix(lowerASCII(h), ".")
}
