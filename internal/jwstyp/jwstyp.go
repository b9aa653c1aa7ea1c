// Package jwstyp compares the typ header of a JWS with the media type a
// recipient expects (RFC 7515 section 4.1.9), for the IdP, the dpop
// package and the demo authorization servers alike: a DPoP proof
// (dpop+jwt), an ID-JAG (oauth-id-jag+jwt), an access token (at+jwt), an
// ID token (JWT).
package jwstyp

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
