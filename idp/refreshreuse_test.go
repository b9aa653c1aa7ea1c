package idp_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestRefreshReuse_RevokesTheFamily: a refresh token is rotated at each
// use, and presenting one already rotated away is the sign that it leaked
// (the legitimate client and an attacker both hold it): the IdP cannot
// tell which of them presents it, so it refuses it and revokes the tokens
// that descend from the same login, the live refresh token and its access
// tokens included (RFC 9700 section 4.14.2, OAuth 2.1 section 4.3.1).
// Another login's tokens are left alone.
func TestRefreshReuse_RevokesTheFamily(t *testing.T) {
	f := &fixture{testIdP: startConformanceIdP(t)}
	refresh := func(rt string) (*http.Response, map[string]any) {
		return f.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
	}
	userinfo := func(at string) int {
		req, _ := http.NewRequest(http.MethodGet, f.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	tok := newBrowser(f.testIdP).codeTokens(t)
	other := newBrowser(f.testIdP).codeTokens(t)
	rt1 := tok["refresh_token"].(string)
	resp, body := refresh(rt1)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first refresh: %d %v", resp.StatusCode, body)
	}
	rt2, at2 := body["refresh_token"].(string), body["access_token"].(string)

	resp, body = refresh(rt1)
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp, body = refresh(rt2)
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	if got := userinfo(at2); got != http.StatusUnauthorized {
		t.Errorf("userinfo with the rotated grant's access token: %d, want 401", got)
	}
	f.expectRefusal(t, refusal{form: b(rt2, set("subject_token_type", typeRefreshToken)), code: "invalid_grant", outcome: audit.Error})
	// The grants' events: the userinfo refusal is one of its own.
	evs := slices.DeleteFunc(f.Audit.Query(audit.Filter{Type: audit.TypeToken, Outcome: audit.Error}), func(ev audit.Event) bool { return ev.GrantType == "" })
	if len(evs) < 2 || !strings.Contains(evs[1].Reason, "reused") {
		t.Errorf("token error events %+v, want the reuse with its reason", evs)
	}

	if resp, body := refresh(other["refresh_token"].(string)); resp.StatusCode != http.StatusOK {
		t.Errorf("another login's refresh token: %d %v, want 200", resp.StatusCode, body)
	}
}

// TestRefreshReuse_ConcurrentRotationIssuesOnce: a refresh token presented
// by several requests at once is rotated by one of them at most; the
// others are reuses (TestRefreshReuse_RevokesTheFamily).
func TestRefreshReuse_ConcurrentRotationIssuesOnce(t *testing.T) {
	p := startConformanceIdP(t)
	for range 5 {
		rt := newBrowser(p).codeTokens(t)["refresh_token"].(string)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var issued []string
		for range 8 {
			wg.Go(func() {
				resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					issued = append(issued, body["refresh_token"].(string))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(issued) > 1 {
			t.Fatalf("%d refreshes of one refresh token succeeded, want at most 1", len(issued))
		}
		for _, rt := range issued {
			resp, body := p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicS1)
			checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
		}
	}
}
