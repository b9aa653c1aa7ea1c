// Package bodyheader checks the headers that say how to read a request's
// body. Every endpoint of the product reads its body as plain bytes of
// the one media type its Content-Type names; a body it would read
// otherwise than the client meant is refused as what it is, rather than
// for what the misread body then lacks.
package bodyheader

import (
	"mime"
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

// Refusal says why a body with headers h cannot be read as sent, "" when it
// can: two Content-Type headers, or a content coding (coding set; the
// answer ought to be 415 where the protocol allows, and carries
// Accept-Encoding: identity, which Refusal sets on w). The endpoints that
// answer in JSON give this text; the HTML pages say it in their own words.
func Refusal(w http.ResponseWriter, h http.Header) (msg string, coding bool) {
	if TwoTypes(h) {
		return "the request has more than one Content-Type header; send one", false
	}
	if c := Coding(h); c != "" {
		AcceptIdentity(w)
		return "Content-Encoding " + c + " is not supported; send the body uncompressed", true
	}
	return "", false
}

// AcceptIdentity sets the header an answer refusing a content coding
// ought to carry (RFC 9110 section 15.5.16): Accept-Encoding: identity,
// no coding but none.
func AcceptIdentity(w http.ResponseWriter) { w.Header().Set("Accept-Encoding", "identity") }

// ReadsForm reports whether r.ParseForm reads r's body: a POST, PUT or
// PATCH whose Content-Type is application/x-www-form-urlencoded as
// ParseForm reads it (the media type, whatever its case, even when a
// parameter after it cannot be parsed). An endpoint that bounds the form
// refuses a Content-Length over the bound before a byte is read, so that
// a client that sent Expect: 100-continue is told instead of being asked
// for the body (RFC 9110 section 10.1.1).
func ReadsForm(r *http.Request) bool {
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return false
	}
	// ParseForm keeps the media type mime returns with
	// ErrInvalidMediaParameter.
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

// FormRefusal is the description of a query or form that r.ParseForm
// could not parse (err, other than a body over its limit), as the IdP and
// the demo authorization servers say it. A Content-Type header that is no
// media type is named as such: Go's mime package says "mime: no media
// type" or "mime: invalid media parameter" (its errors have no type but
// that prefix), which read as if the form's encoding were wrong.
func FormRefusal(err error) string {
	if why, ok := strings.CutPrefix(err.Error(), "mime: "); ok {
		return "the Content-Type header cannot be read as a media type (" + why + ", RFC 9110 section 8.3.1); send Content-Type: application/x-www-form-urlencoded"
	}
	return "the query or form cannot be parsed: " + err.Error() + "; encode it as application/x-www-form-urlencoded (percent-encoding, & between parameters)"
}
