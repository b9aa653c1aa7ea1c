package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServe_StopsAtOnceWithALiveTailOpen: a console's audit live tail (an
// event stream that never ends by itself) is open when serve is stopped
// (Ctrl-C, SIGTERM). The stream ends as the server begins to shut down,
// so the process stops at once, not after the shutdown's 5 s deadline,
// during which a restart on the same state directory is refused as "in
// use by another xaa-idp process".
func TestServe_StopsAtOnceWithALiveTailOpen(t *testing.T) {
	issuer, stop := serveWithLogs(t)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Get(issuer + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("the console did not lead to the login page (%s)", resp.Request.URL)
	}
	resp, err = hc.PostForm(issuer+"/login", url.Values{"authRequestID": {string(m[1])}, "username": {"alice"}, "password": {"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/admin/" {
		t.Fatalf("signing in led to %s", resp.Request.URL)
	}
	resp, err = hc.Get(issuer + "/admin/audit/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("the live tail answered %d %s", resp.StatusCode, ct)
	}
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("the live tail began %q, %v", line, err)
	}
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, br)
		close(ended)
	}()
	logs := stop()
	// A stop that waited for the tail would have waited out its deadline,
	// and said so.
	if strings.Contains(logs, shutdownCutOff) {
		t.Errorf("serve waited for the live tail to stop:\n%s", logs)
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Error("the live tail did not end with the server")
	}
}
