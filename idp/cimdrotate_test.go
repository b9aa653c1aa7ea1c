package idp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/xaa-idp/xaa-idp/idpclient"
	"github.com/xaa-idp/xaa-idp/internal/cimd"
)

// signedBy is a client assertion of the client id for aud, signed with key
// under kid.
func signedBy(t testing.TB, key *ecdsa.PrivateKey, kid, id, aud string) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
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

// TestCIMD_KeyRotationRefetchesTheDocument: a private_key_jwt metadata
// document client that rotates its key (a new key in its document's jwks,
// or at its jwks_uri) authenticates with the new key at once, though the
// document is cached for an hour: an assertion that no cached key verifies
// makes the IdP fetch the document (and its jwks_uri) again, once. An
// assertion under a key that is nowhere (random kids, say) costs no more
// fetches until the interval has passed.
func TestCIMD_KeyRotationRefetchesTheDocument(t *testing.T) {
	f := startCIMD(t)
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rows := []struct {
		name, id, doc, keys string // keys: the jwks_uri path, or ""
	}{
		{"jwks in the document", f.inline, "/inline.json", ""},
		{"jwks_uri", f.indirect, "/indirect.json", "/keys.json"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: f.URL, ClientID: r.id, Username: "alice", Password: "alice-pw",
				Scopes: []string{"openid"}, ClientAssertion: f.docs.assertion(t, r.id, f.URL)})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			fetched := func() int { return f.docs.hitsOf(r.doc) + f.docs.hitsOf(r.keys) }
			before := fetched()

			// The client rotates: k1 is gone, k2 is published.
			k2 := newKey()
			set := map[string]any{"keys": []any{jose.JSONWebKey{Key: &k2.PublicKey, KeyID: "k2", Algorithm: "ES256", Use: "sig"}}}
			if r.keys == "" {
				f.docs.doc(r.doc, map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": set}, nil)
			} else {
				f.docs.json(r.keys, set)
			}
			resp, body := f.exchange(t, tok.IDToken(), r.id, assertionForm(signedBy(t, k2, "k2", r.id, f.URL)))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("exchange signed with the rotated key: %d %v, want 200", resp.StatusCode, body)
			}
			if got := fetched() - before; got != 1 && got != 2 {
				t.Errorf("fetched %d times for the rotation, want the document (and its jwks_uri) once", got)
			}
			after := fetched()

			// Kids that are nowhere: refused, and fetched no more.
			for i := range 5 {
				resp, body := f.exchange(t, tok.IDToken(), r.id, assertionForm(signedBy(t, newKey(), "random-"+string(rune('a'+i)), r.id, f.URL)))
				if desc, _ := body["error_description"].(string); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(desc, "does not verify") {
					t.Errorf("unknown kid: %d %v, want 401 invalid_client", resp.StatusCode, body)
				}
			}
			if got := fetched() - after; got != 0 {
				t.Errorf("assertions with unknown kids fetched %d more times within the refetch interval, want 0", got)
			}
			// The rotated key still works, from the cache.
			if resp, body := f.exchange(t, tok.IDToken(), r.id, assertionForm(signedBy(t, k2, "k2", r.id, f.URL))); resp.StatusCode != http.StatusOK {
				t.Fatalf("exchange with the rotated key again: %d %v", resp.StatusCode, body)
			}
			if got := fetched() - after; got != 0 {
				t.Errorf("fetched %d more times, want 0", got)
			}
		})
	}
}

// TestCIMD_FirstAssertionFetchesTheDocumentOnce: an assertion of a client
// not cached yet, under a key its document does not have, makes the IdP
// fetch the document (and its jwks_uri) once, not a second time for a
// rotation: the document fetched for this request is the one there is.
// (One outbound request per inbound one, as for a document that fails.)
func TestCIMD_FirstAssertionFetchesTheDocumentOnce(t *testing.T) {
	f := startCIMD(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ id, doc, keys string }{{f.inline, "/inline.json", ""}, {f.indirect, "/indirect.json", "/keys.json"}} {
		before := f.docs.hitsOf(r.doc) + f.docs.hitsOf(r.keys)
		resp, body := f.exchange(t, "not-looked-at", r.id, assertionForm(signedBy(t, key, "nowhere", r.id, f.URL)))
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Fatalf("%s: %d %v, want 401 invalid_client", r.id, resp.StatusCode, body)
		}
		want := 1
		if r.keys != "" {
			want = 2
		}
		if got := f.docs.hitsOf(r.doc) + f.docs.hitsOf(r.keys) - before; got != want {
			t.Errorf("%s: %d fetches for one request of a client not cached, want %d", r.doc, got, want)
		}
	}
}

// TestCIMD_RotationRefetchRefusedByTheFetchBoundIsBusy: the refetch of a
// client that rotated its key, refused because the process was fetching
// as many documents as it may (cimd.MaxFetches), was answered 401
// invalid_client, as if the key were wrong, and counted as the client's
// refetch for cimd.RefetchInterval, so that its new key was refused for
// 30 s more. It is now 503 temporarily_unavailable with Retry-After, as
// the first fetch's bound is answered, and a retry once fetches are free
// fetches the document and succeeds.
func TestCIMD_RotationRefetchRefusedByTheFetchBoundIsBusy(t *testing.T) {
	f := startCIMD(t)
	tok, err := idpclient.Login(context.Background(), idpclient.LoginOptions{Issuer: f.URL, ClientID: f.inline, Username: "alice", Password: "alice-pw",
		Scopes: []string{"openid"}, ClientAssertion: f.docs.assertion(t, f.inline, f.URL)})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	k2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]any{"keys": []any{jose.JSONWebKey{Key: &k2.PublicKey, KeyID: "k2", Algorithm: "ES256", Use: "sig"}}}
	f.docs.doc("/inline.json", map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": set}, nil)
	restore := cimd.LimitFetches(0)
	resp, body := f.exchange(t, tok.IDToken(), f.inline, assertionForm(signedBy(t, k2, "k2", f.inline, f.URL)))
	restore()
	if resp.StatusCode != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("rotated key while no fetch place is free: %d Retry-After %q %v; want 503 temporarily_unavailable with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp, body := f.exchange(t, tok.IDToken(), f.inline, assertionForm(signedBy(t, k2, "k2", f.inline, f.URL))); resp.StatusCode != http.StatusOK {
		t.Errorf("rotated key once fetches are free: %d %v; want 200 (the refused refetch is not the client's)", resp.StatusCode, body)
	}
}
