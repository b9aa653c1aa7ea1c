package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxBody bounds an admin API body: 1 MiB holds a configuration of
// thousands of users; more is refused with 413 before it is parsed.
const maxBody = 1 << 20

// maxDepth bounds how deeply a body's JSON nests: the configuration's
// deepest values (claims) are a few levels down.
const maxDepth = 64

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
	if err := checkJSON(body); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the body is refused: "+err.Error())
		return nil, false
	}
	return body, true
}

// checkJSON checks that data is one JSON value of the shape readBody
// accepts.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walk(dec, "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the body holds more than one JSON value")
	}
	return nil
}

// walk reads one value from dec; path names it in errors ("" is the body).
func walk(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("the body is not JSON: %w", err)
	}
	if depth > maxDepth {
		return fmt.Errorf("%s nests deeper than %d levels", where(path), maxDepth)
	}
	switch tok {
	case nil:
		if path == "" || strings.HasSuffix(path, "]") {
			return fmt.Errorf("%s is null; send the value itself (an empty list is [])", where(path))
		}
	case json.Delim('{'):
		// encoding/json matches keys to fields without regard to case,
		// so keys that differ only in case are the same key twice.
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return fmt.Errorf("the body is not JSON: %w", err)
			}
			key, _ := k.(string)
			folded := strings.ToLower(key)
			if seen[folded] {
				return fmt.Errorf("%s has the key %q twice; send each key once", where(path), key)
			}
			seen[folded] = true
			if err := walk(dec, path+"."+key, depth+1); err != nil {
				return err
			}
		}
		return closing(dec)
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walk(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return closing(dec)
	}
	return nil
}

func closing(dec *json.Decoder) error {
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("the body is not JSON: %w", err)
	}
	return nil
}

// where names a place in the body for an error.
func where(path string) string {
	if path == "" {
		return "the body"
	}
	return strings.TrimPrefix(path, ".")
}

// decodeStrict decodes a body that readBody accepted into v, refusing keys
// v does not have.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}
