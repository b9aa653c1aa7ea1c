// Package httpjson writes the JSON answers every endpoint of the product
// gives, with the no-store headers token responses need.
package httpjson

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
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
	_ = NewEncoder(w).Encode(v)
}

// NewEncoder is a json.Encoder for an answer: without encoding/json's HTML
// escaping, so that "&", "<" and ">" in a description reach curl and jq as
// they are, not as \u0026, \u003c and \u003e. No answer is read as HTML
// (Content-Type application/json; every answer has X-Content-Type-Options:
// nosniff).
func NewEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// Marshal is json.Marshal as NewEncoder writes it (with its newline).
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	err := NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}

// HTMLEscaped reports whether b, JSON encoding/json wrote, holds its HTML
// escapes: a body to write again with Marshal.
func HTMLEscaped(b []byte) bool {
	return bytes.Contains(b, []byte(`\u0026`)) || bytes.Contains(b, []byte(`\u003c`)) || bytes.Contains(b, []byte(`\u003e`))
}

// ContentType is the Content-Type of the answers Write writes, as a header
// value slice to share (capacity one).
func ContentType() []string { return contentType[:1:1] }
