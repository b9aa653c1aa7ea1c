package idptest_test

// Faults of the JWKS and discovery endpoints, as a resource-side
// authorization server meets them: over HTTP, the next GET answers the
// fault and the one after it the real document; the demo authorization
// server that holds the keys already keeps working through an outage, and
// one that does not answers temporarily_unavailable, a JSON OAuth error.

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idptest"
	"github.com/xaa-idp/xaa-idp/policy"
)

// get fetches url and returns the status, the Content-Type and the body.
func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// keyCount is the number of keys of a JWKS body, -1 for no JWKS.
func keyCount(body string) int {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal([]byte(body), &set) != nil || set.Keys == nil {
		return -1
	}
	return len(set.Keys)
}

func TestEndpointFault_JWKSOutageOnceThenTheRealJWKS(t *testing.T) {
	srv := idptest.New(t)
	jwks := srv.Issuer() + "/keys"
	id := srv.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointJWKS, HTTPStatus: http.StatusServiceUnavailable, Times: 1})
	// The token endpoint does not meet a fault of the JWKS.
	if _, err := srv.TryIDJAG("alice", "tracker"); err != nil {
		t.Fatalf("a token exchange met the JWKS fault: %v", err)
	}
	status, ctype, body := get(t, jwks)
	if status != http.StatusServiceUnavailable || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "503 Service Unavailable") {
		t.Errorf("first JWKS GET: %d %s %q; want the bare 503", status, ctype, body)
	}
	status, _, body = get(t, jwks)
	if status != http.StatusOK || keyCount(body) < 1 {
		t.Errorf("second JWKS GET: %d %q; want the real JWKS", status, body)
	}
	fs := srv.Faults()
	if len(fs) != 1 || fs[0].ID != id || fs[0].Endpoint != "jwks" || fs[0].Fired != 1 || fs[0].Remaining == nil || *fs[0].Remaining != 0 {
		t.Errorf("faults: %+v", fs)
	}
	events := srv.Audit(audit.Filter{Type: audit.TypeFault})
	if len(events) != 1 {
		t.Fatalf("%d fault events, want 1: %+v", len(events), events)
	}
	ev := events[0]
	if !ev.Injected || ev.Outcome != audit.Error || ev.Details["endpoint"] != "jwks" || ev.Details["path"] != "/keys" ||
		injectedFault(t, ev)["http_status"] != float64(503) ||
		ev.Reason != "injected fault "+id+": a bare HTTP 503 without a JSON body at the jwks endpoint" {
		t.Errorf("audit event %+v", ev)
	}
}

func TestEndpointFault_DelayHoldsTheJWKS(t *testing.T) {
	srv := idptest.New(t)
	const delay = 400 * time.Millisecond
	srv.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointJWKS, Delay: policy.Duration(delay), Times: 1})
	start := time.Now()
	status, _, body := get(t, srv.Issuer()+"/keys")
	if took := time.Since(start); took < delay {
		t.Errorf("the JWKS answered after %s, before the delay of %s", took, delay)
	}
	if status != http.StatusOK || keyCount(body) < 1 {
		t.Errorf("delayed JWKS GET: %d %q; want the real JWKS", status, body)
	}
	ev := injected(t, srv, audit.TypeFault)
	if ev.Outcome != audit.Allowed || injectedFault(t, ev)["delay"] != "400ms" {
		t.Errorf("audit event %+v", ev)
	}
	// Times 1: the second GET is not held. Told by the audit log, which
	// marks every injected fault, rather than by the second GET's speed.
	if status, _, _ := get(t, srv.Issuer()+"/keys"); status != http.StatusOK {
		t.Errorf("the second JWKS GET: %d", status)
	}
	n := 0
	for _, ev := range srv.Audit(audit.Filter{Type: audit.TypeFault}) {
		if ev.Injected {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d injected faults in the audit log after two JWKS GETs, want the first's only", n)
	}
}

func TestEndpointFault_EmptyJWKS(t *testing.T) {
	srv := idptest.New(t)
	srv.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointJWKS, JWKS: policy.FaultJWKSEmpty, Times: 1})
	status, ctype, body := get(t, srv.Issuer()+"/keys")
	if status != http.StatusOK || ctype != "application/json" || keyCount(body) != 0 {
		t.Errorf("JWKS GET: %d %s %q; want 200 {\"keys\":[]}", status, ctype, body)
	}
}

