package idp_test

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/errdesc"
)

// wirePieces are what random parameter values are made of: quotes,
// backslashes, controls, bidi overrides, look-alike letters, bytes that are
// not UTF-8, percent signs, and values the IdP knows, so that a request
// gets past the first checks.
var wirePieces = []string{
	`"`, `\`, `'`, "\x00", "\n", "\x7f", "\u202e", "а", "ａ", "😀", "\xff", "\xc3", "%zz", "§", "…",
	"mcp-client", "s1", "chat", "https://as.chat.example", "https://mcp.chat.example/mcp", "chat.read",
	"openid", "code", "S256", "http://127.0.0.1/callback", "urn:ietf:params:oauth:token-type:id_token",
	"urn:ietf:params:oauth:grant-type:token-exchange", "x", " ",
}

func randomValue(rng *rand.Rand) string {
	var b strings.Builder
	for range 1 + rng.IntN(4) {
		if rng.IntN(8) == 0 {
			b.WriteByte(byte(rng.IntN(256)))
			continue
		}
		b.WriteString(wirePieces[rng.IntN(len(wirePieces))])
	}
	return b.String()
}

// randomForm sets each name to a random value, a known one or nothing.
func randomForm(rng *rand.Rand, known url.Values) url.Values {
	form := url.Values{}
	for name, vs := range known {
		switch rng.IntN(4) {
		case 0:
		case 1:
			form.Set(name, vs[rng.IntN(len(vs))])
		default:
			form.Set(name, randomValue(rng))
		}
	}
	return form
}

// checkWireDescriptions fails unless every error_description of resp (JSON
// body, Location query or fragment, WWW-Authenticate challenge) is in the
// RFC 6749 section 5.2 set.
func checkWireDescriptions(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		if d, ok := m["error_description"].(string); ok && !errdesc.Valid(d) {
			t.Fatalf("%s: HTTP %d error_description %q is outside the RFC 6749 section 5.2 set", what, resp.StatusCode, d)
		}
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("%s: Location %q: %v", what, loc, err)
		}
		f, _ := url.ParseQuery(u.Fragment)
		for _, d := range append(u.Query()["error_description"], f["error_description"]...) {
			if !errdesc.Valid(d) {
				t.Fatalf("%s: redirect's error_description %q is outside the RFC 6749 section 5.2 set", what, d)
			}
		}
	}
	for _, c := range resp.Header.Values("WWW-Authenticate") {
		if strings.Contains(c, `\`) {
			t.Fatalf("%s: challenge %q holds a backslash", what, c)
		}
		if _, rest, ok := strings.Cut(c, `error_description="`); ok {
			d, after, _ := strings.Cut(rest, `"`)
			if !errdesc.Valid(d) || (after != "" && !strings.HasPrefix(after, ",")) {
				t.Fatalf("%s: challenge %q: its error_description is outside the RFC 6750 section 3 set", what, c)
			}
		}
	}
}

