package connect_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestWatch_ARefusalNamingItsTimeIsReportedOnce: the CRM's authorization
// server's clock is two hours behind the IdP's, so it refuses every
// ID-JAG, saying when it judged it ("ID-JAG iat ... is in the future (now
// ..."). Watch tries again and again, as it should, but reported each
// refusal as a change, its time differing: a new "disconnected" line
// every try, where the same refusal is to be shown once.
func TestWatch_ARefusalNamingItsTimeIsReportedOnce(t *testing.T) {
	_, lines := watchAgainstALateAuthorizationServer(t)
	if len(lines) != 1 || !strings.Contains(lines[0], "is in the future") {
		t.Errorf("reported (want the refusal once):\n%s", strings.Join(lines, "\n"))
	}
}

// TestWatch_AnAuthorizationServersRefusalLeavesTheLogin: the IdP refused
// nothing when the CRM's authorization server (its clock behind) refuses
// each ID-JAG invalid_grant, so the login has no cause to be renewed;
// until 2026-12-06 Watch renewed it at every try, each a refresh the IdP
// issues and audits.
func TestWatch_AnAuthorizationServersRefusalLeavesTheLogin(t *testing.T) {
	s, _ := watchAgainstALateAuthorizationServer(t)
	for _, e := range s.srv.Audit().Query(audit.Filter{Type: audit.TypeToken}) {
		if e.GrantType == "refresh_token" {
			t.Errorf("the login was renewed, at %s, for the authorization server's refusal", e.Time)
		}
	}
}

// watchAgainstALateAuthorizationServer watches bob with the CRM's
// authorization server's clock two hours behind the IdP's, until Watch has
// tried again more than a second after its first try, and returns what it
// reported.
func watchAgainstALateAuthorizationServer(t *testing.T) (*restartStack, []string) {
	s := newRestartStack(t)
	s.srv.Clock().Advance(2 * time.Hour)
	grants := make(chan time.Time, 100)
	// Serving, so that a stop closes their listeners (restartable).
	for _, r := range []*restartable{s.as, s.mc} {
		resp, err := http.Get("http://" + r.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	s.as.stop()
	s.mc.stop()
	as, mc := s.stackHandlers(t)
	s.as.start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
			select {
			case grants <- time.Now():
			default:
			}
		}
		as.ServeHTTP(w, r)
	}))
	s.mc.start(mc)
	w, _ := watchWithNotices(t, s.idpURL)
	// Two grants refused more than a second after the first: their
	// refusals name another second than the first's, and the first of
	// them was reported (or not) before the second was asked for.
	first, later := time.Time{}, 0
	for later < 2 {
		select {
		case at := <-grants:
			if first.IsZero() {
				first = at
			} else if at.Sub(first) > 1100*time.Millisecond {
				later++
			}
		case <-w.ctx.Done():
			t.Fatal("the authorization server was not asked for enough grants")
		}
	}
	return s, w.stop(t)
}

// TestWatch_RenewsTheLoginWhenTheIdPSaysItsIDTokenExpired: two hours
// pass on the IdP's clock (and its demo MCP servers'), not on connect's:
// the IdP refuses the ID token, which connect's clock says is fresh, "the
// subject ID token expired". Watch did not take that for a refused ID
// token, so never renewed the login, and stayed disconnected; now it
// renews it with the refresh token and connects again.
func TestWatch_RenewsTheLoginWhenTheIdPSaysItsIDTokenExpired(t *testing.T) {
	srv, _, idpURL := watchStack(t, "")
	w := watchBob(t, idpURL)
	srv.Clock().Advance(2 * time.Hour)
	if got := w.next(t); !strings.Contains(got, "the subject ID token expired") {
		t.Fatalf("reported %q, want the expired ID token", got)
	}
	if got := w.next(t); got != "true CRM <nil>" {
		t.Errorf("reported %q, want bob connected again", got)
	}
	w.stop(t)
}
