// Package httpjson writes the JSON answers every endpoint of the product
// gives, with the no-store headers token responses need.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write writes v as JSON with the given status, never to be cached: RFC 6749
// §5.1 requires Cache-Control: no-store and Pragma: no-cache on token
// responses, and they are harmless on every other dynamic answer.
func Write(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
