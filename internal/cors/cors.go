// Package cors opens endpoints that browser-based OAuth and MCP clients
// call across origins (token, JWKS, metadata, MCP). Credentials are never
// allowed: these endpoints authenticate by header or body, not cookies, so
// "*" is safe (Fetch standard, CORS protocol; RFC 9700 section 4.1.4 has
// token endpoints of public clients reached from browsers).
package cors

import (
	"net/http"
	"strings"
)

// Public answers CORS preflights and marks responses readable from any
// origin, letting browsers send the given request headers and read the
// given response headers, besides WWW-Authenticate (the challenges) and
// Retry-After (when a temporarily_unavailable or a throttled request may
// be retried), which no page could read otherwise: neither is a
// CORS-safelisted response header. A preflight is allowed methods, the
// endpoint's (its Allow) and OPTIONS.
func Public(h http.Handler, methods string, allowHeaders, exposeHeaders []string) http.Handler {
	methods += ", OPTIONS"
	allow := strings.Join(append([]string{"Authorization", "Content-Type"}, allowHeaders...), ", ")
	expose := strings.Join(append([]string{"WWW-Authenticate", "Retry-After"}, exposeHeaders...), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "" {
			h.ServeHTTP(w, r)
			return
		}
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Access-Control-Expose-Headers", expose)
		hdr.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hdr.Set("Access-Control-Allow-Methods", methods)
			hdr.Set("Access-Control-Allow-Headers", allow)
			hdr.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}
