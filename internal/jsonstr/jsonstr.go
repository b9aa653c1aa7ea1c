// Package jsonstr appends Go strings as JSON strings byte for byte as
// encoding/json writes them, for the documents built by hand on hot paths
// (the token endpoint's answer and ID-JAG claims, the audit log's lines),
// which must not differ from what encoding/json made.
package jsonstr

import "unicode/utf8"

// Append appends s as json.Marshal (and an Encoder by default) writes it:
// quote, backslash and control characters escaped (\b \f \n \r \t by name,
// the others \u00XX), the HTML characters <, > and & as \u003c, \u003e and
// \u0026, invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func Append(b []byte, s string) []byte { return appendString(b, s, &htmlSafe) }

// AppendNoHTML appends s as an Encoder with SetEscapeHTML(false) writes it:
// as Append, but <, > and & as they are.
func AppendNoHTML(b []byte, s string) []byte { return appendString(b, s, &plain) }

// plain and htmlSafe tell the bytes copied as they are: printable ASCII
// but for the quote and the backslash, and in htmlSafe not the HTML
// characters either. Tables, one load per byte: an ID-JAG, some 800
// characters, and every audit line go through them.
var plain, htmlSafe = func() (p, h [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		p[c] = c != '"' && c != '\\'
		h[c] = p[c] && c != '<' && c != '>' && c != '&'
	}
	return p, h
}()

func appendString(b []byte, s string, asIs *[256]bool) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if asIs[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
