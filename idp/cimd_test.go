package idp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/internal/errdesc"
	"github.com/xaa-idp/xaa-idp/policy"
)

// docServer serves Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document) and counts the requests
// each path gets.
type docServer struct {
	*httptest.Server
	key *ecdsa.PrivateKey

	mu   sync.Mutex
	docs map[string]http.HandlerFunc
	hits map[string]int
}

func startDocServer(t testing.TB) *docServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := &docServer{key: key, docs: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.hits[r.URL.Path]++
		h := d.docs[r.URL.Path]
		d.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(d.Close)
	return d
}

// handle serves h at path and returns the path's URL.
func (d *docServer) handle(path string, h http.HandlerFunc) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs[path] = h
	return d.URL + path
}

// json serves v as JSON at path, with a Cache-Control max-age of an hour.
func (d *docServer) json(path string, v any) string {
	return d.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_ = json.NewEncoder(w).Encode(v)
	})
}

// doc serves a metadata document at path whose client_id is its URL,
// with the members given and edit applied.
func (d *docServer) doc(path string, members map[string]any, edit func(map[string]any)) string {
	m := map[string]any{"client_id": d.URL + path, "client_name": "Doc " + path, "redirect_uris": []string{"http://127.0.0.1/callback"}}
	for k, v := range members {
		m[k] = v
	}
	if edit != nil {
		edit(m)
	}
	return d.json(path, m)
}

func (d *docServer) hitsOf(path string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hits[path]
}

