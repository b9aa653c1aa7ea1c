package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

// TestExplain_ClientSeesWhatTheTokenEndpointSends: the "client sees" of
// explain, and the admin API explain's error_description, are the token
// endpoint's error_description byte for byte, which RFC 6749 §5.2 holds to
// printable ASCII: a "§" the IdP writes out as "section ", a character the
// client sent escaped. explain gave the text before that escaping, so for a
// URL client_id without a path it said "§3 requires one" where the client
// is told "section 3 requires one" (the explain/token endpoint
// differential test failed on it), and an audience with a Cyrillic letter
// showed as the letter, which the client never sees.
func TestExplain_ClientSeesWhatTheTokenEndpointSends(t *testing.T) {
	issuer := startServe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := idpclient.Login(ctx, idpclient.LoginOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", Username: "alice", Password: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, client, secret, audience string }{
		{"URL client without a path", "https://app.example", "", "http://127.0.0.1:8101"},
		{"audience with a Cyrillic letter", "mcp-client", "mcp-secret", "urn:acme:tr\u0430cker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{
				"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"requested_token_type": {"urn:ietf:params:oauth:token-type:id-jag"},
				"subject_token_type":   {"urn:ietf:params:oauth:token-type:id_token"},
				"subject_token":        {tok.IDToken()},
				"client_id":            {tc.client},
				"audience":             {tc.audience},
			}
			if tc.secret != "" {
				form.Set("client_secret", tc.secret)
			}
			resp, err := http.PostForm(issuer+"/oauth/token", form)
			if err != nil {
				t.Fatal(err)
			}
			var sent struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			err = json.NewDecoder(resp.Body).Decode(&sent)
			resp.Body.Close()
			if err != nil || sent.Error == "" {
				t.Fatalf("token endpoint: %d, %+v, %v; want a refusal", resp.StatusCode, sent, err)
			}

			q := url.Values{"user": {"alice"}, "client": {tc.client}, "audience": {tc.audience}}
			req, _ := http.NewRequest(http.MethodGet, issuer+"/admin/api/explain?"+q.Encode(), nil)
			req.SetBasicAuth("alice", "alice")
			var api struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if s := doJSON(t, req, &api); s != http.StatusOK {
				t.Fatalf("admin API explain: %d", s)
			}
			if api.Error != sent.Error || api.Description != sent.Description {
				t.Errorf("admin API explain: %s %q\ntoken endpoint:    %s %q", api.Error, api.Description, sent.Error, sent.Description)
			}

			code, out, stderr := runCLI(t, "explain", "--user", "alice", "--client", tc.client, "--audience", tc.audience)
			if code != exitOK {
				t.Fatalf("explain: exit %d: %s", code, stderr)
			}
			sees := explainRows(out)["client sees"]
			if !strings.Contains(out, "refused ("+sent.Error+")") || sees != sent.Description {
				t.Errorf("explain's client sees: %q\ntoken endpoint:      %s %q\n%s", sees, sent.Error, sent.Description, out)
			}
		})
	}
}
