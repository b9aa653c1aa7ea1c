package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// An ID-JAG request with authorization_details (RFC 9396; ID-JAG draft
// -02 section 4.3.1) asks for grants this IdP does not issue: it issues
// by scope and resource only. RFC 9396 section 5 has the authorization
// server refuse a type it does not know with invalid_authorization_details,
// never drop it silently: the client would take an ID-JAG without the
// details for one that carries them. Not a JSON array of objects is
// invalid_request; an empty array asks for nothing and is no refusal.
func TestExchange_AuthorizationDetailsRefusedAsRFC9396Says(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	idt := f.alice["id_token"].(string)
	for _, c := range []struct {
		details, code, mention string
	}{
		{`[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1"}}]`, "invalid_authorization_details", "'payment_initiation'"},
		{`[{"type":"chat_access"},{"type":"files"}]`, "invalid_authorization_details", "'chat_access'"},
		{`{"type":"chat_access"}`, "invalid_request", "JSON array"},
		{`not json`, "invalid_request", "JSON array"},
		{`[1]`, "invalid_request", "JSON array"},
		{`[{"actions":["read"]}]`, "invalid_authorization_details", "type"},
		{`[{"type":5}]`, "invalid_authorization_details", "not a string"},
		{`[{"type":""}]`, "invalid_authorization_details", "not a string"},
		{`[null]`, "invalid_request", "JSON array of objects"},
	} {
		resp, body := f.exchange(t, b(idt, set("authorization_details", c.details)), basicS1)
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != c.code || !strings.Contains(desc, c.mention) || body["access_token"] != nil {
			t.Errorf("authorization_details=%s: %d %v, want 400 %s naming %s", c.details, resp.StatusCode, body, c.code, c.mention)
		}
	}
	if ev := f.exchangeEvents()[0]; ev.Error != "invalid_authorization_details" && ev.Error != "invalid_request" {
		t.Errorf("refusal audited with error %q", ev.Error)
	}
	for _, details := range []string{"[]", ""} {
		if resp, body := f.exchange(t, b(idt, set("authorization_details", details)), basicS1); resp.StatusCode != http.StatusOK {
			t.Errorf("authorization_details=%q: %d %v, want 200 (nothing asked for)", details, resp.StatusCode, body)
		}
	}
}

// A Basic Authorization header that is not base64 of id:secret (RFC 7617
// section 2) is a failed client authentication, said as such: before, it
// was read as no header at all, the answer said "no client
// authentication", and a body client_id of a public client went through
// beside it.
func TestTokenEndpoint_MalformedBasicIsNamed(t *testing.T) {
	f := newFixture(t, conformanceConfig(t))
	idt := f.alice["id_token"].(string)
	for _, h := range []string{"Basic !!!", "Basic " + "bWNwLWNsaWVudA==", "basic %%%", "Basic\t" + "bWNwLWNsaWVudDpzMQ=="} {
		resp, body := f.exchange(t, b(idt, set("client_id", "pub-client")), http.Header{"Authorization": {h}})
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(desc, "Basic") || !strings.Contains(desc, "base64") {
			t.Errorf("Authorization: %s: %d %v, want 401 invalid_client naming the malformed Basic credentials", h, resp.StatusCode, body)
		}
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic") {
			t.Errorf("Authorization: %s: WWW-Authenticate %q, want Basic", h, got)
		}
	}
	// The code grant too, which zitadel authenticates.
	code, verifier := f.code(t)
	resp, body := f.exchange(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"mcp-client"},
		"redirect_uri": {callback}, "code_verifier": {verifier}}, http.Header{"Authorization": {"Basic !!!"}})
	if desc, _ := body["error_description"].(string); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(desc, "base64") {
		t.Errorf("code grant with a malformed Basic header: %d %v, want 401 invalid_client naming it", resp.StatusCode, body)
	}
}
