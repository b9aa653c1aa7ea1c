package jwstyp

import "testing"

func TestIs(t *testing.T) {
	for _, c := range []struct {
		typ, want string
		ok        bool
	}{
		{"dpop+jwt", "dpop+jwt", true},
		{"DPoP+JWT", "dpop+jwt", true},
		{"application/dpop+jwt", "dpop+jwt", true},
		{"Application/DPOP+jwt", "dpop+jwt", true},
		{"JWT", "jwt", true},
		{"application/application/dpop+jwt", "dpop+jwt", false},
		{"application/", "dpop+jwt", false},
		{"jwt", "dpop+jwt", false},
		{"dpop+jwt ", "dpop+jwt", false},
		{"", "dpop+jwt", false},
		{"at+jwt", "at+jwt", true},
		{"at+jw\u212a", "at+jwk", false}, // KELVIN SIGN is no k
	} {
		if got := Is(c.typ, c.want); got != c.ok {
			t.Errorf("Is(%q, %q) = %v, want %v", c.typ, c.want, got, c.ok)
		}
	}
}

func TestOtherToken(t *testing.T) {
	for _, c := range []struct{ typ, want string }{
		{"", ""},
		{"JWT", ""},
		{"jwt", ""},
		{"client-authentication+jwt", ""},
		{"application/Client-Authentication+JWT", ""},
		{"DPoP+JWT", "a DPoP proof (RFC 9449)"},
		{"application/oauth-id-jag+jwt", "an ID-JAG"},
		{"secevent+jwt", "a Security Event Token (RFC 8417)"},
		{"AT+JWT", "an access token (RFC 9068)"},
	} {
		if got := OtherToken(c.typ); got != c.want {
			t.Errorf("OtherToken(%q) = %q, want %q", c.typ, got, c.want)
		}
	}
}
