package web_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// openTail opens a live tail in b and reads its first line; it returns the
// response (its body open when the status is 200) and a function that
// closes the tail.
func openTail(t *testing.T, p *product, b *browser) (*http.Response, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/admin/audit/stream", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	closeTail := func() { cancel(); resp.Body.Close() }
	t.Cleanup(closeTail)
	if resp.StatusCode == http.StatusOK {
		if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatalf("live tail: %v", err)
		}
	}
	return resp, closeTail
}

// wantRefused checks a refused live tail: status, and a Retry-After.
func wantRefused(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("live tail over the cap: %d, want %d", resp.StatusCode, status)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want seconds", resp.Header.Get("Retry-After"))
	}
}

// waitTail opens a live tail in b until one is let in: a closed tail frees
// its slot once the server sees its connection end.
func waitTail(t *testing.T, p *product, b *browser) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, closeTail := openTail(t, p, b)
		if resp.StatusCode == http.StatusOK {
			return
		}
		closeTail()
		if time.Now().After(deadline) {
			t.Fatalf("live tail after one closed: still %d", resp.StatusCode)
		}
	}
}

// TestAudit_LiveTailsPerSessionAreCapped: a console session holds at most
// 4 live tails at once; a fifth is 429 with Retry-After, until one ends.
// Another session is not held back by it.
func TestAudit_LiveTailsPerSessionAreCapped(t *testing.T) {
	p, b := signedIn(t)
	var closers []func()
	for range 4 {
		resp, closeTail := openTail(t, p, b)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("live tail within the cap: %d", resp.StatusCode)
		}
		closers = append(closers, closeTail)
	}
	resp, _ := openTail(t, p, b)
	wantRefused(t, resp, http.StatusTooManyRequests)

	other := p.browser(t)
	if resp, body := other.signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := openTail(t, p, other); resp.StatusCode != http.StatusOK {
		t.Fatalf("another session's live tail: %d", resp.StatusCode)
	}

	closers[0]()
	waitTail(t, p, b)
}

// TestAudit_LiveTailsAreCappedInAll: at most 64 live tails at once in all;
// one more, from any session, is 503 with Retry-After, until one ends.
func TestAudit_LiveTailsAreCappedInAll(t *testing.T) {
	p, first := signedIn(t)
	browsers := []*browser{first}
	for range 16 {
		b := p.browser(t)
		if resp, body := b.signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
		}
		browsers = append(browsers, b)
	}
	var closers []func()
	for _, b := range browsers[:16] {
		for range 4 {
			resp, closeTail := openTail(t, p, b)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("live tail %d: %d", len(closers)+1, resp.StatusCode)
			}
			closers = append(closers, closeTail)
		}
	}
	last := browsers[16]
	resp, _ := openTail(t, p, last)
	wantRefused(t, resp, http.StatusServiceUnavailable)
	closers[0]()
	waitTail(t, p, last)
}

// openTails signs user (whose password is the username) in at p in new
// browsers and opens n live tails there, 4 in each; it returns the
// functions that close them.
func openTails(t *testing.T, p *product, user string, n int) []func() {
	t.Helper()
	var closers []func()
	var b *browser
	for i := range n {
		if i%4 == 0 {
			b = signedInAt(t, p, user)
		}
		resp, closeTail := openTail(t, p, b)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("live tail %d at %s: %d", len(closers)+1, p.URL, resp.StatusCode)
		}
		closers = append(closers, closeTail)
	}
	return closers
}

// signedInAt signs user (whose password is the username) in at p in a
// new browser.
func signedInAt(t *testing.T, p *product, user string) *browser {
	t.Helper()
	b := p.browser(t)
	if resp, body := b.signIn(user, user); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in at %s: %d\n%s", p.URL, resp.StatusCode, body)
	}
	return b
}

// TestTenants_EachTenantKeepsItsShareOfTheLiveTails: with several
// tenants, the 64 live tails of the process are divided among them (here
// four: 16 each), so that however many the other tenants' admins open,
// each tenant's console opens its own: one more at acme, or at okta, is
// 429 with Retry-After, while c1's and anthropic-acme's consoles open
// theirs. Until 2026-12-06 each tenant might hold half: acme's and okta's
// admins took all 64, and every other tenant's tail was 503. With every
// share taken (all 64), one more is its tenant's 429, and a tail that ends
// frees its tenant's slot.
func TestTenants_EachTenantKeepsItsShareOfTheLiveTails(t *testing.T) {
	tenants := startTenants(t)
	acme, okta := tenants["acme"], tenants["okta"]
	closers := openTails(t, acme, "alice", 16)
	b := signedInAt(t, acme, "alice")
	resp, _ := openTail(t, acme, b)
	wantRefused(t, resp, http.StatusTooManyRequests)
	openTails(t, okta, "alice", 16)
	resp, _ = openTail(t, okta, signedInAt(t, okta, "alice"))
	wantRefused(t, resp, http.StatusTooManyRequests)
	openTails(t, tenants["c1"], "dana", 16)
	openTails(t, tenants["anthropic-acme"], "bob", 16)
	resp, _ = openTail(t, tenants["c1"], signedInAt(t, tenants["c1"], "dana"))
	wantRefused(t, resp, http.StatusTooManyRequests)
	closers[0]()
	waitTail(t, acme, b)
}
