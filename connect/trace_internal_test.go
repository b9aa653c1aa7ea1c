package connect

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTrace_ALargeJSONAnswerReachesTheCallerWhole(t *testing.T) {
	big := `{"result":"` + strings.Repeat("x", 3<<20) + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, big)
	}))
	t.Cleanup(srv.Close)
	var steps []Step
	hc := traced(srv.Client(), func(s Step) { steps = append(steps, s) }, srv.URL, "")
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || len(v["result"]) != 3<<20 {
		t.Errorf("with --verbose the caller got a cut answer: %d bytes, %v", len(v["result"]), err)
	}
	if len(steps) != 1 {
		t.Errorf("steps %v", steps)
	}
}
