package idp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/xaa-idp/xaa-idp/internal/errdesc"
	"github.com/xaa-idp/xaa-idp/internal/httpjson"
)

// wireDescription is an error_description as it goes on the wire: in
// the RFC 6749 section 5.2 set, cut to errdesc.MaxBytes (errdesc.Wire, as
// explain shows it). The audit and the log keep the description as
// written.
func wireDescription(s string) string { return errdesc.Wire(s) }

// wireErrorBody returns body with its error_description made a
// wireDescription, and whether that changed it: for the JSON errors op
// writes, whose descriptions may quote what the client sent (a
// client_id, through the storage's refusals).
func wireErrorBody(body []byte) ([]byte, bool) {
	if !bytes.Contains(body, []byte(`"error_description"`)) {
		return body, false
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return body, false
	}
	d, ok := m["error_description"].(string)
	if !ok {
		return body, false
	}
	wire := wireDescription(d)
	if wire == d && !httpjson.HTMLEscaped(body) {
		return body, false
	}
	m["error_description"] = wire
	b, err := httpjson.Marshal(m)
	if err != nil {
		return body, false
	}
	return b, true
}

// wireErrorLocation returns loc with the error_description of its query
// made a wireDescription: an authorization error redirect op wrote (RFC
// 6749 section 4.1.2.1).
func wireErrorLocation(loc string) string {
	i := strings.IndexByte(loc, '?')
	if i < 0 || !strings.Contains(loc[i:], "error_description=") {
		return loc
	}
	rawQuery, frag, hasFrag := strings.Cut(loc[i+1:], "#")
	var b strings.Builder
	b.WriteString(loc[:i+1])
	for n, p := range strings.Split(rawQuery, "&") {
		if n > 0 {
			b.WriteByte('&')
		}
		if v, ok := strings.CutPrefix(p, "error_description="); ok {
			if d, err := url.QueryUnescape(v); err == nil {
				p = "error_description=" + url.QueryEscape(wireDescription(d))
			}
		}
		b.WriteString(p)
	}
	if hasFrag {
		b.WriteString("#" + frag)
	}
	return b.String()
}

// opErrors is the writer op's handlers write to: a JSON error answer is
// held until finish, which writes it with a wireDescription, and an error
// redirect's Location gets one. Anything else passes as op writes it.
type opErrors struct {
	http.ResponseWriter
	status int
	held   *bytes.Buffer
}

func (w *opErrors) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	h := w.Header()
	if code >= http.StatusBadRequest && strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		w.held = new(bytes.Buffer)
		return
	}
	if loc := h.Get("Location"); loc != "" && code >= 300 && code < 400 {
		h.Set("Location", wireErrorLocation(loc))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *opErrors) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.held != nil {
		return w.held.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// finish writes a held error answer.
func (w *opErrors) finish() {
	if w.held == nil {
		return
	}
	body, changed := wireErrorBody(w.held.Bytes())
	if changed {
		w.Header().Del("Content-Length")
		w.Header()["Content-Type"] = httpjson.ContentType()
	}
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(body)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *opErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveOP lets op answer r, its error descriptions on the wire in the RFC
// 6749 section 5.2 set.
func (s *Server) serveOP(w http.ResponseWriter, r *http.Request) {
	ow := &opErrors{ResponseWriter: w}
	s.provider.ServeHTTP(ow, r)
	ow.finish()
}
