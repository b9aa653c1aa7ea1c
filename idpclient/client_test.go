package idpclient_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// fakeIdP is a minimal IdP that a test bends into a hostile or broken
// one: discovery, an authorization endpoint that redirects to a login
// form, the form's POST that redirects to the client with a code, and a
// token endpoint. Each handler can be replaced.
type fakeIdP struct {
	srv *httptest.Server
	// meta edits the discovery document before it is served.
	meta func(m map[string]any)
	// token answers the token endpoint; nil: a fixed token response.
	token http.HandlerFunc
	// iss, when set, is added to the authorization response (RFC 9207).
	iss func() string

	mu    sync.Mutex
	forms []url.Values // every form posted to the token endpoint
}

func newFakeIdP(t *testing.T, tls bool) *fakeIdP {
	t.Helper()
	f := &fakeIdP{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		m := map[string]any{
			"issuer":                 f.srv.URL,
			"authorization_endpoint": f.srv.URL + "/authorize",
			"token_endpoint":         f.srv.URL + "/token",
		}
		if f.meta != nil {
			f.meta(m)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login?authRequestID="+url.QueryEscape(r.URL.Query().Get("redirect_uri")+"|"+r.URL.Query().Get("state")), http.StatusFound)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`<form method="post"><input name="username"><input name="password" type="password"></form>`))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		redirect, state, _ := strings.Cut(r.FormValue("authRequestID"), "|")
		back := redirect + "?code=the-code&state=" + url.QueryEscape(state)
		if f.iss != nil {
			back += "&iss=" + url.QueryEscape(f.iss())
		}
		http.Redirect(w, r, back, http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		f.mu.Unlock()
		if f.token != nil {
			f.token(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","id_token":"a.b.c"}`))
	})
	if tls {
		f.srv = httptest.NewTLSServer(mux)
	} else {
		f.srv = httptest.NewServer(mux)
	}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIdP) posted() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...)
}

func (f *fakeIdP) login(ctx context.Context) (idpclient.Tokens, error) {
	return idpclient.Login(ctx, idpclient.LoginOptions{
		Issuer: f.srv.URL, ClientID: "c", ClientSecret: "the-client-secret",
		Username: "alice", Password: "the-password", HTTPClient: f.srv.Client(),
	})
}

func TestLogin_AgainstTheFake(t *testing.T) {
	f := newFakeIdP(t, false)
	tok, err := f.login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.IDToken() != "a.b.c" {
		t.Errorf("tokens %v", tok)
	}
	if p := f.posted(); len(p) != 1 || p[0].Get("code") != "the-code" || p[0].Get("client_secret") != "the-client-secret" {
		t.Errorf("token endpoint saw %v", p)
	}
}

// TestLogin_IssParameter: the authorization response's iss is checked
// before its code is redeemed (RFC 9207 section 2.4): it must be the
// issuer discovered, and must be there when discovery announces it.
func TestLogin_IssParameter(t *testing.T) {
	for _, c := range []struct {
		name      string
		announced bool
		iss       string // "issuer": the fake's own
		wantErr   string
	}{
		{"announced and sent", true, "issuer", ""},
		{"announced, missing", true, "", "has no iss"},
		{"another issuer", true, "https://attacker.example", `comes from issuer "https://attacker.example"`},
		{"not announced, another issuer", false, "https://attacker.example", "comes from issuer"},
		{"not announced, sent", false, "issuer", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeIdP(t, false)
			f.meta = func(m map[string]any) { m["authorization_response_iss_parameter_supported"] = c.announced }
			if c.iss != "" {
				f.iss = func() string {
					if c.iss == "issuer" {
						return f.srv.URL
					}
					return c.iss
				}
			}
			_, err := f.login(context.Background())
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one saying %q", err, c.wantErr)
			}
			if p := f.posted(); len(p) != 0 {
				t.Errorf("the code went to the token endpoint: %v", p)
			}
		})
	}
}

