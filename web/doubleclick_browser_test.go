package web_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// pressButton clicks sel with the mouse, as clickTo does, and returns a
// second click there that waits for nothing: a press while the page the
// first one sent is still loading, which chromedp.Click would wait for.
func pressButton(t *testing.T, ctx context.Context, sel string) (again chromedp.Action[chromedp.Void]) {
	t.Helper()
	xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector(`+strconv.Quote(sel)+`).getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`))
	if err != nil || len(xy) != 2 {
		t.Fatalf("finding %s: %v", sel, err)
	}
	press := func(clicks int64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for _, typ := range []input.DispatchMouseEventType{input.DispatchMouseEventTypeMousePressed, input.DispatchMouseEventTypeMouseReleased} {
				if _, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: typ, X: xy[0], Y: xy[1], Button: input.MouseButtonLeft, ClickCount: clicks}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	run(t, ctx, "clicking "+sel, press(1))
	return press(2)
}

// heldPosts serves the product with the first two POSTs to a path that
// begins with path held:
// the first until the second has come, the second until the first is
// answered. first is closed when the first has come; count is how many
// came.
func heldPosts(t *testing.T, path string) (p *product, first <-chan struct{}, count *atomic.Int32) {
	t.Helper()
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, err := policy.NewStore(data, "testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	count = new(atomic.Int32)
	firstIn, secondIn, firstDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	p = serveThrough(t, store, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, path) {
				h.ServeHTTP(w, r)
				return
			}
			switch count.Add(1) {
			case 1:
				close(firstIn)
				select {
				case <-secondIn:
				case <-time.After(20 * time.Second): // the test fails on its count
				}
				h.ServeHTTP(w, r)
				close(firstDone)
			case 2:
				close(secondIn)
				<-firstDone
				h.ServeHTTP(w, r)
			default:
				h.ServeHTTP(w, r)
			}
		})
	})
	return p, firstIn, count
}

// TestBrowser_SaveClickedTwice: alice clicks "Save assignments" a second
// time while the first save is still under way (a slow disk). The browser
// sends the form twice and shows the answer to the second, whose version
// the first has just made stale. The change is made once, and the page
// says it was saved: it said "someone else changed this server since you
// opened it", which was alice herself, and asked her to make the change
// again, which would have added it twice.
func TestBrowser_SaveClickedTwice(t *testing.T) {
	p, first, posts := heldPosts(t, "/admin/servers/tracker/access")
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	run(t, ctx, "giving sales issues.read",
		chromedp.Navigate(p.URL+"/admin/servers/tracker"),
		chromedp.WaitVisible(chromedp.CSS(`#access-form`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="a1.groups"]`), "sales"),
		click(chromedp.CSS(`input[name="a1.scopes"][value="issues.read"]`)),
		chromedp.ScrollIntoView(chromedp.CSS(`#access-form button[type="submit"]`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.documentElement.dataset.left = "1"; true`)(ctx, tg)
			return err
		}),
	)
	again := pressButton(t, ctx, `#access-form button[type="submit"]`)
	select {
	case <-first:
	case <-time.After(20 * time.Second):
		t.Fatal("the first click sent no form")
	}
	run(t, ctx, "clicking again while it saves",
		again,
		until(`!document.documentElement.dataset.left && document.readyState === "complete" && document.querySelector(".flash") !== null`),
	)
	if n := posts.Load(); n != 2 {
		t.Fatalf("the browser sent the form %d times, want 2 (the case under test)", n)
	}
	if s := text(t, ctx, ".flash"); !strings.Contains(s, "Assignments saved") {
		t.Errorf("after the second click the page says %q, want that the assignments were saved", s)
	}
	if evs := p.IdP.Audit().Query(audit.Filter{Type: audit.TypeAdminChange}); len(evs) != 1 {
		t.Errorf("%d admin_change events, want 1", len(evs))
	}
	if acc := p.Store.Config().Server("tracker").Access; len(acc) != 2 {
		t.Errorf("tracker has %d access entries, want 2: %+v", len(acc), acc)
	}
}

// TestBrowser_ApproveClickedTwice: alice clicks Approve a second time
// while the first approval is under way. The request is approved once,
// with one access entry and one admin_change, and the page she sees, the
// answer to the second click, says it is approved: it said "Not decided"
// with the admin API's conflict, the request being approved already.
func TestBrowser_ApproveClickedTwice(t *testing.T) {
	p, first, posts := heldPosts(t, "/admin/access-requests/")
	id := requestAccess(t, p)
	ctx := chromium(t)
	signInWithBrowser(t, ctx, p.URL, "alice")
	button := "#request-" + id + ` form.approve button[type="submit"]`
	run(t, ctx, "approving bob's request",
		chromedp.ScrollIntoView(chromedp.CSS(button)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.documentElement.dataset.left = "1"; true`)(ctx, tg)
			return err
		}),
	)
	again := pressButton(t, ctx, button)
	select {
	case <-first:
	case <-time.After(20 * time.Second):
		t.Fatal("the first click sent no form")
	}
	run(t, ctx, "clicking again while it approves",
		again,
		until(`!document.documentElement.dataset.left && document.readyState === "complete" && document.querySelector("main") !== null`),
	)
	if n := posts.Load(); n != 2 {
		t.Fatalf("the browser sent the form %d times, want 2 (the case under test)", n)
	}
	if s := text(t, ctx, "main"); !strings.Contains(s, "approved") || strings.Contains(s, "Not decided") {
		t.Errorf("after the second click the page says:\n%s", s)
	}
	if evs := p.IdP.Audit().Query(audit.Filter{Type: audit.TypeAdminChange}); len(evs) != 1 {
		t.Errorf("%d admin_change events, want 1", len(evs))
	}
	if req, ok := p.IdP.AccessRequests().Get(id); !ok || req.Status != "approved" {
		t.Errorf("the request is %+v", req)
	}
}
