package idp_test

import (
	"encoding/json"
	"net"
	"net/http"
	"testing"
)

// fromAddress is a browser whose connections leave from the loopback
// address ip (127.0.0.2 is loopback too on Linux), so that the IdP sees
// another client address.
func fromAddress(p *testIdP, ip string) *browser {
	br := newBrowser(p)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	br.hc.Transport = &http.Transport{DialContext: d.DialContext}
	return br
}

// TestAuthorize_PendingLoginsShared: one client address cannot take every
// pending-login slot. Once half the store holds pending logins, an address
// holding its share (1% of security.max_pending_logins, at least 10) gets
// 503 with Retry-After, and that address alone: a browser at another
// address still starts its sign-in and completes it, and a login the
// flooding address was already shown its form still completes.
func TestAuthorize_PendingLoginsShared(t *testing.T) {
	cfg := conformanceConfig(t)
	cfg.Security.MaxPendingLogins = 200
	p := startIdP(t, cfg)
	attacker := fromAddress(p, "127.0.0.1")
	shown, shownVerifier := attacker.pendingLogin(t)
	if resp, err := attacker.hc.Get(p.URL + "/login?authRequestID=" + shown); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login form: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	_, challenge := pkce()
	flood := 1
	for ; ; flood++ {
		resp, err := attacker.hc.Get(p.URL + "/authorize?" + authParams(callback, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound {
			if flood > cfg.Security.MaxPendingLogins {
				t.Fatalf("%d pending logins stored, over security.max_pending_logins %d", flood, cfg.Security.MaxPendingLogins)
			}
			continue
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || body["error"] != "temporarily_unavailable" {
			t.Fatalf("flood request %d: %d Retry-After %q %v, want 503 temporarily_unavailable with Retry-After", flood+1, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		break
	}
	if flood != cfg.Security.MaxPendingLogins/2 {
		t.Errorf("the flooding address was refused after %d pending logins, want %d (half the store)", flood, cfg.Security.MaxPendingLogins/2)
	}

	user := fromAddress(p, "127.0.0.2")
	res := user.authorize(t, authParams(callback, challenge), "alice", "alice-pw")
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("a sign-in from another address during the flood: %d Location %v, want the code", res.status, res.location)
	}
	// The other address has its own share of the half left; its sign-in
	// above, whose code was not redeemed, holds one of it.
	for i := range 20 {
		resp, err := user.hc.Get(p.URL + "/authorize?" + authParams(callback, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusFound
		if i >= 9 {
			want = http.StatusServiceUnavailable
		}
		if resp.StatusCode != want {
			t.Fatalf("request %d from the second address: %d, want %d (its share is 10)", i+1, resp.StatusCode, want)
		}
	}

	resp, _ := attacker.postLogin(t, loginForm(shown, "alice", "alice-pw"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("the login shown its form: %d, want 302", resp.StatusCode)
	}
	attacker.redeemAfterLogin(t, resp, shownVerifier)
}
