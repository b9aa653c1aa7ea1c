// Package httpjson writes the JSON answers every endpoint of the product
// gives, with the no-store headers token responses need.
package httpjson

import (
	"encoding/json"
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
	_ = json.NewEncoder(w).Encode(v)
}

// ContentType is the Content-Type of the answers Write writes, as a header
// value slice to share (capacity one).
func ContentType() []string { return contentType[:1:1] }
