package idp_test

import (
	"net/http"
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
	_, at := continuePage(t, f, br)
	resp, page := continueAs(t, f, br, at, "bob\u202e.won ni dengis")
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
	body, _ := continuePage(t, f, br)
	if want := "Continue as <strong><bdi>alice</bdi></strong>"; !strings.Contains(body, want) {
		t.Errorf("the page does not hold %q:\n%s", want, body)
	}
}
