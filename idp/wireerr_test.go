package idp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/xaa-idp/xaa-idp/internal/errdesc"
)

// TestOPErrors_DescriptionsInTheRFCSet: an error op writes (its JSON error,
// an error redirect), whose description quotes a value the client sent
// (as the storage's refusals do: client_id %q), leaves in the RFC 6749
// section 5.2 set through the writer every op handler gets.
func TestOPErrors_DescriptionsInTheRFCSet(t *testing.T) {
	const value = "a\"b\\c\u202e\xff"
	opHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			q := url.Values{"error": {"invalid_request"}, "error_description": {"client_id " + value}, "state": {value}}
			http.Redirect(w, r, "http://127.0.0.1/callback?"+q.Encode(), http.StatusFound)
			return
		}
		op.RequestError(w, r, oidc.ErrInvalidClient().WithDescription("client_id %q is not registered at this IdP", value), nil)
	})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ow := &opErrors{ResponseWriter: w}
		opHandler.ServeHTTP(ow, r)
		ow.finish()
	}))
	defer ts.Close()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := hc.Get(ts.URL + "/json")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := "client_id 'aU+0022bU+005CcU+202EU+FFFD' is not registered at this IdP"
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || body["error_description"] != want {
		t.Errorf("JSON error: HTTP %d %v, want 401 invalid_client with %q", resp.StatusCode, body, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("JSON error: Content-Type %q", ct)
	}

	resp, err = hc.Get(ts.URL + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if d := q.Get("error_description"); !errdesc.Valid(d) || d != "client_id a'bU+005CcU+202EU+FFFD" {
		t.Errorf("redirect's error_description %q", d)
	}
	if q.Get("state") != value || q.Get("error") != "invalid_request" {
		t.Errorf("redirect's other parameters changed: %v", q)
	}
}
