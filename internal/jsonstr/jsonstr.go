// Package jsonstr appends Go strings as JSON strings byte for byte as
// encoding/json writes them, for the documents built by hand on hot paths
// (the token endpoint's answer and ID-JAG claims, the audit log's lines),
// which must not differ from what encoding/json made.
package jsonstr

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Append appends s as json.Marshal (and an Encoder by default) writes it:
// quote, backslash and control characters escaped (\b \f \n \r \t by name,
// the others \u00XX), the HTML characters <, > and & as \u003c, \u003e and
// \u0026, invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func Append(b []byte, s string) []byte { return appendString(b, s, &htmlSafe, false) }

// AppendNoHTML appends s as an Encoder with SetEscapeHTML(false) writes it:
// as Append, but <, > and & as they are.
func AppendNoHTML(b []byte, s string) []byte { return appendString(b, s, &plain, false) }

// AppendVisible appends s as AppendNoHTML does, but with every Invisible
// character escaped as \uXXXX (a pair of surrogate escapes beyond the
// BMP): for the lines a person reads in a terminal (the audit log, the
// JSON server log), where a raw U+202E would reorder what tail or grep
// shows and a U+200B hide a difference (Trojan Source, CVE-2021-42574).
// A JSON reader decodes the escapes to the same characters, so the string
// it reads is AppendNoHTML's.
func AppendVisible(b []byte, s string) []byte { return appendString(b, s, &plain, true) }

// Invisible reports whether r is a character AppendVisible escapes: a
// format character (Unicode category Cf: the bidi controls U+200E,
// U+200F, U+202A-U+202E, U+2066-U+2069 and U+061C, the zero-width
// U+200B-U+200D, U+2060-U+2064, U+FEFF, the soft hyphen, the tag
// characters, ...) or a C1 control (U+0080-U+009F), which some terminals
// take for the start of an escape sequence.
func Invisible(r rune) bool {
	if r < 0xAD {
		return 0x80 <= r && r <= 0x9F
	}
	return unicode.Is(unicode.Cf, r)
}

// EscapeInvisible returns the JSON document doc with every Invisible
// character it holds raw escaped as AppendVisible escapes it, for JSON
// that encoding/json or log/slog wrote. In JSON a character beyond ASCII
// can only stand inside a string, and never right after the backslash of
// an escape, so the result decodes to the same value. doc itself is
// returned when it holds none; bytes that are not UTF-8 are kept.
func EscapeInvisible(doc []byte) []byte {
	var out []byte
	start := 0
	for i := 0; i < len(doc); {
		if doc[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(doc[i:])
		if r != utf8.RuneError && Invisible(r) {
			if out == nil {
				out = make([]byte, 0, len(doc)+16)
			}
			out = append(out, doc[start:i]...)
			out = AppendEscape(out, r)
			start = i + size
		}
		i += size
	}
	if out == nil {
		return doc
	}
	return append(out, doc[start:]...)
}

// AppendEscape appends r as \uXXXX, or as two such escapes, of its UTF-16
// surrogates, beyond the BMP.
func AppendEscape(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	if r > 0xFFFF {
		r1, r2 := utf16.EncodeRune(r)
		return AppendEscape(AppendEscape(b, r1), r2)
	}
	return append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}

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

// appendString appends s as a JSON string; visible escapes the Invisible
// characters too. They are all beyond ASCII, so the ASCII path, the
// common one, is the same either way.
func appendString(b []byte, s string, asIs *[256]bool, visible bool) []byte {
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
		case visible && Invisible(r):
			b = append(b, s[start:i]...)
			b = AppendEscape(b, r)
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