// TestEndpointFault_DiscoveryAtEveryPath: a discovery fault answers both
// documents, under a tenant at the root's path-insertion forms too, and
// only the tenant it was injected into.
func TestEndpointFault_DiscoveryAtEveryPath(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(tenantsSample(t)))
	acme, okta := srv.Tenant("acme"), srv.Tenant("okta")
	acme.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointDiscovery, HTTPStatus: http.StatusBadGateway})
	for _, url := range []string{
		acme.Issuer() + "/.well-known/openid-configuration",
		acme.Issuer() + "/.well-known/oauth-authorization-server",
		srv.URL() + "/.well-known/oauth-authorization-server/t/acme",
		srv.URL() + "/.well-known/openid-configuration/t/acme",
	} {
		if status, _, body := get(t, url); status != http.StatusBadGateway {
			t.Errorf("GET %s: %d %q; want the fault's 502", url, status, body)
		}
	}
	for _, url := range []string{
		okta.Issuer() + "/.well-known/openid-configuration",
		srv.URL() + "/.well-known/oauth-authorization-server/t/okta",
		srv.URL() + "/.well-known/openid-configuration/t/okta",
		acme.Issuer() + "/keys",
	} {
		if status, _, body := get(t, url); status != http.StatusOK {
			t.Errorf("GET %s: %d %q; want 200: the fault is acme's discovery only", url, status, body)
		}
	}
	if fs := acme.Faults(); len(fs) != 1 || fs[0].Fired != 4 {
		t.Errorf("acme's faults: %+v", fs)
	}
	if fs := okta.Faults(); len(fs) != 0 {
		t.Errorf("okta's faults: %+v", fs)
	}
	if ev := injected(t, acme, audit.TypeFault); ev.Tenant != "acme" || ev.Details["endpoint"] != "discovery" {
		t.Errorf("audit event %+v", ev)
	}
}

// TestEndpointFault_DemoServerThroughAJWKSOutage: the demo authorization
// server fetches discovery and the JWKS at its first ID-JAG. While it holds
// no keys, a JWKS outage makes it answer 503 temporarily_unavailable with
// Retry-After, as JSON; once it holds them, it keeps accepting ID-JAGs
// through an outage.
func TestEndpointFault_DemoServerThroughAJWKSOutage(t *testing.T) {
	srv, tracker := startDemo(t)
	// (Not discovery: the SDK's client reads the IdP's discovery too.)
	jwks := srv.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointJWKS, HTTPStatus: http.StatusServiceUnavailable})
	err := connect(t, srv, tracker, "alice", nil)
	if err == nil {
		t.Fatal("the tracker, which holds no keys, accepted an ID-JAG in the outage")
	}
	re := oauthError(t, err)
	if re.Response.StatusCode != http.StatusServiceUnavailable || re.ErrorCode != "temporarily_unavailable" ||
		!strings.Contains(re.ErrorDescription, "HTTP 503") || re.Response.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(re.Response.Header.Get("Content-Type"), "application/json") {
		t.Errorf("the tracker answered %d %s %q (%v); want a JSON 503 temporarily_unavailable with Retry-After",
			re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, re.Response.Header)
	}
	srv.RemoveFault(jwks)
	srv.Clock().Advance(6 * time.Second) // the server tries the IdP again at most every 5 seconds
	if err := connect(t, srv, tracker, "alice", nil); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
	srv.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointJWKS, HTTPStatus: http.StatusServiceUnavailable})
	if err := connect(t, srv, tracker, "alice", nil); err != nil {
		t.Errorf("the tracker, which holds the keys, failed in the outage: %v", err)
	}
}

// TestEndpointFault_DemoServerMeetsAnEmptyJWKS: a key rotation gone wrong
// (an empty JWKS) makes an authorization server that fetches the keys
// refuse the ID-JAG as invalid_grant, naming the kid it did not find.
func TestEndpointFault_DemoServerMeetsAnEmptyJWKS(t *testing.T) {
	srv, tracker := startDemo(t)
	srv.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointJWKS, JWKS: policy.FaultJWKSEmpty})
	err := connect(t, srv, tracker, "alice", nil)
	if err == nil {
		t.Fatal("connected with an empty JWKS")
	}
	if re := oauthError(t, err); re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "is not in the IdP JWKS") {
		t.Errorf("the tracker answered %s %q; want invalid_grant naming the kid", re.ErrorCode, re.ErrorDescription)
	}
}

