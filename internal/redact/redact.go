// Package redact keeps tokens out of text that is recorded or shown: the
// audit log, the logs and error descriptions, which quote what clients send.
// It stands apart from the audit package so that the resource side, which
// knows the IdP only through its metadata and keys, can use it too.
package redact

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// compactJWT matches a JWS (three segments) or JWE (five) in compact serialization: an ID token,
// an ID-JAG, a client assertion, or one of the IdP's opaque access tokens and codes (JWEs). Its
// first group is the protected header, which says only what kind of token it is.
var compactJWT = regexp.MustCompile(`(eyJ[A-Za-z0-9_-]+)(?:\.[A-Za-z0-9_-]*){2,4}`)

// refreshToken matches one of the IdP's refresh tokens: "rt_" and 32 random bytes, base64url
// (43 characters), not a JWT, so compactJWT lets it through. A longer run is taken whole. The
// first group is what stands before it: the start, a character that is not part of a word
// (not "start_…"), or a percent-encoded one ("%3D", "%2F": a URL inside a URL), which a word
// boundary (\b) missed, since its last hex digit is a word character.
var refreshToken = regexp.MustCompile(`(^|[^A-Za-z0-9_]|%[0-9A-Fa-f]{2})rt_[A-Za-z0-9_-]{43,}`)

// Tokens replaces every JWT or JWE in s with its header and the marker "…[token redacted]", and
// every refresh token with "rt_…[token redacted]": a client that sends a token in the wrong
// parameter (as its client_id, a resource or a token type) must not have it recorded, and a
// byte bound alone lets a short one (an access token or a code, some 250 bytes; a refresh
// token, 46) through whole. Applied again it changes nothing.
func Tokens(s string) string {
	if strings.Contains(s, "eyJ") {
		s = compactJWT.ReplaceAllString(s, "${1}…[token redacted]")
	}
	if strings.Contains(s, "rt_") {
		s = refreshToken.ReplaceAllString(s, "${1}rt_…[token redacted]")
	}
	return s
}

// TruncateTo returns s as valid UTF-8 of at most limit bytes (at least 64), with every token in
// it redacted (Tokens). A longer s is cut at a rune boundary and ends with a marker saying how
// many bytes were cut, such as "…[truncated 59488 bytes]", the marker included in the limit.
// Invalid UTF-8 is replaced with U+FFFD first, as encoding/json would replace it. The audit's
// Truncate is it with the audit's bound; error descriptions (errdesc.Wire) use it with theirs.
func TruncateTo(s string, limit int) string {
	limit = max(limit, 64)
	s = Tokens(s)
	if len(s) <= limit && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= limit {
		return s
	}
	// The marker counts the bytes cut, fewer than len(s), so sizing it for len(s) leaves room
	// for the actual count.
	keep := limit - len(truncatedMarker(len(s)))
	for !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + truncatedMarker(len(s)-keep)
}

func truncatedMarker(cut int) string {
	return "…[truncated " + strconv.Itoa(cut) + " bytes]"
}

// URL is rawURL with the password of its userinfo masked as "xxxxx", as
// url.URL.Redacted masks it: a receiver's credentials in an events_endpoint
// (https://user:password@host/events, which Go sends as Basic). A user
// without a password (https://TOKEN@host/events) is most often a token, and
// is masked whole: "https://xxxxx@host/events". The rest is
// kept as written, not as url.URL.String would write it again (an upper-case
// scheme, a space in the path), so that a URL without a password is shown
// as the configuration holds it. A value that does not parse (a space in
// the password) has its whole userinfo masked, "https://xxxxx@host/events",
// for where the password starts cannot be told.
func URL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err == nil {
		if u.User == nil || u.User.String() == "" {
			return rawURL
		}
	}
	before, rest, ok := strings.Cut(rawURL, "//")
	if !ok {
		return rawURL
	}
	if err != nil {
		// Not a URL: where its authority ends is a guess, and a password
		// holding an unencoded '/', '?' or '#' would end it early, so
		// everything up to the last '@' is masked.
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			return before + "//" + mask + rest[at:]
		}
		return rawURL
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return rawURL
	}
	if _, ok := u.User.Password(); !ok {
		return before + "//" + mask + rest[at:]
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return before + "//" + user + ":" + mask + rest[at:]
}

// URLAndQuery is URL(rawURL) with the value of each query parameter masked
// too, its name kept ("?key=xxxxx"), and a parameter without a name masked
// whole: a receiver's key may sit in the query of its events_endpoint
// (https://rx.example/events?key=SECRET). For the audit and the logs; the
// configuration answered to an admin keeps the query as the admin wrote it.
func URLAndQuery(rawURL string) string {
	s := URL(rawURL)
	i := strings.Index(s, "?")
	if i < 0 {
		return s
	}
	query, _, hasFragment := strings.Cut(s[i+1:], "#")
	params := strings.Split(query, "&")
	for j, p := range params {
		if name, value, ok := strings.Cut(p, "="); ok && value != "" {
			params[j] = name + "=" + mask
		} else if !ok && p != "" {
			params[j] = mask
		}
	}
	s = s[:i+1] + strings.Join(params, "&")
	if hasFragment {
		s += "#" + mask
	}
	return s
}

// mask is what URL shows in place of a password, or of a user without one.
const mask = "xxxxx"

// SameURLRedacted reports whether masked is URL(rawURL) and masks a
// password, or a user without one: a URL shown redacted and sent back,
// which stands for rawURL.
func SameURLRedacted(masked, rawURL string) bool {
	u, err := url.Parse(masked)
	if err != nil || u.User == nil {
		return false
	}
	if p, ok := u.User.Password(); ok && p != mask || !ok && u.User.Username() != mask {
		return false
	}
	return masked != rawURL && URL(rawURL) == masked
}
