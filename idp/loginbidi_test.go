package idp_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestLogin_ErrorNamesAreBidiIsolated: the login page's message can quote
// a username the client sent (continue_as, which any site can set); a
// bidi override in it reorders only that name, in its own <bdi>, never
// the sentence around it, as the rest of the page's user text
// (TestApps_ServerNamesAreBidiIsolated).
func TestLogin_ErrorNamesAreBidiIsolated(t *testing.T) {
	f := startCIMD(t)
	br := newBrowser(f.testIdP)
	_, challenge := pkce()
	if res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw"); res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("signing alice in through mcp-client: %+v", res)
	}
	params := authParams(callback, challenge)
	params.Set("client_id", f.public)
	resp, body, at := follow(t, br, f.URL+"/authorize?"+params.Encode(), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="continue"`) {
		t.Fatalf("the document client with a live session: %d\n%s", resp.StatusCode, body)
	}
	form := url.Values{"authRequestID": {at.Query().Get("authRequestID")}, "continue": {"1"}, "continue_as": {"bob\u202e.won ni dengis"}}
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := br.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	all := strings.Count(page, "\u202e")
	isolated := len(regexp.MustCompile("<bdi>[^<]*\u202e[^<]*</bdi>").FindAllString(page, -1))
	if resp.StatusCode != http.StatusConflict || all != 1 || isolated != all {
		t.Errorf("%d, %d of the %d names holding U+202E are alone in a <bdi>:\n%s", resp.StatusCode, isolated, all, page)
	}
	if want := "You are now signed in as <bdi>alice</bdi>, not <bdi>bob\u202e.won ni dengis</bdi>. Continue as <bdi>alice</bdi>, or sign in as someone else."; !strings.Contains(page, want) {
		t.Errorf("the message is not\n%s\nin:\n%s", want, page)
	}
}

// TestLogin_ContinueAsNameIsBidiIsolated: the "Continue as" button names
// the signed-in user, a name an admin or a provisioning client chose
// (right-to-left letters included); it is in a <bdi>, as that name is in
// the page's message and on /apps, so that it cannot reorder the words
// around it.
func TestLogin_ContinueAsNameIsBidiIsolated(t *testing.T) {
	f := startCIMD(t)
	br := newBrowser(f.testIdP)
	_, challenge := pkce()
	if res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw"); res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("signing alice in through mcp-client: %+v", res)
	}
	params := authParams(callback, challenge)
	params.Set("client_id", f.public)
	resp, body, _ := follow(t, br, f.URL+"/authorize?"+params.Encode(), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="continue"`) {
		t.Fatalf("the document client with a live session: %d\n%s", resp.StatusCode, body)
	}
	if want := "Continue as <strong><bdi>alice</bdi></strong>"; !strings.Contains(body, want) {
		t.Errorf("the page does not hold %q:\n%s", want, body)
	}
}
