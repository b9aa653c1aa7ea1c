package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/xaa-idp/xaa-idp/internal/strictjson"
	"github.com/xaa-idp/xaa-idp/policy"
)

// maxBody bounds an admin API body: 1 MiB holds a configuration of
// thousands of users; more is refused with 413 before it is parsed.
const maxBody = 1 << 20

// readBody reads a change's JSON body and checks its shape before anything
// is decoded: at most maxBody bytes (else 413), JSON (else 415), exactly
// one value, no null anywhere (the body, a list element or a member's
// value), no key twice in any object. It answers the error itself and
// reports false.
//
// encoding/json alone would take a null body as "empty" and wipe what it
// replaces, would take a null member as absent (so {"name": null} would
// replace a user with one without groups or admin), and would let the last
// of two equal keys win silently; a change must say exactly what it means
// (docs/http.md, "Changing the configuration"). The API's own
// answers hold no null, so what a GET answered can be sent back.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, f := checkedBody(w, r, limit, strictjson.Options{})
	if f != nil {
		writeAPIError(w, f.status, f.code, f.desc)
		return nil, false
	}
	return body, true
}

// checkedBody is readBody's reading and checks, with o's null members,
// returning why the body is refused instead of answering it.
func checkedBody(w http.ResponseWriter, r *http.Request, limit int64, o strictjson.Options) ([]byte, *editRefusal) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return nil, &editRefusal{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", desc: "send the body as application/json"}
		}
	}
	body, err := readLimited(w, r, limit)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &editRefusal{status: http.StatusRequestEntityTooLarge, code: "request_too_large",
			desc: fmt.Sprintf("the body is larger than %d bytes; send a smaller change", limit)}
	case err != nil:
		return nil, &editRefusal{status: http.StatusBadRequest, code: "invalid_request", desc: "the body could not be read: " + err.Error()}
	}
	if err := strictjson.Check(body, o); err != nil {
		desc := err.Error()
		if !strings.HasPrefix(desc, "the body ") { // "the body is not JSON: ...", said once
			desc = "the body is refused: " + desc
		}
		return nil, &editRefusal{status: http.StatusBadRequest, code: "invalid_request", desc: desc}
	}
	return body, nil
}

// readLimited reads r's body, of at most limit bytes (*http.MaxBytesError
// beyond). A Content-Length beyond it is refused before a byte is read: a
// client that sent Expect: 100-continue is told instead of being asked
// for the body (RFC 9110 section 10.1.1).
func readLimited(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// decodeStrict decodes a body that readBody accepted into v, refusing keys
// v does not have.
func decodeStrict(data []byte, v any) error {
	// Numbers as sent: a claim of 12345678901234567890 is written to the
	// file as that, not as the nearest float, 12345678901234567000.
	if err := strictjson.Decode(data, v, strictjson.Options{Numbers: true}); err != nil {
		return err
	}
	return zeroStepUp(data)
}

// zeroStepUp refuses a max_auth_age of 0 anywhere in a body, as the
// configuration file does (docs/configuration.md, "access[]"). Decoded, it
// is the zero Duration, which the file leaves out as "no step-up": the
// change would otherwise be made as the opposite of what was asked.
func zeroStepUp(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil // strictjson.Decode has accepted it; nothing to add
	}
	return findZeroStepUp(v, "")
}

func findZeroStepUp(v any, path string) error {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			// Decoding matches keys as strings.EqualFold does: Max_Auth_Age
			// is max_auth_age too.
			if s, ok := e.(string); ok && strings.EqualFold(k, "max_auth_age") {
				if d, err := policy.ParseDuration(s); err == nil && d == 0 {
					return fmt.Errorf("%s: 0 would require a login in this very instant; use a duration such as 15m, or leave the key out", strings.TrimPrefix(path+"."+k, "."))
				}
			}
			if err := findZeroStepUp(e, path+"."+k); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := findZeroStepUp(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}