// jwks is the public JWK Set of the server's client key.
func (d *docServer) jwks() map[string]any {
	return map[string]any{"keys": []any{jose.JSONWebKey{Key: &d.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
}

// assertion is a private_key_jwt client assertion (RFC 7523 §2.2) of the
// client id, signed with the server's client key.
func (d *docServer) assertion(t testing.TB, id, aud string) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: d.key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s, err := jwt.Signed(sig).Claims(jwt.Claims{
		Issuer: id, Subject: id, Audience: jwt.Audience{aud}, ID: randomJTI(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cimdFixture is an IdP whose chat server lists three metadata document
// clients (public; private_key_jwt with jwks; with jwks_uri) served by
// docs, beside the configured client mcp-client. Only docs' own URLs
// (127.0.0.1 and its port) are allowed.
type cimdFixture struct {
	*testIdP
	docs                     *docServer
	public, inline, indirect string
}

func startCIMD(t testing.TB, tweak ...func(*idp.Options)) *cimdFixture {
	t.Helper()
	d := startDocServer(t)
	f := &cimdFixture{docs: d}
	f.public = d.doc("/public.json", map[string]any{"token_endpoint_auth_method": "none"}, nil)
	f.inline = d.doc("/inline.json", map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": d.jwks()}, nil)
	f.indirect = d.doc("/indirect.json", map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": d.URL + "/keys.json"}, nil)
	d.json("/keys.json", d.jwks())
	cfg, err := policy.Parse([]byte(fmt.Sprintf(`
cimd:
  allow: ["%[1]s/*"]
users:
  - {username: alice, password: alice-pw}
  - {username: bob, password: bob-pw}
clients:
  - {client_id: mcp-client, client_secret: s1, token_exchange: true, redirect_uris: [http://127.0.0.1/callback]}
mcp_servers:
  - id: chat
    issuer: https://as.chat.example
    resources: [https://mcp.chat.example/mcp]
    scopes: [chat.read]
    clients:
      mcp-client: mcp-client-at-chat
      %[2]s: %[2]s
      %[3]s: %[3]s
      %[4]s: %[4]s
    access:
      - users: [alice]
        scopes: [chat.read]
  - id: wiki
    issuer: https://as.wiki.example
    resources: [https://mcp.wiki.example/mcp]
    scopes: [wiki.read]
    clients: {mcp-client: mcp-client}
    access:
      - users: [alice]
        scopes: [wiki.read]
`, d.URL, f.public, f.inline, f.indirect)), "cimd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f.testIdP = startIdP(t, cfg, tweak...)
	return f
}

// exchange asks for an ID-JAG for chat as client id, authenticated by
// auth (client_assertion or nothing).
func (f *cimdFixture) exchange(t testing.TB, idToken, id string, auth url.Values) (*http.Response, map[string]any) {
	t.Helper()
	form := exchangeForm(idToken)
	form.Set("client_id", id)
	for k, v := range auth {
		form[k] = v
	}
	return f.postToken(t, form, nil)
}

func assertionForm(assertion string) url.Values {
	return url.Values{
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
}

// TestCIMD_LoginAndExchange runs the code flow with PKCE and the token
// exchange for each kind of metadata document client, as any client
// would: the ID-JAG names the URL as client_id, the IdP fetched each
// document once.
func TestCIMD_LoginAndExchange(t *testing.T) {
	f := startCIMD(t)
	rows := []struct {
		name, id, path string
		// aud is the client assertion's aud at the code grant (the
		// exchange uses the token endpoint); "" for a public client.
		aud string
	}{
		{"public, none", f.public, "/public.json", ""},
		{"private_key_jwt, jwks, aud the issuer", f.inline, "/inline.json", f.URL},
		{"private_key_jwt, jwks_uri, aud the token endpoint", f.indirect, "/indirect.json", f.URL + "/oauth/token"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			opts := idpclient.LoginOptions{Issuer: f.URL, ClientID: r.id, Username: "alice", Password: "alice-pw", Scopes: []string{"openid", "offline_access"}}
			var auth url.Values
			if r.aud != "" {
				opts.ClientAssertion = f.docs.assertion(t, r.id, r.aud)
			}
			tok, err := idpclient.Login(context.Background(), opts)
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			_, claims := f.verifyJWT(t, tok.IDToken())
			if claims["aud"] != r.id && !strings.Contains(fmt.Sprint(claims["aud"]), r.id) {
				t.Errorf("ID token aud %v, want %s", claims["aud"], r.id)
			}
			if r.aud != "" {
				auth = assertionForm(f.docs.assertion(t, r.id, f.URL+"/oauth/token"))
			}
			resp, body := f.exchange(t, tok.IDToken(), r.id, auth)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("exchange: %d %v", resp.StatusCode, body)
			}
			_, jag := f.verifyJWT(t, body["access_token"].(string))
			if jag["client_id"] != r.id || jag["sub"] != "u-alice" || jag["aud"] != "https://as.chat.example" {
				t.Errorf("ID-JAG claims %v", jag)
			}

			// The refresh grant authenticates the client the same way.
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken()}, "client_id": {r.id}}
			if r.aud != "" {
				for k, v := range assertionForm(f.docs.assertion(t, r.id, r.aud)) {
					form[k] = v
				}
			}
			if resp, body := f.postToken(t, form, nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("refresh: %d %v", resp.StatusCode, body)
			}

			// A server whose clients do not list the URL refuses it like
			// any unlisted client.
			wiki := exchangeForm(tok.IDToken())
			wiki.Set("client_id", r.id)
			wiki.Set("audience", "https://as.wiki.example")
			wiki.Set("resource", "https://mcp.wiki.example/mcp")
			wiki.Set("scope", "wiki.read")
			if r.aud != "" {
				for k, v := range assertionForm(f.docs.assertion(t, r.id, f.URL)) {
					wiki[k] = v
				}
			}
			if resp, body := f.postToken(t, wiki, nil); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_target" {
				t.Errorf("exchange for a server without the client: %d %v, want invalid_target", resp.StatusCode, body)
			}
			if n := f.docs.hitsOf(r.path); n != 1 {
				t.Errorf("the document was fetched %d times, want once (cached)", n)
			}
		})
	}
}

// TestCIMD_Discovery: the IdP says it accepts metadata document client_ids
// while cimd is enabled.
func TestCIMD_Discovery(t *testing.T) {
	f := startCIMD(t)
	for _, enabled := range []bool{true, false} {
		cfg := *f.Config()
		cfg.CIMD.Enabled = &enabled
		f.SetConfig(&cfg)
		resp, err := http.Get(f.URL + "/.well-known/oauth-authorization-server")
		if err != nil {
			t.Fatal(err)
		}
		var meta map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&meta)
		resp.Body.Close()
		if got := meta["client_id_metadata_document_supported"] == true; got != enabled {
			t.Errorf("enabled %v: client_id_metadata_document_supported %v", enabled, meta["client_id_metadata_document_supported"])
		}
	}
}

// TestCIMD_Refusals throws bad documents and URLs at the token exchange:
// each is refused invalid_client with a description naming the problem,
// audited with the URL as client_id. The refusal is remembered for a while
// (cimd.FailureCacheTTL): a second request gets the same answer without a
// fetch, so that requests cannot make the IdP fetch a bad URL again and
// again.
func TestCIMD_Refusals(t *testing.T) {
	f := startCIMD(t)
	d := f.docs
	raw := func(path, contentType, body string) string {
		return d.handle(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			_, _ = w.Write([]byte(body))
		})
	}
	none := map[string]any{"token_endpoint_auth_method": "none"}
	outside := strings.Replace(f.public, "127.0.0.1", "localhost", 1)
	rows := []struct {
		name, id, path string
		want           string // in error_description
		outcome        string
		fetches        int // requests a refused attempt makes to path
	}{
		{"not JSON", raw("/notjson.json", "application/json", "<html>"), "/notjson.json", "not a JSON object", audit.Error, 1},
		{"too big", raw("/big.json", "application/json", `{"client_id":"`+strings.Repeat("x", 6<<10)+`"}`), "/big.json", "larger than 5120 bytes", audit.Error, 1},
		{"redirecting", d.handle("/moved.json", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, f.public, http.StatusFound)
		}), "/moved.json", "redirects are not followed", audit.Error, 1},
		{"client_id mismatch", d.doc("/mismatch.json", none, func(m map[string]any) { m["client_id"] = f.public }), "/mismatch.json", "is not the URL it was fetched from", audit.Error, 1},
		{"missing redirect_uris", d.doc("/noredirect.json", none, func(m map[string]any) { delete(m, "redirect_uris") }), "/noredirect.json", "redirect_uris is missing", audit.Error, 1},
		{"a client_secret inside", d.doc("/secret.json", none, func(m map[string]any) { m["client_secret"] = "s" }), "/secret.json", "contains a client_secret", audit.Error, 1},
		{"unsupported auth method", d.doc("/basic.json", map[string]any{"token_endpoint_auth_method": "client_secret_basic"}, nil), "/basic.json", `token_endpoint_auth_method 'client_secret_basic' is not supported`, audit.Error, 1},
		{"jwks_uri 404", d.doc("/nokeys.json", map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": d.URL + "/missing-keys.json"}, nil), "/missing-keys.json", "HTTP 404", audit.Error, 1},
		{"outside the allow list", outside, "/public.json", "matches no allowed pattern", audit.Denied, 0},
		// A URI is ASCII (RFC 3986): a client_id with other characters is
		// fetched at another, encoded URL, and a host such as Cyrillic
		// "аррӏе" (xn--80ak6aa92e) would be shown on the login page as
		// if it were apple.
		{"a path that is not ASCII", d.doc("/é.json", none, nil), "/é.json", "is not printable ASCII", audit.Denied, 0},
		{"a host that is not ASCII", strings.Replace(f.public, "127.0.0.1", "аррӏе.example", 1), "/public.json", "is not printable ASCII", audit.Denied, 0},
	}
	idToken := f.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			before := d.hitsOf(r.path)
			var first string
			for attempt := 1; attempt <= 2; attempt++ {
				resp, body := f.exchange(t, idToken, r.id, nil)
				desc, _ := body["error_description"].(string)
				if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(desc, r.want) || !strings.Contains(desc, errdesc.ASCII(r.id)) {
					t.Fatalf("attempt %d: %d %v; want 401 invalid_client naming the URL and %q", attempt, resp.StatusCode, body, r.want)
				}
				if i := strings.IndexFunc(desc, func(r rune) bool { return r < 0x20 || r > 0x7e || r == '"' || r == '\\' }); i >= 0 {
					t.Errorf("error_description %q holds a character outside printable ASCII (RFC 6749 section 5.2)", desc)
				}
				if r.path == "/noredirect.json" && !strings.Contains(desc, "(RFC 7591 section 2)") {
					t.Errorf("error_description %q: want the citation's section sign written out, (RFC 7591 section 2)", desc)
				}
				if attempt == 1 {
					first = desc
				} else if desc != first {
					t.Errorf("second answer %q, want the first again: %q", desc, first)
				}
			}
			if got := d.hitsOf(r.path) - before; got != r.fetches {
				t.Errorf("%s fetched %d times in two attempts, want %d (a refusal is remembered for a while)", r.path, got, r.fetches)
			}
			evs := f.Audit.Query(audit.Filter{Type: audit.TypeTokenExchange, Client: r.id})
			if len(evs) != 2 || evs[0].Outcome != r.outcome || evs[0].Error != "invalid_client" || !strings.Contains(errdesc.ASCII(evs[0].Reason), r.want) {
				t.Errorf("audit events %+v; want 2 with outcome %s and the reason", evs, r.outcome)
			}
		})
	}
}

