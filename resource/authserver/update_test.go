package authserver_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// registration is what newEnv registers, as an Update would send it.
func (e *env) registration() authserver.Registration {
	return authserver.Registration{
		TrustedIssuers: []authserver.TrustedIssuer{{Issuer: e.idp.issuer, JWKSURL: e.idp.jwksURL()}},
		Scopes:         slices.Clone(trackerScopes),
		Clients: map[string]string{
			confidentialClient: confidentialSecret,
			publicClient:       "",
			otherClient:        otherSecret,
		},
	}
}

// update applies Update to the env's registration changed by edit.
func (e *env) update(t *testing.T, edit func(*authserver.Registration)) {
	t.Helper()
	r := e.registration()
	edit(&r)
	if err := e.as.Update(r); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// wantRefused checks that a token request was refused with code and a
// description containing desc.
func wantRefused(t *testing.T, r tokenReply, status int, code, desc string) {
	t.Helper()
	if r.status != status || r.str("error") != code || !strings.Contains(r.str("error_description"), desc) {
		t.Fatalf("HTTP %d %s, want %d %s with %q", r.status, r.raw, status, code, desc)
	}
}

// TestUpdate_AddsAClient: a client registered by Update redeems an
// ID-JAG issued to it, with its secret, and /authorize knows its
// redirection URI; before, the same request was invalid_client.
func TestUpdate_AddsAClient(t *testing.T) {
	e := newEnv(t)
	newcomer := func() tokenRequest {
		req := grant(e.jag(t, func(c map[string]any) { c["client_id"] = "newcomer-at-tracker" }))
		req.basic = &[2]string{"newcomer-at-tracker", "newcomer-secret"}
		return req
	}
	wantRefused(t, e.post(t, newcomer()), http.StatusUnauthorized, "invalid_client", `unknown client 'newcomer-at-tracker'`)

	e.update(t, func(r *authserver.Registration) {
		r.Clients["newcomer-at-tracker"] = "newcomer-secret"
		r.RedirectURIs = map[string][]string{"newcomer-at-tracker": {"https://newcomer.example/cb"}}
	})
	r := e.post(t, newcomer())
	if r.status != http.StatusOK {
		t.Fatalf("after Update: HTTP %d %s", r.status, r.raw)
	}
	at, err := e.as.VerifyAccessToken(t.Context(), r.str("access_token"), e.mcpURL)
	if err != nil || at.ClientID != "newcomer-at-tracker" {
		t.Fatalf("access token %+v, %v", at, err)
	}
	wrong := newcomer()
	wrong.basic[1] = "guess"
	wantRefused(t, e.post(t, wrong), http.StatusUnauthorized, "invalid_client", "wrong client secret")

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(e.asURL + "/authorize?client_id=newcomer-at-tracker&state=s")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "https://newcomer.example/cb?") {
		t.Errorf("/authorize: HTTP %d to %q", resp.StatusCode, loc)
	}
}

// TestUpdate_RemovesAClient: a client Update no longer lists is an
// unknown client at the token and introspection endpoints, while the
// access tokens it was issued before stay valid until they expire.
func TestUpdate_RemovesAClient(t *testing.T) {
	e := newEnv(t)
	before := e.accessToken(t, "issues.read")
	jag := e.jag(t, nil)
	e.update(t, func(r *authserver.Registration) { delete(r.Clients, confidentialClient) })

	wantRefused(t, e.post(t, grant(jag)), http.StatusUnauthorized, "invalid_client", `unknown client '`+confidentialClient+`'`)
	r := e.introspect(t, &[2]string{confidentialClient, confidentialSecret}, url.Values{"token": {before}})
	wantRefused(t, r, http.StatusUnauthorized, "invalid_client", "unknown client")
	if _, err := e.as.VerifyAccessToken(t.Context(), before, e.mcpURL); err != nil {
		t.Errorf("an access token issued before the Update: %v", err)
	}
	// The other clients are as they were.
	other := grant(e.jag(t, func(c map[string]any) { c["client_id"] = otherClient }))
	other.basic = &[2]string{otherClient, otherSecret}
	if r := e.post(t, other); r.status != http.StatusOK {
		t.Errorf("the client that stays: HTTP %d %s", r.status, r.raw)
	}
}

