package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestAdminAPI_BusyPasswordQueueAnswers503: the queue of bcrypt checks had
// no bound, so HTTP Basic requests under a flood waited until their client
// gave up. Beyond the bound the admin API now answers at once, its JSON
// error 503 temporarily_unavailable with Retry-After (SCIM: a SCIM error),
// alike for the admin and an unknown username; a SCIM password that cannot
// be hashed for the same reason is 503 with Retry-After too.
func TestAdminAPI_BusyPasswordQueueAnswers503(t *testing.T) {
	base := serveOneAdmin(t)
	get := func(path, user string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.SetBasicAuth(user, "right-pw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return &http.Response{}, nil
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	if resp, _ := get("/admin/api/status", "warm-up"); resp.StatusCode != http.StatusUnauthorized { // makes the unknown users' hash
		t.Fatalf("warm-up: %d", resp.StatusCode)
	}

	const bound, calls = 1, 6
	defer policy.LimitBcryptQueue(bound, time.Minute)()
	held := holdBcrypt(t)
	type answer struct {
		status int
		retry  string
		body   []byte
	}
	answers := make(chan answer, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			resp, b := get("/admin/api/status", []string{"admin", "nobody"}[i%2])
			answers <- answer{resp.StatusCode, resp.Header.Get("Retry-After"), b}
		})
	}
	for range calls - bound {
		select {
		case a := <-answers:
			var e struct{ Error string }
			if a.status != http.StatusServiceUnavailable || a.retry == "" || json.Unmarshal(a.body, &e) != nil || e.Error != "temporarily_unavailable" {
				t.Errorf("a request beyond the queue's bound: %d Retry-After %q %s; want 503 temporarily_unavailable with Retry-After", a.status, a.retry, a.body)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("after 30 s the requests beyond the queue's bound are still waiting")
		}
	}
	for _, give := range held {
		give()
	}
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.status != http.StatusOK && a.status != http.StatusUnauthorized {
			t.Errorf("the request that found room in the queue: %d %s", a.status, a.body)
		}
	}

	// SCIM, by HTTP Basic: its own error form.
	defer policy.LimitBcryptQueue(0, time.Minute)()
	holdBcrypt(t)
	resp, b := get(scimBase+"/Users", "admin")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Errorf("SCIM while the queue is full: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}

// TestSCIM_BusyHashAnswers503RetryAfter: a SCIM password is hashed in the
// same bounded queue; when it has no room, the write is 503 with
// Retry-After, and nothing is changed.
func TestSCIM_BusyHashAnswers503RetryAfter(t *testing.T) {
	p := editableYAML(t, scimTokens())
	defer policy.LimitBcryptQueue(0, time.Minute)()
	holdBcrypt(t)
	req, _ := http.NewRequest(http.MethodPost, p.base+scimBase+"/Users", strings.NewReader(`{"userName":"frank","password":"frank-pw-2026"}`))
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Authorization", "Bearer "+oktaToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a SCIM password while the queue is full: %d Retry-After %q %s; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}