// TestCIMD_AuthorizeRefusals: at the authorization endpoint, a redirect_uri
// that is not in the document, and a document that does not resolve, get
// an error page, never a redirect, and a login event.
func TestCIMD_AuthorizeRefusals(t *testing.T) {
	f := startCIMD(t)
	broken := f.docs.doc("/broken.json", map[string]any{"token_endpoint_auth_method": "none"}, func(m map[string]any) { delete(m, "redirect_uris") })
	// A redirect URI with userinfo is one no request may use (redirect.go),
	// as the configuration refuses it in clients[].redirect_uris.
	userinfo := f.docs.doc("/userinfo.json", map[string]any{"token_endpoint_auth_method": "none", "redirect_uris": []string{"http://u:p@127.0.0.1/callback"}}, nil)
	notList := f.docs.doc("/notlist.json", map[string]any{"token_endpoint_auth_method": "none", "redirect_uris": "http://127.0.0.1/callback"}, nil)
	rows := []struct {
		name, id, redirect, code, want string
	}{
		{"redirect_uri not in the document", f.public, "http://evil.example/callback", "invalid_request", "is not registered for client"},
		{"document without redirect_uris", broken, "http://127.0.0.1/callback", "invalid_client", "redirect_uris is missing"},
		{"redirect_uris with userinfo", userinfo, "http://u:p@127.0.0.1/callback", "invalid_client", "redirect_uris has 'http://u:p@127.0.0.1/callback', with userinfo (user@)"},
		{"redirect_uris not a list", notList, "http://127.0.0.1/callback", "invalid_client", "redirect_uris is a string, not a list of strings"},
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			q := url.Values{"client_id": {r.id}, "redirect_uri": {r.redirect}, "response_type": {"code"}, "scope": {"openid"},
				"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}, "state": {"st"}}
			resp, err := hc.Get(f.URL + "/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			desc, _ := body["error_description"].(string)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != r.code || !strings.Contains(desc, r.want) {
				t.Fatalf("%d %v; want 400 %s with %q", resp.StatusCode, body, r.code, r.want)
			}
			evs := f.Audit.Query(audit.Filter{Type: audit.TypeLogin, Client: r.id})
			if len(evs) != 1 || evs[0].Outcome != audit.Error || !strings.Contains(errdesc.ASCII(evs[0].Reason), r.want) {
				t.Errorf("audit events %+v; want one login error with the reason", evs)
			}
		})
	}
}

