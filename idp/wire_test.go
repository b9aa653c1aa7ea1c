package idp_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTokenEndpoint_WireFormat pins what the token endpoint sends, over
// a real connection: status, headers (but Date) and body, byte for byte,
// for an ID-JAG exchange in each of the ways a client may send it and for
// the refusals of every step before and after the grant (the ID-JAG and
// the values that change per run masked), in
// testdata/token-wire.golden. The token path is written by hand for speed
// (tokenform.go, exchangeResponse.AppendJSON, heldResponse.holdJSON);
// this is the answer encoding/json, url.Values and Header.Set gave before.
// XAA_UPDATE_GOLDEN=1 rewrites the file.
func TestTokenEndpoint_WireFormat(t *testing.T) {
	p := startConformanceIdP(t)
	// Stopped at a whole second: the step-up refusal names the login's
	// age, which a running clock made 10m or 10m1s by where in its second
	// the login fell (auth_time has whole seconds).
	at := time.Now().Truncate(time.Second)
	p.Clock().Freeze()
	p.Clock().Set(at)
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid").IDToken()
	refresh := p.login(t, "mcp-client", "s1", "alice", "alice-pw", "openid", "offline_access").RefreshToken()
	exchange := func(edit func(url.Values)) string {
		form := exchangeForm(idToken)
		form.Set("client_id", "mcp-client")
		form.Set("client_secret", "s1")
		if edit != nil {
			edit(form)
		}
		return form.Encode()
	}
	const form = "application/x-www-form-urlencoded"
	type request struct {
		name, method, query, contentType, body string
		header                                 http.Header
		clock                                  time.Duration
	}
	basic := func(id, secret string) http.Header {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		r.SetBasicAuth(id, secret)
		return r.Header
	}
	cases := []request{
		{name: "exchange", body: exchange(nil)},
		{name: "exchange, charset", contentType: form + ";charset=UTF-8", body: exchange(nil)},
		{name: "exchange, query", query: "?x=1", body: exchange(nil)},
		{name: "exchange, empty values", body: exchange(nil) + "&code=&actor_token=&actor_token_type="},
		{name: "exchange, many parameters", body: exchange(nil) + strings.Repeat("&x=", 20)},
		{name: "exchange, Basic", body: exchange(func(f url.Values) { f.Del("client_secret") }), header: basic("mcp-client", "s1")},
		{name: "exchange, CORS", body: exchange(nil), header: http.Header{"Origin": {"https://app.example"}}},
		{name: "exchange, files", body: exchange(func(f url.Values) {
			f.Set("audience", "https://as.files.example")
			f.Set("resource", "https://mcp.files.example/mcp")
			f.Set("scope", "files.read files.write")
		})},
		{name: "exchange, refresh token", body: exchange(func(f url.Values) {
			f.Set("subject_token", refresh)
			f.Set("subject_token_type", "urn:ietf:params:oauth:token-type:refresh_token")
		})},
		{name: "GET", method: http.MethodGet},
		{name: "GET, bad query", method: http.MethodGet, query: "?%zz"},
		{name: "JSON body", contentType: "application/json", body: `{"grant_type":"x"}`},
		{name: "no Content-Type", contentType: "-", body: exchange(nil)},
		{name: "duplicate charset", contentType: form + "; charset=utf-8; charset=latin1", body: exchange(nil)},
		{name: "bad escape", body: "%zz=%"},
		{name: "semicolon", body: "grant_type=x;y=z"},
		{name: "too large", body: "grant_type=x&pad=" + strings.Repeat("a", 64<<10)},
		{name: "bad query", query: "?%zz", body: exchange(nil)},
		{name: "no grant_type", body: "client_id=mcp-client"},
		{name: "bogus grant_type", body: exchange(func(f url.Values) { f.Set("grant_type", "bogus") })},
		{name: "grant_type twice", body: exchange(nil) + "&grant_type=x"},
		{name: "client_id twice, code grant", body: "grant_type=authorization_code&code=x&client_id=a&client_id=b"},
		{name: "code grant, bad code", body: "grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&client_id=mcp-client&client_secret=s1"},
		{name: "refresh grant, bad token", body: "grant_type=refresh_token&refresh_token=x&client_id=mcp-client&client_secret=s1"},
		{name: "wrong secret", body: exchange(func(f url.Values) { f.Set("client_secret", "nope") })},
		{name: "wrong secret, Basic", body: exchange(func(f url.Values) { f.Del("client_secret") }), header: basic("mcp-client", "nope")},
		{name: "two auth methods", body: exchange(nil), header: basic("mcp-client", "s1")},
		{name: "unknown client", body: exchange(func(f url.Values) { f.Set("client_id", "nobody") })},
		{name: "audience twice", body: exchange(nil) + "&audience=urn%3Aexample%3Achat"},
		{name: "resource twice", body: exchange(nil) + "&resource=https%3A%2F%2Fmcp.chat.example%2Fother"},
		{name: "no requested_token_type", body: exchange(func(f url.Values) { f.Del("requested_token_type") })},
		{name: "access token requested", body: exchange(func(f url.Values) {
			f.Set("requested_token_type", "urn:ietf:params:oauth:token-type:access_token")
		})},
		{name: "no subject_token", body: exchange(func(f url.Values) { f.Del("subject_token") })},
		{name: "SAML subject", body: exchange(func(f url.Values) {
			f.Set("subject_token_type", "urn:ietf:params:oauth:token-type:saml2")
		})},
		{name: "actor_token alone", body: exchange(func(f url.Values) { f.Set("actor_token", "x") })},
		{name: "garbage subject_token", body: exchange(func(f url.Values) { f.Set("subject_token", "a.b.c") })},
		{name: "unknown audience", body: exchange(func(f url.Values) { f.Set("audience", "https://nowhere.example") })},
		{name: "scope not allowed", body: exchange(func(f url.Values) { f.Set("scope", "chat.admin") })},
		{name: "step-up", clock: 10 * time.Minute, body: exchange(func(f url.Values) {
			f.Set("audience", "https://as.vault.example")
			f.Set("resource", "https://mcp.vault.example/mcp")
			f.Set("scope", "vault.read")
		})},
		{name: "expired subject_token", clock: 2 * time.Hour, body: exchange(nil)},
	}
	jag := regexp.MustCompile(`"access_token":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"`)
	var out bytes.Buffer
	for _, c := range cases {
		method := c.method
		if method == "" {
			method = http.MethodPost
		}
		req, err := http.NewRequest(method, p.URL+"/oauth/token"+c.query, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		switch c.contentType {
		case "":
			req.Header.Set("Content-Type", form)
		case "-":
		default:
			req.Header.Set("Content-Type", c.contentType)
		}
		for k, v := range c.header {
			req.Header[k] = v
		}
		p.Clock().Set(at.Add(c.clock))
		resp, err := http.DefaultClient.Do(req)
		p.Clock().Set(at)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		body = jag.ReplaceAll(body, []byte(`"access_token":"<ID-JAG>"`))
		fmt.Fprintf(&out, "== %s\n%s\n", c.name, resp.Status)
		keys := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			if k != "Date" {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&out, "%s: %q\n", k, resp.Header[k])
		}
		fmt.Fprintf(&out, "%s\n", body)
	}
	got := strings.ReplaceAll(out.String(), p.URL, "<issuer>")
	got = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`).ReplaceAllString(got, "<time>")
	// A Content-Length is as long as the ID-JAG, whose kid, jti and
	// signature vary in length.
	got = regexp.MustCompile(`(?m)^(== exchange.*\n200 OK\n(?:.*\n)*?Content-Length: )\["\d+"\]`).ReplaceAllString(got, `$1["<n>"]`)
	const golden = "testdata/token-wire.golden"
	if os.Getenv("XAA_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (XAA_UPDATE_GOLDEN=1 writes it)", err)
	}
	if got != string(want) {
		t.Errorf("the token endpoint's answers differ from %s:\n%s", golden, diffLines(string(want), got))
	}
}

// diffLines lists the lines of got that differ from want, with their
// case's header line.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	section := ""
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if strings.HasPrefix(gl, "== ") {
			section = gl
		}
		if wl != gl {
			fmt.Fprintf(&b, "%s\n- %s\n+ %s\n", section, wl, gl)
		}
	}
	return b.String()
}
