package httpjson_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/httpjson"
)

func TestWrite_NoStoreJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	httpjson.Write(rec, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d", rec.Code)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q (RFC 6749 §5.1)", k, got, want)
		}
	}
	if got := rec.Body.String(); got != `{"error":"invalid_request"}`+"\n" {
		t.Errorf("body %q", got)
	}
}

// TestWrite_SharedValuesStayPut checks that the header values Write shares
// between answers cannot be changed through one answer's header.
func TestWrite_SharedValuesStayPut(t *testing.T) {
	first := httptest.NewRecorder()
	httpjson.Write(first, http.StatusOK, "x")
	h := http.Header{}
	httpjson.Write(&headerOnly{h}, http.StatusOK, "x")
	h.Add("Cache-Control", "private")
	h.Add("Content-Type", "text/plain")
	h.Add("Pragma", "x")
	second := httptest.NewRecorder()
	httpjson.Write(second, http.StatusOK, "x")
	for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"} {
		if got := second.Header().Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q after another answer's Add, want %q", k, got, want)
		}
	}
	if got := httpjson.ContentType(); len(got) != 1 || got[0] != "application/json" || cap(got) != 1 {
		t.Errorf("ContentType() = %q (cap %d)", got, cap(got))
	}
}

type headerOnly struct{ h http.Header }

func (w *headerOnly) Header() http.Header         { return w.h }
func (w *headerOnly) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerOnly) WriteHeader(int)             {}