// TestUpdate_ChangesScopes: a scope added by Update is granted and listed
// in the metadata; a scope removed is invalid_scope and no longer listed.
func TestUpdate_ChangesScopes(t *testing.T) {
	e := newEnv(t)
	admin := func() tokenRequest {
		return grant(e.jag(t, func(c map[string]any) { c["scope"] = "issues.read issues.admin" }))
	}
	wantRefused(t, e.post(t, admin()), http.StatusBadRequest, "invalid_scope", `ID-JAG scope 'issues.admin' is not a scope`)

	e.update(t, func(r *authserver.Registration) { r.Scopes = []string{"issues.read", "issues.admin"} })
	r := e.post(t, admin())
	if r.status != http.StatusOK || r.str("scope") != "issues.read issues.admin" {
		t.Fatalf("after Update: HTTP %d %s", r.status, r.raw)
	}
	wantRefused(t, e.post(t, grant(e.jag(t, nil))), http.StatusBadRequest, "invalid_scope", `ID-JAG scope 'issues.write' is not a scope`)

	var meta authserver.Metadata
	getJSON(t, e.asURL+"/.well-known/oauth-authorization-server", &meta)
	if got := strings.Join(meta.ScopesSupported, " "); got != "issues.read issues.admin" {
		t.Errorf("scopes_supported %q after Update", got)
	}
	if got := strings.Join(e.as.Scopes(), " "); got != "issues.read issues.admin" {
		t.Errorf("Scopes() = %q", got)
	}
}

// TestUpdate_AddsAUserForSubjectEmail: a server that maps users by email
// refuses an ID-JAG for an email no local user has, and accepts it once
// Update adds the user, whose sub and username the access token carries.
func TestUpdate_AddsAUserForSubjectEmail(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) { c.Subject = authserver.SubjectEmail })
	wantRefused(t, e.post(t, grant(e.jag(t, nil))), http.StatusBadRequest, "invalid_grant", `no local user has the ID-JAG's email '`+aliceEmail+`'`)

	e.update(t, func(r *authserver.Registration) {
		r.Users = []authserver.User{{Username: "alice", Sub: "00u-alice-local", Email: aliceEmail}}
	})
	r := e.post(t, grant(e.jag(t, nil)))
	if r.status != http.StatusOK {
		t.Fatalf("after Update: HTTP %d %s", r.status, r.raw)
	}
	at, err := e.as.VerifyAccessToken(t.Context(), r.str("access_token"), e.mcpURL)
	if err != nil || at.Subject != "00u-alice-local" || at.Username != "alice" {
		t.Fatalf("access token %+v, %v", at, err)
	}
}

// TestUpdate_RemovesATrustedIssuer: the ID-JAGs of an IdP Update no
// longer lists are from an untrusted issuer, as are every IdP's once it
// lists none; the IdP that stays keeps its fetched keys.
func TestUpdate_RemovesATrustedIssuer(t *testing.T) {
	e := newEnv(t)
	second := newFakeIdP(t, e.clock.Now)
	e.update(t, func(r *authserver.Registration) {
		r.TrustedIssuers = append(r.TrustedIssuers, authserver.TrustedIssuer{Issuer: second.issuer, JWKSURL: second.jwksURL()})
	})
	fromSecond := func() tokenRequest { return grant(second.mint(t, second.claims(e.asURL, e.mcpURL))) }
	for _, req := range []tokenRequest{grant(e.jag(t, nil)), fromSecond()} {
		if r := e.post(t, req); r.status != http.StatusOK {
			t.Fatalf("both trusted: HTTP %d %s", r.status, r.raw)
		}
	}
	hits := e.idp.jwksHits.Load()

	e.update(t, func(*authserver.Registration) {}) // the first IdP alone
	wantRefused(t, e.post(t, fromSecond()), http.StatusBadRequest, "invalid_grant", `untrusted issuer '`+second.issuer+`'`)
	if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
		t.Fatalf("the IdP that stays: HTTP %d %s", r.status, r.raw)
	}
	if got := e.idp.jwksHits.Load(); got != hits {
		t.Errorf("the JWKS of the IdP that stays was fetched %d more times after the Update", got-hits)
	}

	e.update(t, func(r *authserver.Registration) { r.TrustedIssuers, r.Clients = nil, nil })
	wantRefused(t, e.post(t, grant(e.jag(t, nil))), http.StatusUnauthorized, "invalid_client", "unknown client")
	none := grant(e.jag(t, func(c map[string]any) { c["client_id"] = publicClient }))
	none.basic, none.form["client_id"] = nil, []string{publicClient}
	e.update(t, func(r *authserver.Registration) { r.TrustedIssuers = nil })
	wantRefused(t, e.post(t, none), http.StatusBadRequest, "invalid_grant", "trusts no IdP")
}

