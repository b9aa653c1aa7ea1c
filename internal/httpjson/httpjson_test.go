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
