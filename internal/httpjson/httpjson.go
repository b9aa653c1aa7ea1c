// Package httpjson writes the JSON answers every endpoint of the product
// gives, with the no-store headers token responses need.
package httpjson

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"
)

// The values of the headers Write sets, shared by every answer rather than
// made per answer as Header.Set does. Each has capacity one, so that an
// Add to the header appends to a copy, never to the shared array.
var (
	contentType = []string{"application/json"}
	noStore     = []string{"no-store"}
	noCache     = []string{"no-cache"}
)

// Write writes v as JSON with the given status, never to be cached: RFC 6749
// §5.1 requires Cache-Control: no-store and Pragma: no-cache on token
// responses, and they are harmless on every other dynamic answer.
func Write(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = contentType[:1:1]
	h["Cache-Control"] = noStore[:1:1]
	h["Pragma"] = noCache[:1:1]
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ContentType is the Content-Type of the answers Write writes, as a header
// value slice to share (capacity one).
func ContentType() []string { return contentType[:1:1] }

// plain are the bytes AppendString copies as they are: printable ASCII
// but for the quote, the backslash and the HTML characters. A table: an
// ID-JAG, some 800 characters, goes through it on every token exchange.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendString appends s as a JSON string, byte for byte as encoding/json
// writes a string (json.Marshal, Encoder by default): quote, backslash and
// control characters escaped (\b \f \n \r \t by name, the others \u00XX),
// the HTML characters <, > and & as \u003c, \u003e and \u0026, invalid
// UTF-8 as \ufffd, and U+2028 and U+2029 escaped. For the documents built
// by hand on hot paths, which must not differ from what encoding/json made.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
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
