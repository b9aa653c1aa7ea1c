package web_test

import (
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/policy"
)

// TestBrowser_ClickToWaitsForTheLoadedPage: the page a click leads to is
// shown before its deferred console.js has run, and Chromium renumbers the
// page's nodes once it has (DOMContentLoaded): a step in between finds a
// node and acts on one that is gone, "No node with given id found" (seen
// once in TestBrowser_AssignAGroupAndSeeItEverywhere). Here the script is
// held back a second, which a busy machine can do by itself; clickTo
// returns with the page loaded, its script run, nonetheless.
func TestBrowser_ClickToWaitsForTheLoadedPage(t *testing.T) {
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, err := policy.NewStore(data, "testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var slow atomic.Bool
	p := serveThrough(t, store, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slow.Load() && r.URL.Path == "/admin/static/console.js" {
				select {
				case <-time.After(time.Second):
				case <-r.Context().Done():
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "opening the servers", chromedp.Navigate(p.URL+"/admin/servers"))
	slow.Store(true)
	run(t, ctx, "opening the tracker", clickTo(`a[href="/admin/servers/tracker"]`, `#access-form`))
	// At once: "Add a row" is shown by the script, at DOMContentLoaded.
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState + " " + (document.querySelector("[data-add-row]").hidden ? "script not run" : "script run")`))
	if err != nil || state != "complete script run" {
		t.Errorf("clickTo returned with the page %q (%v), want complete script run", state, err)
	}
}
