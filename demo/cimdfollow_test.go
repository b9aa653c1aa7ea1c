package demo_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/demo"
)

// TestFollow_UnmappedMetadataDocumentClientIsRefused: a metadata-document
// client (its client_id a URL) that an edit takes off an MCP server's
// clients map is refused at the server's demo authorization server from
// its next grant, invalid_client, as an ordinary client taken off is: an
// ID-JAG the IdP issued before the edit no longer redeems, whether the
// client authenticates with client_id alone (none) or with a client
// assertion (private_key_jwt). Put back, it is accepted again.
func TestFollow_UnmappedMetadataDocumentClientIsRefused(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	docs := httptest.NewServer(mux)
	t.Cleanup(docs.Close)
	publish := func(path string, members map[string]any) string {
		id := docs.URL + path
		doc := map[string]any{"client_id": id, "redirect_uris": []string{"http://127.0.0.1/callback"}}
		for k, v := range members {
			doc[k] = v
		}
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(doc)
		})
		return id
	}
	public := publish("/public.json", map[string]any{"token_endpoint_auth_method": "none"})
	private := publish("/private.json", map[string]any{
		"token_endpoint_auth_method": "private_key_jwt",
		"jwks":                       jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "c", Algorithm: "ES256", Use: "sig"}}},
	})
	clientSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "c"}}, nil)
	if err != nil {
		t.Fatal(err)
	}

	config := func(clients string) string {
		return `
cimd: {allow: ["http://127.0.0.1:*"]}
users:
  - {username: alice, password: alice, sub: u-alice}
clients:
  - {client_id: desk, client_secret: desk-secret, token_exchange: true}
mcp_servers:
  - id: notes
    issuer: http://127.0.0.1:9101
    resources: [http://127.0.0.1:9201/mcp]
    scopes: [notes.read]
    clients: ` + clients + `
    access: [{users: [alice], scopes: [notes.read]}]
`
	}
	mapped := config(`{desk: desk-at-notes, "` + public + `": "` + public + `", "` + private + `": "` + private + `"}`)
	as, stack := startNotes(t, mapped)

	redeem := func(jag, clientID string) (int, map[string]any) {
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jag}}
		if clientID == public {
			form.Set("client_id", public)
		} else {
			now := time.Now()
			assertion, err := jwt.Signed(clientSigner).Claims(map[string]any{
				"iss": private, "sub": private, "aud": "http://127.0.0.1:9101", "jti": rand.Text(),
				"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
			}).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			form.Set("client_assertion", assertion)
		}
		resp, err := http.PostForm(as.url+"/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("token endpoint: HTTP %d, not JSON: %v", resp.StatusCode, err)
		}
		return resp.StatusCode, body
	}
	// Issued while the clients are mapped: the IdP would have issued them.
	jags := map[string][]string{}
	for _, c := range []string{public, private} {
		for range 3 {
			jags[c] = append(jags[c], as.jag(t, as.idp, "u-alice", "", c, "notes.read"))
		}
	}
	for _, c := range []string{public, private} {
		status, body := redeem(jags[c][0], c)
		wantGrant(t, c+" while mapped", status, body, "")
	}

	if w := demo.Follow(stack, parse(t, config(`{desk: desk-at-notes}`))); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	for _, c := range []string{public, private} {
		status, body := redeem(jags[c][1], c)
		wantGrant(t, c+" taken off the map", status, body, "invalid_client")
		if desc, _ := body["error_description"].(string); !strings.Contains(desc, c) {
			t.Errorf("%s: description %q does not name the client", c, desc)
		}
	}
	status, body := as.redeem(t, as.idp, "u-alice", "", "desk-at-notes", "desk-secret", "notes.read")
	wantGrant(t, "the ordinary client still mapped", status, body, "")

	if w := demo.Follow(stack, parse(t, mapped)); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	for _, c := range []string{public, private} {
		status, body := redeem(jags[c][2], c)
		wantGrant(t, c+" mapped again", status, body, "")
	}
}