// TestEndpointFault_UserinfoAndTheTokenEndpointApart: a userinfo fault
// answers userinfo only, and a fault without endpoint (the token
// endpoint's) leaves the JWKS, discovery and userinfo alone.
func TestEndpointFault_UserinfoAndTheTokenEndpointApart(t *testing.T) {
	srv := idptest.New(t)
	tok := srv.Login("alice")
	userinfo := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.Issuer()+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	srv.InjectFault(policy.Fault{HTTPStatus: http.StatusInternalServerError})
	if got := userinfo(); got != http.StatusOK {
		t.Errorf("userinfo with a token fault: %d", got)
	}
	for _, path := range []string{"/keys", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		if status, _, _ := get(t, srv.Issuer()+path); status != http.StatusOK {
			t.Errorf("GET %s with a token fault: %d", path, status)
		}
	}
	srv.ClearFaults()
	srv.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointUserinfo, HTTPStatus: http.StatusInternalServerError, Times: 1})
	if got := userinfo(); got != http.StatusInternalServerError {
		t.Errorf("userinfo with a userinfo fault: %d, want 500", got)
	}
	if got := userinfo(); got != http.StatusOK {
		t.Errorf("userinfo after the fault: %d", got)
	}
	if ev := injected(t, srv, audit.TypeFault); ev.Details["endpoint"] != "userinfo" || ev.User != "" || ev.ClientID != "" {
		t.Errorf("audit event %+v", ev)
	}
}

// TestEndpointFault_DemoServerPacesItsFetchesInAnOutage: during a JWKS
// outage the demo authorization server asks the IdP again at most every 5
// seconds, whether it holds no keys (every ID-JAG is then refused
// temporarily_unavailable) or keys older than its 10 minutes (it goes on
// with them): an outage must not turn its token endpoint into a JWKS
// request per ID-JAG, each waiting for the IdP.
func TestEndpointFault_DemoServerPacesItsFetchesInAnOutage(t *testing.T) {
	srv, tracker := startDemo(t)
	jwks := srv.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointJWKS, HTTPStatus: http.StatusServiceUnavailable})
	for range 3 {
		if err := connect(t, srv, tracker, "alice", nil); err == nil {
			t.Fatal("connected without keys")
		}
	}
	if fs := srv.Faults(); fs[0].Fired != 1 {
		t.Errorf("without keys, the JWKS was asked for %d times in 3 connections within 5 seconds, want 1", fs[0].Fired)
	}
	srv.RemoveFault(jwks)
	srv.Clock().Advance(6 * time.Second)
	if err := connect(t, srv, tracker, "alice", nil); err != nil {
		t.Fatalf("after the outage: %v", err)
	}

	srv.Clock().Advance(11 * time.Minute) // the keys it holds are stale
	srv.InjectFault(policy.Fault{Endpoint: policy.FaultEndpointJWKS, HTTPStatus: http.StatusServiceUnavailable})
	for i := range 3 {
		if err := connect(t, srv, tracker, "alice", nil); err != nil {
			t.Fatalf("connection %d with stale keys in the outage: %v", i+1, err)
		}
	}
	if fs := srv.Faults(); fs[0].Fired != 1 {
		t.Errorf("with stale keys, the JWKS was asked for %d times in 3 connections within 5 seconds, want 1", fs[0].Fired)
	}
}

// TestEndpointFault_ThroughATenantsAdminAPI: a JWKS fault posted to a
// tenant's admin API acts on that tenant's JWKS alone and is listed by
// that tenant only.
func TestEndpointFault_ThroughATenantsAdminAPI(t *testing.T) {
	srv := idptest.New(t, idptest.WithConfigYAML(tenantsSample(t)))
	acme, okta := srv.Tenant("acme"), srv.Tenant("okta")
	api := func(method, url, body string) (int, string) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("alice", "alice")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := api(http.MethodPost, acme.Issuer()+"/admin/api/faults", `{"endpoint": "jwks", "http_status": 503}`); status != http.StatusCreated {
		t.Fatalf("POST: %d %s", status, body)
	}
	if status, _, _ := get(t, acme.Issuer()+"/keys"); status != http.StatusServiceUnavailable {
		t.Errorf("acme's JWKS: %d, want 503", status)
	}
	if status, _, _ := get(t, okta.Issuer()+"/keys"); status != http.StatusOK {
		t.Errorf("okta's JWKS: %d, want 200", status)
	}
	if status, body := api(http.MethodGet, acme.Issuer()+"/admin/api/faults", ""); status != http.StatusOK || !strings.Contains(body, `"endpoint": "jwks"`) || !strings.Contains(body, `"fired": 1`) {
		t.Errorf("acme's GET: %d %s", status, body)
	}
	if status, body := api(http.MethodGet, okta.Issuer()+"/admin/api/faults", ""); status != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Errorf("okta's GET: %d %s", status, body)
	}
	if status, body := api(http.MethodDelete, acme.Issuer()+"/admin/api/faults", ""); status != http.StatusOK || !strings.Contains(body, `"cleared": 1`) {
		t.Errorf("acme's DELETE: %d %s", status, body)
	}
	if status, _, _ := get(t, acme.Issuer()+"/keys"); status != http.StatusOK {
		t.Errorf("acme's JWKS after DELETE: %d, want 200", status)
	}
}
