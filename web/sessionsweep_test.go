package web_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
	"github.com/xaa-idp/xaa-idp/web"
)

// TestSessions_SweptWithoutUse: a console session whose admin never comes
// back leaves the server's registry once it expires, with the IdP's store
// sweep, and /metrics counts the sessions held
// (xaa_idp_store_entries{store="console_sessions"}). Until 2026-12-06 an
// expired session stayed until the next sign-in, uncounted.
func TestSessions_SweptWithoutUse(t *testing.T) {
	var ahead atomic.Int64
	defer web.SetWallClock(func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) })()
	data, err := os.ReadFile("testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, err := policy.NewStore(data, "testdata/console.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: store.Config(), Issuer: issuer, SweepInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = app.New(app.Options{IdP: srv, Store: store})
	ts.Start()
	t.Cleanup(ts.Close)
	p := &product{URL: issuer, IdP: srv, Store: store}
	if resp, body := p.browser(t).signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	sessions := func() string {
		resp, err := http.Get(issuer + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), `xaa_idp_store_entries{store="console_sessions"} `); ok {
				return v
			}
		}
		return "not published"
	}
	if n := sessions(); n != "1" {
		t.Fatalf("console sessions after a sign-in: %s, want 1", n)
	}
	ahead.Store(int64(web.DefaultSessionMaxAge + time.Minute))
	deadline := time.Now().Add(30 * time.Second)
	for sessions() != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("console sessions after expiry and sweeps: %s, want 0", sessions())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
