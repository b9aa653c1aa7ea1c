package idptest_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/idptest"
)

// A client identified by its metadata document URL (README, "CIMD
// clients") logs in and exchanges through LoginVia and Exchange as a
// configured one does: the IdP fetches the document the test serves, and
// what the IdP answers (here an ID-JAG, then its refusal of a document
// that names another client_id) is what the test sees.
func TestLoginVia_MetadataDocumentClient(t *testing.T) {
	var url string
	var wrong atomic.Bool
	doc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := url
		if wrong.Load() {
			id = "https://someone.else.example/meta.json"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `{"client_id": %q, "client_name": "Mine", "redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": "none"}`, id)
	}))
	defer doc.Close()
	url = doc.URL + "/meta.json"
	srv := idptest.New(t, idptest.WithConfigYAML(fmt.Sprintf(`
users: [{username: ann, password: pw}]
mcp_servers:
  - id: files
    issuer: https://as.files.example
    resources: [https://mcp.files.example/mcp]
    scopes: [files.read]
    clients: {%q: files-cimd}
    access: [{users: [ann], scopes: [files.read]}]
`, url)))

	tok := srv.LoginVia(url, "ann")
	if tok.ClientID != url || tok.IDToken == "" {
		t.Fatalf("LoginVia(%s): %+v", url, tok)
	}
	jag, err := srv.Exchange(tok, "files")
	if err != nil {
		t.Fatalf("Exchange through %s: %v", url, err)
	}
	if c := claims(jag); c["client_id"] != "files-cimd" || c["scope"] != "files.read" {
		t.Errorf("ID-JAG claims %v", c)
	}

	// IDJAG picks the document client, the one client the server lists.
	if c := claims(srv.IDJAG("ann", "files")); c["client_id"] != "files-cimd" {
		t.Errorf("IDJAG through the server's document client: claims %v", c)
	}

	// The IdP's refusal, not idptest's: a document for another client_id.
	wrong.Store(true)
	_, err = srv.TryLogin(doc.URL+"/other.json", "ann")
	var refusal *idpclient.Error
	if !errors.As(err, &refusal) || refusal.Code != "invalid_client" {
		t.Errorf("TryLogin through a document naming another client_id: %v, want the IdP's invalid_client", err)
	}
	// A name that is neither configured nor a URL is still idptest's error.
	if _, err := srv.TryLogin("nobody", "ann"); err == nil || errors.As(err, &refusal) {
		t.Errorf("TryLogin through an unknown client: %v", err)
	}
}
