// Package errdesc makes an OAuth error_description fit RFC 6749 §5.2,
// which limits it to printable ASCII (%x20-21 / %x23-5B / %x5D-7E), for
// the IdP and the demo authorization servers alike.
package errdesc

import "fmt"

// ASCII escapes, as \uXXXX (\UXXXXXXXX beyond the BMP; a byte that is not
// UTF-8 as \ufffd), every character of s outside printable ASCII.
// Descriptions quote what the client sent, which %q leaves as it is when
// printable: a bidi override would reorder the text where a client logs
// it, and a Cyrillic а or a fullwidth ａ would look like the value the
// server knows, hiding why it was refused. The servers' own text is ASCII
// but for the § of citations and the ellipsis of a cut or a redaction
// (audit.TruncateTo, redact.Tokens), which are written out ("section ",
// "...").
func ASCII(s string) string {
	i := 0
	for i < len(s) && 0x20 <= s[i] && s[i] <= 0x7e {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s[:i])
	for _, r := range s[i:] {
		switch {
		case 0x20 <= r && r <= 0x7e:
			b = append(b, byte(r))
		case r == '…':
			b = append(b, "..."...)
		case r == '§':
			b = append(b, "section "...)
		case r > 0xffff:
			b = fmt.Appendf(b, `\U%08x`, r)
		default:
			b = fmt.Appendf(b, `\u%04x`, r)
		}
	}
	return string(b)
}
