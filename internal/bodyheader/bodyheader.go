// Package bodyheader checks the headers that say how to read a request's
// body. Every endpoint of the product reads its body as plain bytes of
// the one media type its Content-Type names; a body it would read
// otherwise than the client meant is refused as what it is, rather than
// for what the misread body then lacks.
package bodyheader

import (
	"net/http"
	"strings"
)

// Coding returns the first content coding of h's Content-Encoding headers
// other than identity (RFC 9110 section 8.4.1), "" when there is none:
// the body is then as sent. The product decodes no coding, so a body with
// one cannot be read. The name is the client's, and goes into refusals
// and the audit: one longer than maxCoding bytes is cut there, with "…".
func Coding(h http.Header) string {
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				if len(c) > maxCoding {
					c = strings.ToValidUTF8(c[:maxCoding], "") + "…"
				}
				return c
			}
		}
	}
	return ""
}

// maxCoding is the longest coding name Coding returns whole; the codings
// registered with IANA are at most 12 bytes.
const maxCoding = 32

// TwoTypes reports whether h has more than one Content-Type header. Go's
// readers (Header.Get, Request.ParseForm) take the first and ignore the
// others, so the body would be read as one of two things it says it is.
func TwoTypes(h http.Header) bool { return len(h.Values("Content-Type")) > 1 }

// AcceptIdentity sets the header an answer refusing a content coding
// ought to carry (RFC 9110 section 15.5.16): Accept-Encoding: identity,
// no coding but none.
func AcceptIdentity(w http.ResponseWriter) { w.Header().Set("Accept-Encoding", "identity") }
