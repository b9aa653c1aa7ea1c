package idp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAuthorize_CIMDFetchesAreBounded: every distinct client_id URL of a
// slow host opened a socket for up to the fetch timeout, with no bound: a
// flood of /authorize requests with made-up URLs took every descriptor
// the open-connection bound had left, and accept, the audit log and
// /healthz failed with "too many open files". Fetches in progress are now
// bounded; beyond the bound /authorize answers 503 temporarily_unavailable
// with Retry-After at once, and the refusal is not remembered as the
// URL's failure.
func TestAuthorize_CIMDFetchesAreBounded(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
		http.NotFound(w, r)
	}))
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(slow.Close)
	t.Cleanup(free)
	cfg, err := policy.Parse([]byte(fmt.Sprintf(`
cimd:
  allow: ["%s/*"]
users:
  - {username: alice, password: alice-pw}
`, slow.URL)), "cimd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startIdP(t, cfg)
	defer cimd.LimitFetches(2)()
	authorize := func(n int) (int, string, map[string]any) {
		q := url.Values{"client_id": {fmt.Sprintf("%s/c/%d", slow.URL, n)}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1/cb"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		resp, err := http.Get(p.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Error(err)
			return 0, "", nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), body
	}
	var wg sync.WaitGroup
	for n := range 2 {
		wg.Go(func() { authorize(n) })
	}
	for deadline := time.Now().Add(4 * time.Second); hits.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the slow host got %d fetches, want 2", hits.Load())
		}
	}
	status, retry, body := authorize(2)
	if status != http.StatusServiceUnavailable || retry == "" || body["error"] != "temporarily_unavailable" {
		t.Errorf("a third URL while two fetches are in progress (the bound): %d Retry-After %q %v; want 503 temporarily_unavailable with Retry-After", status, retry, body)
	}
	if got := hits.Load(); got != 2 {
		t.Errorf("the slow host got %d fetches, want the bound, 2", got)
	}
	free()
	wg.Wait()
	if status, _, body := authorize(2); status != http.StatusBadRequest || body["error"] != "invalid_client" || hits.Load() != 3 {
		t.Errorf("the third URL once fetches are free: %d %v after %d fetches; want it fetched (404: invalid_client)", status, body, hits.Load())
	}
}
