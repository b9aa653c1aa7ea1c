package cors_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/cors"
)

func TestPublic(t *testing.T) {
	called := 0
	h := cors.Public(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called++
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
	}), "GET, POST", []string{"DPoP"}, []string{"Mcp-Session-Id"})

	pre := httptest.NewRequest(http.MethodOptions, "/token", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, pre)
	if rec.Code != http.StatusNoContent || called != 0 || rec.Header().Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "DPoP") {
		t.Errorf("preflight: %d %v (handler called %d times)", rec.Code, rec.Header(), called)
	}
	if rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials must never be allowed")
	}

	req := httptest.NewRequest(http.MethodPost, "/token", nil)
	req.Header.Set("Origin", "https://app.example")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if called != 1 || rec.Header().Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(rec.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Errorf("request: %v", rec.Header())
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/token", nil))
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("a request without Origin needs no CORS headers")
	}
}
