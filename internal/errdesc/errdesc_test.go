package errdesc

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

func TestASCII(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text (RFC 6749 section 5.2)", "plain text (RFC 6749 section 5.2)"},
		{fmt.Sprintf("client_id %q is not registered", "app"), "client_id 'app' is not registered"},
		{fmt.Sprintf("audience %q", "a\u202eb"), "audience 'aU+202Eb'"},
		{fmt.Sprintf("audience %q", "раy"), "audience 'U+0440U+0430y'"},
		{fmt.Sprintf("value %q", `a"b'c\d`), "value 'aU+0022bU+0027cU+005Cd'"},
		{fmt.Sprintf("value %q", "x\xffy\x00"), "value 'xU+FFFDyU+0000'"},
		{fmt.Sprintf("value %q", "😀"), "value 'U+1F600'"},
		{`he said "hi`, "he said 'hi"},
		{`a\b` + "\n\u00e9\xfe", "aU+005CbU+000AU+00E9U+FFFD"},
		{"see RFC 9449 § 4.3 …", "see RFC 9449 section  4.3 ..."},
	} {
		if got := ASCII(c.in); got != c.want {
			t.Errorf("ASCII(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestASCIIRandom: whatever the text, quoted or not, the result is in the
// RFC 6749 section 5.2 set.
func TestASCIIRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\"", "\\", "'", "\x00", "\x7f", "\xff", "\u202e", "é", "😀", "§", "…", "U+", "%q"}
	for range 20000 {
		var s string
		for range rng.IntN(12) {
			switch rng.IntN(3) {
			case 0:
				s += alphabet[rng.IntN(len(alphabet))]
			case 1:
				s += fmt.Sprintf("%q", alphabet[rng.IntN(len(alphabet))]+alphabet[rng.IntN(len(alphabet))])
			default:
				s += string([]byte{byte(rng.IntN(256))})
			}
		}
		if got := ASCII(s); !Valid(got) || !utf8.ValidString(got) {
			t.Fatalf("ASCII(%q) = %q: outside the set", s, got)
		}
	}
}