// TestCIMD_SlowDocumentHoldsNoOneElse: a document server that does not
// answer costs its own request the 5 s limit and nobody else anything.
func TestCIMD_SlowDocumentHoldsNoOneElse(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 5 s fetch limit")
	}
	f := startCIMD(t)
	release := make(chan struct{})
	slow := f.docs.handle("/slow.json", func(http.ResponseWriter, *http.Request) { <-release })
	t.Cleanup(func() { close(release) }) // before the server closes
	idToken := f.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()

	type answer struct {
		status int
		body   map[string]any
		took   time.Duration
	}
	done := make(chan answer, 1)
	start := time.Now()
	go func() {
		form := exchangeForm(idToken)
		form.Set("client_id", slow)
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{}
			return
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		done <- answer{resp.StatusCode, body, time.Since(start)}
	}()
	for f.docs.hitsOf("/slow.json") == 0 {
		time.Sleep(10 * time.Millisecond)
	}

	began := time.Now()
	form := exchangeForm(idToken)
	form.Set("client_id", "mcp-client")
	form.Set("client_secret", "s1")
	if resp, body := f.postToken(t, form, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("configured client's exchange: %d %v", resp.StatusCode, body)
	}
	// Not a bound on how fast an exchange is: an exchange held behind the
	// hung fetch would end after the fetch's 5 s limit, which began after
	// start.
	if took := time.Since(start); took >= 5*time.Second {
		t.Errorf("the configured client's exchange ended %s after the hung fetch began, past its 5 s limit (it took %s)", took, time.Since(began))
	}

	var a answer
	select {
	case a = <-done:
	case <-time.After(60 * time.Second): // only a guard against a hang: the document never answers
		t.Fatal("the slow document's exchange was not answered within 60 s: the fetch limit did not end it")
	}
	desc, _ := a.body["error_description"].(string)
	if a.status != http.StatusUnauthorized || !strings.Contains(desc, "no answer within 5s") {
		t.Errorf("slow document: %d %v, want invalid_client saying no answer within 5s", a.status, a.body)
	}
	// Not before the 5 s limit (a busy machine only makes it later), and
	// after one fetch, not one per retry: work counted, not timed.
	if a.took < 5*time.Second {
		t.Errorf("slow document refused after %s, before the 5s limit", a.took)
	}
	if n := f.docs.hitsOf("/slow.json"); n != 1 {
		t.Errorf("the slow document was fetched %d times, want once", n)
	}
}

