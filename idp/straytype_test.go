package idp_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestStrayAssertionType_IgnoredAtEveryGrant: a client_assertion_type
// without a client_assertion, beside a client's secret, is ignored by the
// token exchange and introspection, which authenticate the secret. The
// code and refresh grants and revocation, which zitadel serves, took it
// for a client assertion and answered 400 invalid_request "parsing of
// request failed: token contains an invalid number of segments". Every
// endpoint now ignores it alike.
func TestStrayAssertionType_IgnoredAtEveryGrant(t *testing.T) {
	p := startConformanceIdP(t)
	stray := func(form url.Values) url.Values {
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		return form
	}
	verifier, challenge := pkce()
	res := newBrowser(p).authorize(t, authParams(callback, challenge), "alice", "alice-pw")
	if res.location == nil || res.location.Query().Get("code") == "" {
		t.Fatalf("no code: %+v", res)
	}
	resp, tok := p.postToken(t, stray(url.Values{"grant_type": {"authorization_code"}, "code": {res.location.Query().Get("code")},
		"redirect_uri": {callback}, "code_verifier": {verifier}}), basicS1)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("code grant with a stray client_assertion_type: %d %v, want tokens", resp.StatusCode, tok)
	}
	resp, body := p.postToken(t, stray(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}), basicS1)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh grant with a stray client_assertion_type: %d %v, want tokens", resp.StatusCode, body)
	}
	resp, xbody := p.postToken(t, stray(exchangeForm(body["id_token"].(string))), basicS1)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token exchange with a stray client_assertion_type: %d %v, want an ID-JAG", resp.StatusCode, xbody)
	}
	postJSON(t, p.URL+"/revoke", stray(url.Values{"token": {body["refresh_token"].(string)}}), basicS1, http.StatusOK)
	resp, body = p.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, basicS1)
	checkOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}