// recorder is a server that records what reaches it.
func recorder(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.PostForm.Encode())
		mu.Unlock()
		if r.URL.Path == "/login" {
			_, _ = w.Write([]byte(`<input name="password">`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

func TestTokenEndpoint_RedirectIsNotFollowedWithTheCredentials(t *testing.T) {
	other, seen := recorder(t)
	f := newFakeIdP(t, false)
	f.token = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
	}
	_, err := f.login(context.Background())
	if err == nil || !strings.Contains(err.Error(), "307") {
		t.Errorf("a token endpoint that redirects: %v, want an error naming the 307", err)
	}
	if s := seen(); len(s) > 0 {
		t.Errorf("the token endpoint's 307 was followed to another origin, credentials and all: %q", s)
	}
	_, err = idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{
		Issuer: f.srv.URL, ClientID: "c", ClientSecret: "the-client-secret", SubjectToken: "x.y.z", Audience: "a", HTTPClient: f.srv.Client(),
	})
	if err == nil || len(seen()) > 0 {
		t.Errorf("exchange: %v; the other origin saw %q", err, seen())
	}
}

func TestHTTPSIssuer_CredentialsNeverGoOverPlainHTTP(t *testing.T) {
	t.Run("token endpoint", func(t *testing.T) {
		plain, seen := recorder(t)
		f := newFakeIdP(t, true)
		f.meta = func(m map[string]any) { m["token_endpoint"] = plain.URL + "/token" }
		if _, err := f.login(context.Background()); err == nil || !strings.Contains(err.Error(), "https") {
			t.Errorf("login: %v, want an error saying the endpoint is not https", err)
		}
		_, err := idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{
			Issuer: f.srv.URL, ClientID: "c", ClientSecret: "the-client-secret", SubjectToken: "x.y.z", Audience: "a", HTTPClient: f.srv.Client(),
		})
		if err == nil {
			t.Error("exchange through an http token endpoint of an https issuer succeeded")
		}
		if s := seen(); len(s) > 0 {
			t.Errorf("the client secret went over plain http: %q", s)
		}
	})
	t.Run("authorization endpoint", func(t *testing.T) {
		plain, seen := recorder(t)
		f := newFakeIdP(t, true)
		f.meta = func(m map[string]any) { m["authorization_endpoint"] = plain.URL + "/login" }
		if _, err := f.login(context.Background()); err == nil {
			t.Error("login through an http authorization endpoint of an https issuer succeeded")
		}
		if s := seen(); len(s) > 0 {
			t.Errorf("the login went over plain http: %q", s)
		}
	})
	t.Run("login redirect", func(t *testing.T) {
		plain, seen := recorder(t)
		f := newFakeIdP(t, true)
		f.meta = func(m map[string]any) { m["authorization_endpoint"] = f.srv.URL + "/go-plain" }
		f.srv.Config.Handler.(*http.ServeMux).HandleFunc("/go-plain", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, plain.URL+"/login", http.StatusFound)
		})
		if _, err := f.login(context.Background()); err == nil || !strings.Contains(err.Error(), "http:") {
			t.Errorf("login: %v, want an error naming the redirect to http", err)
		}
		for _, s := range seen() {
			if strings.Contains(s, "the-password") {
				t.Errorf("the password went over plain http: %q", s)
			}
		}
	})
	t.Run("discovery redirect", func(t *testing.T) {
		// A network attacker answers the plain request with a document that
		// names the https issuer and endpoints of its own.
		var issuer string
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "token_endpoint": issuer + "/token"})
		}))
		t.Cleanup(evil.Close)
		tlsIssuer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusMovedPermanently)
		}))
		t.Cleanup(tlsIssuer.Close)
		issuer = tlsIssuer.URL
		if m, err := idpclient.Discover(context.Background(), tlsIssuer.Client(), issuer); err == nil {
			t.Errorf("discovery through a redirect to http gave %+v", m)
		}
	})
}