// TestUpdate_RefusesBadRegistrations: Update checks as New does, and a
// refused Update changes nothing.
func TestUpdate_RefusesBadRegistrations(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.ResourceServers = map[string]string{"mcp-server-tracker": "rs-secret"}
	})
	tests := map[string]func(*authserver.Registration){
		"relative issuer":        func(r *authserver.Registration) { r.TrustedIssuers[0].Issuer = "idp.example" },
		"relative JWKS URL":      func(r *authserver.Registration) { r.TrustedIssuers[0].JWKSURL = "/keys" },
		"issuer trusted twice":   func(r *authserver.Registration) { r.TrustedIssuers = append(r.TrustedIssuers, r.TrustedIssuers[0]) },
		"empty client_id":        func(r *authserver.Registration) { r.Clients[""] = "x" },
		"a resource server's id": func(r *authserver.Registration) { r.Clients["mcp-server-tracker"] = "x" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			r := e.registration()
			delete(r.Clients, confidentialClient)
			edit(&r)
			if err := e.as.Update(r); err == nil {
				t.Fatal("no error")
			}
			if r := e.post(t, grant(e.jag(t, nil))); r.status != http.StatusOK {
				t.Errorf("after a refused Update: HTTP %d %s", r.status, r.raw)
			}
		})
	}
}

// TestUpdate_KeepsItsOwnCopy: changing the maps and slices given to
// Update afterwards changes nothing.
func TestUpdate_KeepsItsOwnCopy(t *testing.T) {
	e := newEnv(t)
	r := e.registration()
	if err := e.as.Update(r); err != nil {
		t.Fatal(err)
	}
	delete(r.Clients, confidentialClient)
	r.Scopes[0] = "nothing"
	r.TrustedIssuers[0].Issuer = "http://elsewhere.example"
	if got := e.post(t, grant(e.jag(t, nil))); got.status != http.StatusOK {
		t.Errorf("HTTP %d %s", got.status, got.raw)
	}
}

// TestUpdate_ConcurrentWithGrants runs Updates that add and remove a
// client while other clients' grants and metadata requests go on, for the
// race detector: the grants of the client every Update keeps all succeed.
func TestUpdate_ConcurrentWithGrants(t *testing.T) {
	e := newEnv(t)
	jags := make([]string, 24)
	for i := range jags {
		jags[i] = e.jag(t, nil)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 50 {
			r := e.registration()
			if i%2 == 0 {
				r.Clients["flapping"] = "x"
				r.Scopes = append(r.Scopes, "issues.admin")
			}
			if err := e.as.Update(r); err != nil {
				t.Errorf("Update: %v", err)
			}
		}
	})
	for _, jag := range jags {
		wg.Go(func() {
			if r := e.post(t, grant(jag)); r.status != http.StatusOK {
				t.Errorf("grant: HTTP %d %s", r.status, r.raw)
			}
		})
		wg.Go(func() {
			resp, err := http.Get(e.asURL + "/.well-known/oauth-authorization-server")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("metadata: %v %v", resp, err)
				return
			}
			resp.Body.Close()
			_ = e.as.Scopes()
		})
	}
	wg.Wait()
}

// TestUpdate_AllowReplay: an Update turns the acceptance of a redeemed
// ID-JAG on and off at once. One redeemed while it was on is refused
// once it is off: the jti is recorded either way.
func TestUpdate_AllowReplay(t *testing.T) {
	e := newEnv(t)
	jag := e.jag(t, nil)
	if r := e.post(t, grant(jag)); r.status != http.StatusOK {
		t.Fatalf("first use: HTTP %d %s", r.status, r.raw)
	}
	wantRefused(t, e.post(t, grant(jag)), http.StatusBadRequest, "invalid_grant", "already redeemed")

	e.update(t, func(r *authserver.Registration) { r.AllowReplay = true })
	for i := range 2 {
		if r := e.post(t, grant(jag)); r.status != http.StatusOK {
			t.Fatalf("reuse %d with AllowReplay: HTTP %d %s", i+1, r.status, r.raw)
		}
	}
	fresh := e.jag(t, nil)
	if r := e.post(t, grant(fresh)); r.status != http.StatusOK {
		t.Fatalf("a fresh ID-JAG with AllowReplay: HTTP %d %s", r.status, r.raw)
	}

	e.update(t, func(r *authserver.Registration) { r.AllowReplay = false })
	wantRefused(t, e.post(t, grant(jag)), http.StatusBadRequest, "invalid_grant", "already redeemed")
	wantRefused(t, e.post(t, grant(fresh)), http.StatusBadRequest, "invalid_grant", "already redeemed")
}