// TestErrorDescriptions_InTheRFCSet throws random values (quotes,
// backslashes, controls, unicode, stray bytes) in every parameter of every
// endpoint, over HTTP: every error_description on the wire is printable
// ASCII without '"' and '\' (RFC 6749 sections 5.2 and 4.1.2.1, RFC 6750
// section 3).
func TestErrorDescriptions_InTheRFCSet(t *testing.T) {
	p := startConformanceIdP(t)
	tok := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access")
	idToken, refresh := tok.IDToken(), tok.RefreshToken()
	accessToken, _ := tok["access_token"].(string)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(what string, req *http.Request) {
		t.Helper()
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		checkWireDescriptions(t, what, resp)
	}
	post := func(rng *rand.Rand, path string, form url.Values, bearer string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		switch rng.IntN(3) {
		case 0:
			req.SetBasicAuth(url.QueryEscape(randomValue(rng)), url.QueryEscape(randomValue(rng)))
		case 1:
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			} else {
				req.SetBasicAuth("mcp-client", "s1")
			}
		}
		return req
	}
	token := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange", "authorization_code", "refresh_token",
			"client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"client_id": {"mcp-client", "pub-client", "other-client", "https://app.example/client.json"}, "client_secret": {"s1"},
		"audience": {"https://as.chat.example", "urn:example:chat", "https://as.vault.example"},
		"resource": {"https://mcp.chat.example/mcp"}, "scope": {"chat.read", "openid"},
		"subject_token": {idToken, refresh}, "subject_token_type": {"urn:ietf:params:oauth:token-type:id_token", "urn:ietf:params:oauth:token-type:refresh_token"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
		"code":                 {"x"}, "code_verifier": {"x"}, "redirect_uri": {"http://127.0.0.1/callback"}, "refresh_token": {refresh},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"a.b.c"},
		"actor_token": {"x"}, "actor_token_type": {"x"},
	}
	authorize := url.Values{
		"client_id": {"mcp-client", "pub-client", "https://app.example/client.json"}, "redirect_uri": {"http://127.0.0.1/callback", "https://app.example/cb"},
		"response_type": {"code"}, "scope": {"openid", "openid offline_access"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256", "plain"},
		"prompt": {"none", "login"}, "max_age": {"0", "60"}, "id_token_hint": {idToken}, "resource": {"https://mcp.chat.example/mcp"},
		"response_mode": {"query", "fragment"}, "request_uri": {"x"}, "request": {"x"},
	}
	tokenParam := url.Values{"token": {accessToken, refresh, idToken}, "token_type_hint": {"access_token", "refresh_token"},
		"client_id": {"mcp-client", "pub-client"}, "client_secret": {"s1"}}
	endSession := url.Values{"id_token_hint": {idToken}, "client_id": {"mcp-client"}, "post_logout_redirect_uri": {"http://127.0.0.1/callback"}, "state": {"s"}}
	rng := rand.New(rand.NewPCG(24, 5))
	for i := range 3000 {
		switch i % 8 {
		case 0, 1:
			do("token", post(rng, "/oauth/token", randomForm(rng, token), ""))
		case 2:
			req, _ := http.NewRequest(http.MethodGet, p.URL+"/authorize?"+randomForm(rng, authorize).Encode(), nil)
			do("authorize", req)
		case 3:
			do("revoke", post(rng, "/revoke", randomForm(rng, tokenParam), ""))
		case 4:
			do("introspect", post(rng, "/oauth/introspect", randomForm(rng, tokenParam), ""))
		case 5:
			form := url.Values{}
			if rng.IntN(2) == 0 {
				form.Set("access_token", randomValue(rng))
			}
			do("userinfo", post(rng, "/userinfo", form, accessToken))
		case 6:
			b, _ := json.Marshal(map[string]any{"server": randomValue(rng), "scopes": []string{randomValue(rng), "chat.read"}, "reason": randomValue(rng)})
			body := string(b)
			if rng.IntN(3) == 0 {
				body = randomValue(rng)
			}
			for _, path := range []string{"/me/access-requests", "/me/mcp-servers"} {
				req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if rng.IntN(4) > 0 {
					req.Header.Set("Authorization", "Bearer "+accessToken)
				}
				do(path, req)
			}
		case 7:
			req, _ := http.NewRequest(http.MethodGet, p.URL+"/end_session?"+randomForm(rng, endSession).Encode(), nil)
			do("end_session", req)
		}
	}
}

// TestAssignedServers_DescriptionsInTheRFCSet: /me/mcp-servers tells why
// a server is refused with the token endpoint's error_description, in the
// RFC 6749 section 5.2 set: it carried the policy's text, quotes and all.
func TestAssignedServers_DescriptionsInTheRFCSet(t *testing.T) {
	p := startConformanceIdP(t)
	at, _ := p.login(t, "mcp-client", "s1", "bob", "bob-pw", "openid")["access_token"].(string)
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/me/mcp-servers", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Servers []struct {
			ID          string `json:"id"`
			Description string `json:"error_description"`
		} `json:"mcp_servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %v", resp.StatusCode, err)
	}
	refused := 0
	for _, s := range body.Servers {
		if s.Description == "" {
			continue
		}
		refused++
		if !errdesc.Valid(s.Description) {
			t.Errorf("%s: error_description %q is outside the RFC 6749 section 5.2 set", s.ID, s.Description)
		}
	}
	if refused == 0 {
		t.Fatalf("no server refused bob: %+v", body.Servers)
	}
}
