package idp_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCIMD_ContinueAsIsBounded: the "Continue as" button's continue_as is
// a username, sent back by the client; one that names another user than
// the session's is answered 409 with the page. A value longer than any
// username (MaxUsernameBytes) is not echoed into that page, as a too-long
// username is not.
func TestCIMD_ContinueAsIsBounded(t *testing.T) {
	f := startCIMD(t)
	br := newBrowser(f.testIdP)
	_, at := continuePage(t, f, br)
	long := strings.Repeat("m", 6000)
	for _, c := range []struct {
		as, want string
	}{
		{"bob", "not <bdi>bob</bdi>."},
		{long, "You are now signed in as <bdi>alice</bdi>"},
	} {
		resp, b := continueAs(t, f, br, at, c.as)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(b, c.want) {
			t.Errorf("continue_as of %d bytes: %d, want 409 saying %q\n%.600s", len(c.as), resp.StatusCode, c.want, b)
		}
		if len(c.as) > 256 && strings.Contains(b, c.as[:300]) {
			t.Errorf("continue_as of %d bytes was echoed into the page", len(c.as))
		}
	}
}

// continuePage signs alice in with br through mcp-client, then opens the
// document client's authorization: the login page that asks whether to
// continue as alice. It returns that page and its URL.
func continuePage(t *testing.T, f *cimdFixture, br *browser) (body string, at *url.URL) {
	t.Helper()
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
	return body, at
}

// continueAs presses continuePage's button (at is its URL) with
// continue_as set to as, and returns the answer and its body.
func continueAs(t *testing.T, f *cimdFixture, br *browser, at *url.URL, as string) (*http.Response, string) {
	t.Helper()
	form := url.Values{"authRequestID": {at.Query().Get("authRequestID")}, "continue": {"1"}, "continue_as": {as}}
	return pressLogin(t, f, br, form)
}

// pressLogin posts form to the login page as the page's own button does
// (same-origin), and returns the answer and its body.
func pressLogin(t *testing.T, f *cimdFixture, br *browser, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := br.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}
