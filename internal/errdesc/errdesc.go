// Package errdesc makes an OAuth error_description fit RFC 6749 §5.2,
// which limits it to printable ASCII without '"' and '\' (%x20-21 /
// %x23-5B / %x5D-7E), as do an RFC 6750 §3 Bearer challenge's and an
// authorization error redirect's (RFC 6749 §4.1.2.1), for the IdP and the
// demo authorization and MCP servers alike.
package errdesc

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xaa-idp/xaa-idp/internal/redact"
)

// ASCII writes s in the RFC 6749 §5.2 set, by one convention:
//
//   - a value quoted as Go's %q quotes it ("a\u202eb") is unquoted and
//     quoted again with single quotes ('aU+202Eb'); inside it, a quote
//     of either kind is written U+0022 or U+0027, so that the quotes
//     delimit the value exactly;
//   - elsewhere a double quote becomes a single quote;
//   - a backslash becomes U+005C, and a control character (U+0000 to
//     U+001F, U+007F) or any character beyond ASCII its code point, U+202E
//     (U+1F600 beyond the BMP); a byte that is not UTF-8 becomes U+FFFD;
//   - the servers' own § and ellipsis are written out ("section ",
//     "...").
//
// Descriptions quote what the client sent: a bidi override would reorder
// the text where a client logs it, and a Cyrillic а or a fullwidth ａ
// would look like the value the server knows, hiding why it was refused.
// What the audit and the server log record is not passed here: they are
// JSON, which holds anything, with only the characters that reorder or
// hide text escaped (jsonstr.AppendVisible).
func ASCII(s string) string {
	if Valid(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		if s[i] == '"' {
			if q, err := strconv.QuotedPrefix(s[i:]); err == nil {
				if v, err := strconv.Unquote(q); err == nil {
					b.WriteByte('\'')
					writeValue(&b, v)
					b.WriteByte('\'')
					i += len(q)
					continue
				}
			}
			b.WriteByte('\'')
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '…':
			b.WriteString("...")
		case r == '§':
			b.WriteString("section ")
		default:
			writeRune(&b, r)
		}
		i += n
	}
	return b.String()
}

// writeValue writes v, a value the description quoted, quotes and all
// written out.
func writeValue(b *strings.Builder, v string) {
	for _, r := range v {
		switch r {
		case '"', '\'':
			fmt.Fprintf(b, "U+%04X", r)
		default:
			writeRune(b, r)
		}
	}
}

// writeRune writes r, which is not '"' (ASCII and writeValue write that
// themselves), or its code point.
func writeRune(b *strings.Builder, r rune) {
	if r != '\\' && 0x20 <= r && r <= 0x7e {
		b.WriteByte(byte(r))
		return
	}
	// utf8.RuneError stands for a byte that is not UTF-8 as for U+FFFD.
	fmt.Fprintf(b, "U+%04X", r)
}

// MaxBytes bounds an error_description on the wire: room for a sentence
// and the values it quotes. A description only grows past it when it
// quotes a long value a client sent (a client_id URL).
const MaxBytes = 1024

// Wire is an error_description as the IdP sends it: in the RFC 6749
// section 5.2 set (ASCII), cut to MaxBytes (redact.TruncateTo, which also
// redacts what looks like a token). Escaped before the cut, which then
// bounds what the escapes add; again after it, for the cut's marker (an
// ellipsis, written out in as many bytes). The token endpoint's answers
// and explain's "client sees" (the CLI, the admin API, the console) are
// both made by it, so that they agree for any description.
func Wire(s string) string {
	if Valid(s) && len(s) <= MaxBytes {
		return s
	}
	return ASCII(redact.TruncateTo(ASCII(s), MaxBytes))
}

// Valid reports whether s is inside the RFC 6749 §5.2 set: the test of
// every description on the wire.
func Valid(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
