package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/internal/cimd"
	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestTokenEndpoint_MetadataDocumentClientRotatesItsKey: a private_key_jwt
// metadata document client that publishes a new key in place of its old
// one authenticates with it at once, though its document is cached for
// an hour: an assertion no cached key verifies makes the server fetch the
// document again, at most once per cimd.RefetchInterval, so assertions
// under random kids cost no fetch each, and a document fetched for the
// request itself is not fetched again.
func TestTokenEndpoint_MetadataDocumentClientRotatesItsKey(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	var doc map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	id := srv.URL + "/client.json"
	publish := func(kid string, pub any) {
		mu.Lock()
		defer mu.Unlock()
		doc = map[string]any{"client_id": id, "redirect_uris": []string{"http://127.0.0.1/callback"}, "token_endpoint_auth_method": "private_key_jwt",
			"jwks": jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: kid, Algorithm: "ES256", Use: "sig"}}}}
	}
	fetches := func() int { mu.Lock(); defer mu.Unlock(); return hits }
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
	})
	assertion := func(kid string, key any) string {
		now := e.clock.Now()
		return sign(t, map[string]any{"iss": id, "sub": id, "aud": e.asURL, "jti": randomString(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}, "JWT", kid, jose.ES256, key)
	}
	post := func(kid string, key any) tokenReply {
		return e.post(t, metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = id }), "", assertion(kid, key)))
	}

	k1 := newECKey(t)
	publish("k1", &k1.PublicKey)
	// The first request of a client not cached, under a key it does not
	// have: its document, fetched for that request, is not fetched again.
	if r := post("random", newECKey(t)); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
		t.Errorf("unknown kid first: HTTP %d %s, want 401 invalid_client", r.status, r.raw)
	}
	if n := fetches(); n != 1 {
		t.Errorf("%d fetches for the first request, want 1", n)
	}
	if r := post("k1", k1); r.status != http.StatusOK {
		t.Fatalf("first grant: HTTP %d %s", r.status, r.raw)
	}
	k2 := newECKey(t)
	publish("k2", &k2.PublicKey)
	if r := post("k2", k2); r.status != http.StatusOK {
		t.Fatalf("grant signed with the rotated key: HTTP %d %s, want 200", r.status, r.raw)
	}
	if n := fetches(); n != 2 {
		t.Errorf("%d fetches, want 2 (the first, and one for the rotation)", n)
	}
	for range 5 {
		if r := post("random", newECKey(t)); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
			t.Errorf("unknown kid: HTTP %d %s, want 401 invalid_client", r.status, r.raw)
		}
	}
	if r := post("k2", k2); r.status != http.StatusOK {
		t.Fatalf("rotated key again: HTTP %d %s", r.status, r.raw)
	}
	if n := fetches(); n != 2 {
		t.Errorf("%d fetches after unknown kids within the refetch interval, want still 2", n)
	}
}

// TestTokenEndpoint_RotationRefetchRefusedByTheFetchBoundIsBusy: the
// refetch for a rotated key, refused because the process was fetching as
// many documents as it may, was 401 invalid_client, as if the key were
// wrong, and counted as the client's refetch for cimd.RefetchInterval. It
// is 503 temporarily_unavailable with Retry-After, as the first fetch's
// bound is, and the next request fetches and succeeds.
func TestTokenEndpoint_RotationRefetchRefusedByTheFetchBoundIsBusy(t *testing.T) {
	var mu sync.Mutex
	var doc map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	id := srv.URL + "/client.json"
	publish := func(kid string, pub any) {
		mu.Lock()
		defer mu.Unlock()
		doc = map[string]any{"client_id": id, "redirect_uris": []string{"http://127.0.0.1/callback"}, "token_endpoint_auth_method": "private_key_jwt",
			"jwks": jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: kid, Algorithm: "ES256", Use: "sig"}}}}
	}
	e := newEnv(t, func(c *authserver.Config) {
		c.CIMD = cimd.New(cimd.DefaultConfig(), &cimd.Options{Timeout: time.Second})
	})
	post := func(kid string, key any) tokenReply {
		now := e.clock.Now()
		a := sign(t, map[string]any{"iss": id, "sub": id, "aud": e.asURL, "jti": randomString(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}, "JWT", kid, jose.ES256, key)
		return e.post(t, metadataGrant(e.jag(t, func(c map[string]any) { c["client_id"] = id }), "", a))
	}
	k1 := newECKey(t)
	publish("k1", &k1.PublicKey)
	if r := post("k1", k1); r.status != http.StatusOK {
		t.Fatalf("first grant: HTTP %d %s", r.status, r.raw)
	}
	k2 := newECKey(t)
	publish("k2", &k2.PublicKey)
	restore := cimd.LimitFetches(0)
	r := post("k2", k2)
	restore()
	if r.status != http.StatusServiceUnavailable || r.str("error") != "temporarily_unavailable" || r.header.Get("Retry-After") == "" {
		t.Errorf("rotated key while no fetch place is free: HTTP %d Retry-After %q %s, want 503 temporarily_unavailable with Retry-After", r.status, r.header.Get("Retry-After"), r.raw)
	}
	if r := post("k2", k2); r.status != http.StatusOK {
		t.Errorf("rotated key once fetches are free: HTTP %d %s, want 200", r.status, r.raw)
	}
}
