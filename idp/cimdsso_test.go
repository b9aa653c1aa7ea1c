package idp_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestCIMD_SingleSignOnAsksFirst: a metadata document client is registered
// nowhere, so any web site can be one (its own document, its own
// redirect_uri). With a live SSO session the IdP would hand such a client
// a code for the signed-in user without showing anything: the site would
// learn who the visitor is (ID token, userinfo) and act as them at
// /me/access-requests. The login page, which names the document's host
// ("Trust the address, not the name"), is shown instead, with a button to
// continue as the signed-in user; prompt=none gets interaction_required.
// A configured client still signs in at once.
func TestCIMD_SingleSignOnAsksFirst(t *testing.T) {
	f := startCIMD(t)
	br := newBrowser(f.testIdP)
	_, challenge := pkce()
	if res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw"); res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("signing alice in through mcp-client: %+v", res)
	}

	params := authParams(callback, challenge)
	params.Set("client_id", f.public)
	// A cross-site navigation, as another site's link or script makes it.
	resp, body, at := follow(t, br, f.URL+"/authorize?"+params.Encode(), http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if resp.StatusCode != http.StatusOK || at.Path != "/login" {
		t.Fatalf("the document client with a live session ended at %s: %d, want the login page with a question\n%s", at, resp.StatusCode, body)
	}
	host := strings.TrimPrefix(f.docs.URL, "http://")
	for _, want := range []string{`<strong id="client-host">` + host + `</strong>`, `Continue as <strong><bdi>alice</bdi></strong>`, `name="continue"`, `name="password"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	// The button is not focused when the page opens: a site that opens
	// the page in a window of its own and has the user press Enter or
	// Space (a game, a "press Enter to continue") would press it for them.
	// The username field has the focus, where a key press signs no one in.
	if i := strings.Index(body, `id="continue"`); i < 0 || strings.Contains(body[strings.LastIndex(body[:i], "<"):i+strings.Index(body[i:], ">")], "autofocus") {
		t.Errorf("the Continue button is missing or autofocused:\n%s", body)
	}
	if !strings.Contains(body, `autocomplete="username" value="" required autofocus>`) {
		t.Errorf("the username field is not focused:\n%s", body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("Cache-Control %q, X-Frame-Options %q", cc, resp.Header.Get("X-Frame-Options"))
	}
	id := at.Query().Get("authRequestID")

	// Another site cannot press the button for the user.
	cont := url.Values{"authRequestID": {id}, "continue": {"1"}}
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/login", strings.NewReader(cont.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := br.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site continue: %d, want 403", resp.StatusCode)
	}

	// The user presses it on the page.
	req, _ = http.NewRequest(http.MethodPost, f.URL+"/login", strings.NewReader(cont.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", "null")
	resp, err = br.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("continue as alice: %d, want 302 to the callback", resp.StatusCode)
	}
	next, _ := url.Parse(f.URL + "/login")
	next, _ = next.Parse(resp.Header.Get("Location"))
	resp, body, at = follow(t, br, next.String(), nil)
	if at.Host != "127.0.0.1" || at.Path != "/callback" || at.Query().Get("code") == "" {
		t.Fatalf("continue as alice ended at %s (%d), want the client's callback with a code\n%s", at, resp.StatusCode, body)
	}

	// Without a session the button is not offered, and pressing it signs no one in.
	stranger := newBrowser(f.testIdP)
	resp, body, at = follow(t, stranger, f.URL+"/authorize?"+params.Encode(), nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `name="continue"`) {
		t.Fatalf("without a session: %d\n%s", resp.StatusCode, body)
	}
	cont.Set("authRequestID", at.Query().Get("authRequestID"))
	req, _ = http.NewRequest(http.MethodPost, f.URL+"/login", strings.NewReader(cont.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = stranger.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" || !strings.Contains(string(b), `name="password"`) {
		t.Fatalf("continue without a session: %d Location %q, want 401 with the form\n%s", resp.StatusCode, resp.Header.Get("Location"), b)
	}

	// prompt=none cannot ask.
	params.Set("prompt", "none")
	wantRedirectError(t, br.authorize(t, params, "", ""), "interaction_required")

	// A configured client is still signed in at once.
	res := br.authorize(t, authParams(callback, challenge), "", "")
	if res.loginShown || res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("mcp-client with a live session: %+v, want a code at once", res)
	}
}

// follow requests target in br and follows the IdP's redirects (with
// header on each) until an answer that is not one, or one that leaves
// the IdP; it returns that answer, its body and its URL.
func follow(t *testing.T, br *browser, target string, header http.Header) (*http.Response, string, *url.URL) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := br.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode >= 400 || loc == "" {
			return resp, string(b), u
		}
		next, err := u.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		if next.Host != u.Host {
			return resp, string(b), next
		}
		u = next
	}
	t.Fatal("too many redirects")
	return nil, "", nil
}

// TestCIMD_ContinueIsForTheUserItNamed: the "Continue as alice" button
// signs in alice, the user it named, or no one. When the browser's
// session has become bob's meanwhile (bob signed in in another tab),
// pressing it does not hand the document client bob's identity, which bob
// never agreed to: the page asks again, naming bob.
func TestCIMD_ContinueIsForTheUserItNamed(t *testing.T) {
	f := startCIMD(t)
	br := newBrowser(f.testIdP)
	_, challenge := pkce()
	if res := br.authorize(t, authParams(callback, challenge), "alice", "alice-pw"); res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("signing alice in through mcp-client: %+v", res)
	}
	params := authParams(callback, challenge)
	params.Set("client_id", f.public)
	resp, body, at := follow(t, br, f.URL+"/authorize?"+params.Encode(), nil)
	if resp.StatusCode != http.StatusOK || at.Path != "/login" || !strings.Contains(body, "Continue as <strong><bdi>alice</bdi></strong>") {
		t.Fatalf("the document client with alice's session: %d at %s\n%s", resp.StatusCode, at, body)
	}
	// The form the button posts, as the page has it.
	end := strings.Index(body, "</form>")
	form := url.Values{}
	for _, m := range regexp.MustCompile(`name="([a-zA-Z_]+)" value="([^"]*)"`).FindAllStringSubmatch(body[:end], -1) {
		form.Set(m[1], m[2])
	}
	if form.Get("continue") == "" || form.Get("authRequestID") == "" {
		t.Fatalf("no continue form on the page:\n%s", body)
	}

	// Another tab: bob signs in, and the session is his.
	relogin := authParams(callback, challenge)
	relogin.Set("prompt", "login")
	if res := br.authorize(t, relogin, "bob", "bob-pw"); res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("signing bob in through mcp-client: %+v", res)
	}

	resp, b := pressLogin(t, f, br, form)
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("Location") != "" || !strings.Contains(b, "Continue as <strong><bdi>bob</bdi></strong>") {
		t.Fatalf("alice's button pressed with bob's session: %d Location %q, want 409 and the page asking for bob\n%s", resp.StatusCode, resp.Header.Get("Location"), b)
	}
	// The page now offers bob, and its button signs bob in.
	form.Set("continue_as", "bob")
	if resp, b := pressLogin(t, f, br, form); resp.StatusCode != http.StatusFound {
		t.Fatalf("bob's button: %d, want 302 to the callback\n%s", resp.StatusCode, b)
	}
}
