package idp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/internal/browsertest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// chromium starts the real browser for one test (internal/browsertest).
func chromium(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return browsertest.Chromium(t, extra...)
}

// TestBrowser_CIMDContinueIgnoresAnEarlyClick: the "Continue as" button a
// metadata document client's login page offers the signed-in user takes
// no click in its first moments, so that a site cannot have the user's
// double click land on it ("double-clickjacking": the first click opens a
// window and navigates the one below to this page, the second presses
// what is there). A click right after the page loads submits nothing; one
// a second later continues. The page's CSP allows no script: the delay
// is CSS alone.
func TestBrowser_CIMDContinueIgnoresAnEarlyClick(t *testing.T) {
	f := startCIMD(t)
	var codes atomic.Int32
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("code") != "" {
			codes.Add(1)
		}
		_, _ = w.Write([]byte("<!doctype html><title>callback</title><p id=cb>back at the client</p>"))
	}))
	t.Cleanup(cb.Close)
	callbackURL := cb.URL + "/callback" // a loopback port: matches http://127.0.0.1/callback
	ctx := chromium(t)

	_, challenge := pkce()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(stepCtx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	do("signing alice in through a configured client",
		chromedp.Navigate(f.URL+"/authorize?"+authParams(callbackURL, challenge).Encode()),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "alice-pw"),
		chromedp.Click(chromedp.CSS(`input[name="password"] ~ button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("cb")),
	)
	if codes.Load() != 1 {
		t.Fatalf("%d codes after alice's sign-in, want 1", codes.Load())
	}

	params := authParams(callbackURL, challenge)
	params.Set("client_id", f.public)
	// The click must land within the button's first 0.8 s. The page cannot
	// have been shown before the navigation started, so a click done
	// within 0.6 s of that certainly did; on a machine too busy for that,
	// try again, and say so rather than pass or fail by chance.
	clickedEarly := false
	for try := 0; try < 5 && !clickedEarly; try++ {
		start := time.Now()
		do("opening the document client's login page, and clicking Continue at once",
			chromedp.Navigate(f.URL+"/authorize?"+params.Encode()),
			chromedp.Click(chromedp.ID("continue")),
		)
		clickedEarly = time.Since(start) < 600*time.Millisecond
	}
	if !clickedEarly {
		t.Skip("this machine took 0.6 s or more to open the page and click five times: the early click could not be tried")
	}
	// Past the button's first 0.8 s: a submitted form would have reached
	// the client by now.
	time.Sleep(1200 * time.Millisecond)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	loc, _, _ = strings.Cut(loc, "?") // a code is no test output
	if codes.Load() != 1 || !strings.Contains(loc, "/login") {
		t.Fatalf("a click right after the page loaded continued: %d codes, at %s", codes.Load(), loc)
	}

	do("clicking Continue once the page has been shown a while",
		chromedp.Click(chromedp.ID("continue")),
		chromedp.WaitVisible(chromedp.ID("cb")),
	)
	if codes.Load() != 2 {
		t.Errorf("%d codes after Continue, want 2", codes.Load())
	}
}

// TestBrowser_LoginFormSendsItsOrigin: the real browser posts the login
// page's form with the page's own origin, not "null" (which any site's
// sandboxed frame sends, and which the login refuses unless Fetch
// Metadata vouches for it): the page's Referrer-Policy is same-origin.
// A browser without Fetch Metadata has only this Origin to sign in with.
func TestBrowser_LoginFormSendsItsOrigin(t *testing.T) {
	p := startConformanceIdP(t)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<!doctype html><title>callback</title><p id=cb>back at the client</p>"))
	}))
	t.Cleanup(cb.Close)
	ctx := chromium(t)

	var mu sync.Mutex
	posts := map[network.RequestID]bool{}
	origins := map[network.RequestID]string{}
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if ev.Request.Method == http.MethodPost && strings.HasSuffix(strings.SplitN(ev.Request.URL, "?", 2)[0], "/login") {
				posts[ev.RequestID] = true
			}
		case *network.EventRequestWillBeSentExtraInfo:
			if o, ok := ev.Headers["Origin"].(string); ok {
				origins[ev.RequestID] = o
			} else if o, ok := ev.Headers["origin"].(string); ok {
				origins[ev.RequestID] = o
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	_, challenge := pkce()
	stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(stepCtx,
		chromedp.Navigate(p.URL+"/authorize?"+authParams(cb.URL+"/callback", challenge).Encode()),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "alice-pw"),
		chromedp.Click(chromedp.CSS(`input[name="password"] ~ button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("cb")),
	); err != nil {
		t.Fatalf("signing alice in: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 {
		t.Fatalf("%d posts of the login form seen, want 1", len(posts))
	}
	for id := range posts {
		if got := origins[id]; got != p.URL {
			t.Errorf("the login form was posted with Origin %q, want the page's own %q", got, p.URL)
		}
	}
}

// TestBrowser_CIMDNameNeitherReordersNorHidesTheWarning: a metadata
// document's client_name is the client's own claim, unchecked by the
// configuration's rules for names, yet the login page quotes it. A
// U+202E in it reversed the name as shown ("\u202emoc.elgoog" read
// "google.com"; the configuration refuses it in every name it holds), and
// a name of 4,000 characters (a document may have 5 KiB) left no room
// in a small window for both the form, which the page opens scrolled to,
// and the host the page names to trust instead of the name: the host
// was scrolled out of sight. The page shows such characters as U+FFFD,
// and at most policy.MaxNameBytes of the name.
func TestBrowser_CIMDNameNeitherReordersNorHidesTheWarning(t *testing.T) {
	f := startCIMD(t)
	ctx := chromium(t, chromedp.WindowSize(800, 600))
	type shown struct {
		Name             string
		Host             float64 // the top of the client_id URL's host
		Warning, Form    float64 // the bottom of the warning and of the username field
		ViewportHeight   float64
		ScrollW, ClientW int
	}
	open := func(path, name string) shown {
		t.Helper()
		doc := f.docs.doc(path, map[string]any{"token_endpoint_auth_method": "none", "client_name": name}, nil)
		_, challenge := pkce()
		params := authParams("http://127.0.0.1/callback", challenge)
		params.Set("client_id", doc)
		stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(stepCtx,
			chromedp.Navigate(f.URL+"/authorize?"+params.Encode()),
			chromedp.WaitVisible(chromedp.ID("username")),
		); err != nil {
			t.Fatalf("opening the login page of %s: %v", path, err)
		}
		got, err := chromedp.Run(stepCtx, chromedp.Evaluate[shown](`({
			Name: document.querySelector("q bdi").textContent,
			Host: document.getElementById("client-host").getBoundingClientRect().top,
			Warning: [...document.querySelectorAll("p.client")].pop().getBoundingClientRect().bottom,
			Form: document.getElementById("username").getBoundingClientRect().bottom,
			ViewportHeight: innerHeight,
			ScrollW: document.documentElement.scrollWidth, ClientW: document.documentElement.clientWidth,
		})`))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	got := open("/bidi.json", "\u202emoc.elgoog")
	if got.Name != "\ufffdmoc.elgoog" {
		t.Errorf("the page shows the name as %q, want its bidi override as U+FFFD", got.Name)
	}

	name := "Acme " + strings.Repeat("N", 4000)
	got = open("/flood.json", name)
	if !strings.HasPrefix(got.Name, "Acme NNN") || len(got.Name) > policy.MaxNameBytes {
		t.Errorf("the page shows %d bytes of a name of %d, want at most %d", len(got.Name), len(name), policy.MaxNameBytes)
	}
	// The page opens scrolled to the username field (autofocus): the
	// host, the warning and the field are all in the window.
	if got.Host < 0 || got.Warning > got.ViewportHeight || got.Form > got.ViewportHeight {
		t.Errorf("with a name of %d bytes the host (top at %.0f px), the warning (bottom at %.0f px) or the username field (%.0f px) is outside the window's %.0f px",
			len(name), got.Host, got.Warning, got.Form, got.ViewportHeight)
	}
	if got.ScrollW > got.ClientW {
		t.Errorf("the page scrolls sideways: %d px wide in %d", got.ScrollW, got.ClientW)
	}
}