// TestCIMD_FaultMatchesADocumentClient: a fault's client may be the URL
// of a metadata document client. It fires for that client, public or
// authenticated by private_key_jwt, and for no other; a URL that cimd
// does not allow is refused with the reason.
func TestCIMD_FaultMatchesADocumentClient(t *testing.T) {
	f := startCIMD(t)
	for _, id := range []string{f.public, f.inline} {
		if _, err := f.AddFaults(policy.Fault{Match: policy.FaultMatch{Client: id}, Error: policy.FaultError{Code: "temporarily_unavailable", Description: "fault for " + id}}); err != nil {
			t.Fatalf("a fault for %s: %v", id, err)
		}
	}
	idToken := func(id string, opts idpclient.LoginOptions) string {
		t.Helper()
		opts.Issuer, opts.ClientID, opts.Username, opts.Password = f.URL, id, "alice", "alice-pw"
		tok, err := idpclient.Login(context.Background(), opts)
		if err != nil {
			t.Fatalf("login as %s: %v", id, err)
		}
		return tok.IDToken()
	}
	// The login's code grant is a token request too: the fault answers
	// it, for the public client and for the one with private_key_jwt.
	for _, r := range []struct{ id, assertion string }{{f.public, ""}, {f.inline, f.docs.assertion(t, f.inline, f.URL)}} {
		_, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: f.URL, ClientID: r.id, Username: "alice", Password: "alice-pw", ClientAssertion: r.assertion})
		if err == nil || !strings.Contains(err.Error(), "fault for "+r.id) {
			t.Errorf("%s's code grant: %v, want the fault", r.id, err)
		}
	}
	// The fault does not fire for the configured client, nor for the
	// document client it does not name.
	if resp, body := f.exchange(t, f.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken(), "mcp-client", url.Values{"client_secret": {"s1"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("mcp-client's exchange: %d %v", resp.StatusCode, body)
	}
	tok := idToken(f.indirect, idpclient.LoginOptions{ClientAssertion: f.docs.assertion(t, f.indirect, f.URL)})
	if resp, body := f.exchange(t, tok, f.indirect, assertionForm(f.docs.assertion(t, f.indirect, f.URL+"/oauth/token"))); resp.StatusCode != http.StatusOK {
		t.Errorf("%s's exchange: %d %v", f.indirect, resp.StatusCode, body)
	}

	// Removing the faults lets the document clients through; putting one
	// back on the exchange only shows it fires there too.
	f.ClearFaults()
	pub := idToken(f.public, idpclient.LoginOptions{})
	if _, err := f.AddFaults(policy.Fault{Match: policy.FaultMatch{Client: f.public, GrantType: policy.FaultGrantTokenExchange}, Error: policy.FaultError{Code: "temporarily_unavailable", Description: "exchange fault"}}); err != nil {
		t.Fatal(err)
	}
	if resp, body := f.exchange(t, pub, f.public, nil); resp.StatusCode != http.StatusServiceUnavailable || body["error_description"] != "exchange fault" {
		t.Errorf("the public document client's exchange: %d %v, want the fault", resp.StatusCode, body)
	}

	outside := strings.Replace(f.public, "127.0.0.1", "localhost", 1)
	if _, err := f.AddFaults(policy.Fault{Match: policy.FaultMatch{Client: outside}, HTTPStatus: http.StatusBadGateway}); err == nil || !strings.Contains(err.Error(), "matches no cimd.allow pattern") {
		t.Errorf("a fault for a URL outside cimd.allow: %v", err)
	}
}

// TestCIMD_LoginPageNamesTheDocumentsHost: a metadata document client
// names itself, so its client_name may be anything, another client's
// name or the console's included. The login page leads with the host
// its client_id URL is on, which the client cannot choose, and says
// whose claim the name is (draft-ietf-oauth-client-id-metadata-document,
// Security Considerations). A configured client's name stays as it is.
func TestCIMD_LoginPageNamesTheDocumentsHost(t *testing.T) {
	f := startCIMD(t)
	impostor := f.docs.doc("/impostor.json", map[string]any{"token_endpoint_auth_method": "none", "client_name": "xaa-idp admin console"}, nil)
	host := strings.TrimPrefix(f.docs.URL, "http://")
	loginPage := func(clientID string) string {
		t.Helper()
		q := url.Values{"client_id": {clientID}, "redirect_uri": {"http://127.0.0.1/callback"}, "response_type": {"code"}, "scope": {"openid"},
			"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}, "state": {"st"}}
		resp, err := http.Get(f.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
			t.Fatalf("authorize as %s led to %s: %d\n%s", clientID, resp.Request.URL, resp.StatusCode, body)
		}
		return string(body)
	}

	page := loginPage(impostor)
	for _, want := range []string{
		`to continue to <strong id="client-host">` + host + `</strong>`,
		`which calls itself <q><bdi>xaa-idp admin console</bdi></q>`,
		"not registered with this IdP",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the login page for %s lacks %q:\n%s", impostor, want, page)
		}
	}
	if strings.Contains(page, "to continue to <strong><bdi>xaa-idp admin console</bdi></strong>") || strings.Contains(page, "to continue to <strong>xaa-idp admin console</strong>") {
		t.Errorf("the login page presents the document's client_name as the client:\n%s", page)
	}

	page = loginPage("mcp-client")
	if !strings.Contains(page, "to continue to <strong><bdi>mcp-client</bdi></strong>") || strings.Contains(page, "not registered") {
		t.Errorf("the login page for a configured client:\n%s", page)
	}
}

// TestCIMD_KeyClientWithoutAssertion: a private_key_jwt document client
// that sends no client_assertion, at the token exchange and at the code
// and refresh grants, is told to send one: not to use a client_secret it
// cannot have (a document holds none), nor that private_key_jwt is "not
// allowed" (op's words). The code survives the refusal, for the request
// that authenticates.
func TestCIMD_KeyClientWithoutAssertion(t *testing.T) {
	f := startCIMD(t)
	refused := func(t *testing.T, what string, resp *http.Response, body map[string]any) {
		t.Helper()
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(desc, "authenticates with private_key_jwt") || strings.Contains(desc, "client_secret") {
			t.Errorf("%s: %d %v; want 401 invalid_client asking for a client_assertion", what, resp.StatusCode, body)
		}
	}
	idToken := f.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	resp, body := f.exchange(t, idToken, f.inline, nil)
	refused(t, "token exchange", resp, body)

	verifier, challenge := pkce()
	q := authParams("http://127.0.0.1/callback", challenge)
	q.Set("client_id", f.inline)
	q.Set("scope", "openid offline_access")
	res := newBrowser(f.testIdP).authorize(t, q, "alice", "alice-pw")
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no code: %+v", res)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {res.location.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1/callback"}, "code_verifier": {verifier}, "client_id": {f.inline}}
	resp, body = f.postToken(t, form, nil)
	refused(t, "code grant", resp, body)
	for k, v := range assertionForm(f.docs.assertion(t, f.inline, f.URL)) {
		form[k] = v
	}
	resp, body = f.postToken(t, form, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("code grant with the assertion after a refusal: %d %v", resp.StatusCode, body)
	}
	rt, _ := body["refresh_token"].(string)
	resp, body = f.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {f.inline}}, nil)
	refused(t, "refresh grant", resp, body)
}
