package admin

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/xaa-idp/xaa-idp/internal/strictjson"
)

// maxBody bounds an admin API body: 1 MiB holds a configuration of
// thousands of users; more is refused with 413 before it is parsed.
const maxBody = 1 << 20

// readBody reads a change's JSON body and checks its shape before anything
// is decoded: at most maxBody bytes (else 413), JSON (else 415), exactly
// one value, not null, no key twice in any object, and null only as an
// object member's value (where it means "absent", as the API's own answers
// use it). It answers the error itself and reports false.
//
// encoding/json alone would take a null body as "empty" and wipe what it
// replaces, and would let the last of two equal keys win silently; a
// change must say exactly what it means (docs/http.md, "Changing the
// configuration").
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			writeAPIError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
			return nil, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeAPIError(w, http.StatusRequestEntityTooLarge, "request_too_large",
			fmt.Sprintf("the body is larger than %d bytes; send a smaller change", limit))
		return nil, false
	case err != nil:
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the body could not be read: "+err.Error())
		return nil, false
	}
	if err := strictjson.Check(body, strictjson.Options{NullMembers: true}); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the body is refused: "+err.Error())
		return nil, false
	}
	return body, true
}

// decodeStrict decodes a body that readBody accepted into v, refusing keys
// v does not have.
func decodeStrict(data []byte, v any) error {
	return strictjson.Decode(data, v, strictjson.Options{NullMembers: true})
}
