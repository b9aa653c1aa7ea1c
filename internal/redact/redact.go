// Package redact keeps tokens out of text that is recorded or shown: the
// audit log, the logs and error descriptions, which quote what clients send.
// It stands apart from the audit package so that the resource side, which
// knows the IdP only through its metadata and keys, can use it too.
package redact

import (
	"regexp"
	"strings"
)

// compactJWT matches a JWS (three segments) or JWE (five) in compact serialization: an ID token,
// an ID-JAG, a client assertion, or one of the IdP's opaque access tokens and codes (JWEs). Its
// first group is the protected header, which says only what kind of token it is.
var compactJWT = regexp.MustCompile(`(eyJ[A-Za-z0-9_-]+)(?:\.[A-Za-z0-9_-]*){2,4}`)

// Tokens replaces every JWT or JWE in s with its header and the marker "…[token redacted]": a
// client that sends a token in the wrong parameter (as its client_id, a resource or a token
// type) must not have it recorded, and a byte bound alone lets a short one (an access token or
// a code, some 250 bytes) through whole. Applied again it changes nothing.
func Tokens(s string) string {
	if !strings.Contains(s, "eyJ") {
		return s
	}
	return compactJWT.ReplaceAllString(s, "${1}…[token redacted]")
}