func TestLogin_AnUnexpectedPageIsQuotedBriefly(t *testing.T) {
	f := newFakeIdP(t, false)
	f.meta = func(m map[string]any) { m["authorization_endpoint"] = f.srv.URL + "/big" }
	f.srv.Config.Handler.(*http.ServeMux).HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>" + strings.Repeat("<div>proxy error</div>", 40000)))
	})
	_, err := f.login(context.Background())
	if err == nil || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "proxy error") {
		t.Fatalf("err %v, want the 502 and the start of the page", err)
	}
	if n := len(err.Error()); n > 1024 {
		t.Errorf("the error quotes %d bytes of the page: a screenful of HTML hides the status", n)
	}
}

func TestAssignedServers_AnErrorPageIsQuotedBriefly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(strings.Repeat("stack trace line\n", 1000)))
	}))
	t.Cleanup(srv.Close)
	_, err := idpclient.AssignedServers(context.Background(), srv.Client(), srv.URL, "at")
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err %v, want the 500", err)
	}
	if n := len(err.Error()); n > 1024 {
		t.Errorf("the error quotes %d bytes of the page", n)
	}
}

func TestLogin_ALongRefusalIsQuotedBriefly(t *testing.T) {
	f := newFakeIdP(t, false)
	f.meta = func(m map[string]any) { m["authorization_endpoint"] = f.srv.URL + "/refuse" }
	f.srv.Config.Handler.(*http.ServeMux).HandleFunc("/refuse", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(`<input name="password">`))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`<p role="alert">` + strings.Repeat("no. ", 100000) + `</p>`))
	})
	_, err := f.login(context.Background())
	if err == nil || !strings.Contains(err.Error(), "login refused: no. no.") {
		t.Fatalf("err %.200v, want the refusal", err)
	}
	if n := len(err.Error()); n > 1024 {
		t.Errorf("the error quotes %d bytes of the alert", n)
	}
}

func TestDiscover_IssuerWithATrailingSlash(t *testing.T) {
	// Auth0's issuer is "https://TENANT.auth0.com/": the discovery URL drops
	// the slash (OIDC Discovery section 4.1), the comparison keeps it.
	f := newFakeIdP(t, false)
	f.meta = func(m map[string]any) { m["issuer"] = f.srv.URL + "/" }
	if _, err := idpclient.Discover(context.Background(), f.srv.Client(), f.srv.URL+"/"); err != nil {
		t.Errorf("issuer %s/ as given: %v", f.srv.URL, err)
	}
	if _, err := idpclient.Discover(context.Background(), f.srv.Client(), f.srv.URL); err == nil || !strings.Contains(err.Error(), "trailing slash") {
		t.Errorf("issuer given without its slash: %v, want a refusal that says to add it", err)
	}
	f.meta = func(m map[string]any) { m["issuer"] = "https://other.example" }
	if _, err := idpclient.Discover(context.Background(), f.srv.Client(), f.srv.URL); err == nil {
		t.Error("another issuer's metadata was accepted")
	}
}

func TestTokenEndpoint_ASuccessWithoutAnAccessTokenIsAnError(t *testing.T) {
	for _, body := range []string{`{}`, `null`, `{"access_token":""}`, `{"access_token":42}`, `{"error":"server_error"}`} {
		f := newFakeIdP(t, false)
		f.token = func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}
		if tok, err := f.login(context.Background()); err == nil {
			t.Errorf("login, token endpoint 200 %s: tokens %v, want an error (RFC 6749 section 5.1: access_token is required)", body, tok)
		}
		if tok, err := idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{
			Issuer: f.srv.URL, ClientID: "c", SubjectToken: "x.y.z", Audience: "a", HTTPClient: f.srv.Client(),
		}); err == nil {
			t.Errorf("exchange, token endpoint 200 %s: %v, want an error (RFC 8693 section 2.2.1)", body, tok)
		}
	}
}

func TestTokenEndpoint_AnErrorWithoutAnOAuthCodeSaysTheStatus(t *testing.T) {
	f := newFakeIdP(t, false)
	f.token = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"message":"upstream down"}`))
	}
	_, err := idpclient.Exchange(context.Background(), idpclient.ExchangeOptions{
		Issuer: f.srv.URL, ClientID: "c", SubjectToken: "x.y.z", Audience: "a", HTTPClient: f.srv.Client(),
	})
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("err %q, want one that names the 502", err)
	}
}
