// Package jwstyp compares the typ header of a JWS with the media type a
// recipient expects (RFC 7515 section 4.1.9), for the IdP, the dpop
// package and the demo authorization servers alike: a DPoP proof
// (dpop+jwt), an ID-JAG (oauth-id-jag+jwt), an access token (at+jwt), an
// ID token (JWT), a client assertion (none of the others).
package jwstyp

import "fmt"

const prefix = "application/"

// Is reports whether typ names the media type want, which is given in
// lower case without "application/" ("dpop+jwt"): media types compare
// without regard to case (RFC 2045 section 5.1), and RFC 7515 section
// 4.1.9 lets a sender leave out "application/", which the recipient puts
// back, so "DPoP+JWT" and "application/dpop+jwt" are dpop+jwt. Case is
// ASCII case only: no other letter folds to one of a media type's.
func Is(typ, want string) bool {
	if len(typ) > len(prefix) && foldEqual(typ[:len(prefix)], prefix) {
		typ = typ[len(prefix):]
	}
	return foldEqual(typ, want)
}

// foldEqual reports whether a and b are equal up to the case of ASCII
// letters.
func foldEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// others are the media types of the JWTs that are another token than a
// client assertion, each with what it marks.
var others = []struct{ typ, what string }{
	{"at+jwt", "an access token (RFC 9068)"},
	{"dpop+jwt", "a DPoP proof (RFC 9449)"},
	{"oauth-id-jag+jwt", "an ID-JAG"},
	{"secevent+jwt", "a Security Event Token (RFC 8417)"},
	{"logout+jwt", "a logout token (OpenID Connect Back-Channel Logout 1.0)"},
	{"token-introspection+jwt", "an introspection response (RFC 9701)"},
	{"oauth-authz-req+jwt", "a request object (RFC 9101)"},
}

// OtherToken names the token typ marks when it is the typ of a JWT that
// is not a client assertion ("a DPoP proof (RFC 9449)"), else "". A
// client assertion (RFC 7523) is typed JWT, client-authentication+jwt
// (draft-ietf-oauth-rfc7523bis) or not at all, and a recipient refuses one
// typed as another token, so that a DPoP proof, an ID-JAG or a SET signed
// by the client's key cannot pass for one (RFC 8725 section 3.11).
func OtherToken(typ string) string {
	for _, o := range others {
		if Is(typ, o.typ) {
			return o.what
		}
	}
	return ""
}

// NotAssertion says why a client assertion typed typ is refused, the
// same at the IdP and the demo authorization servers ("typ \"dpop+jwt\"
// is that of a DPoP proof (RFC 9449), not of a client assertion: ..."),
// or "" when typ is one a client assertion may carry (OtherToken).
func NotAssertion(typ string) string {
	what := OtherToken(typ)
	if what == "" {
		return ""
	}
	return fmt.Sprintf("typ %q is that of %s, not of a client assertion: send typ JWT or client-authentication+jwt, or none (RFC 8725 section 3.11)", typ, what)
}
