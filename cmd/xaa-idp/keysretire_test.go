package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/xaa-idp/xaa-idp/idpclient"
)

type listedKey struct {
	KID      string   `json:"kid"`
	Alg      string   `json:"alg"`
	Status   string   `json:"status"`
	Use      []string `json:"use"`
	RetireAt string   `json:"retire_at"`
}

type keysListing struct {
	Keys []listedKey `json:"keys"`
}

// verifiesAtJWKS reports whether the issuer's /keys verifies tok.
func verifiesAtJWKS(t *testing.T, issuer, tok string) bool {
	t.Helper()
	resp, err := http.Get(issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Key(jws.Signatures[0].Header.KeyID) {
		if _, err := jws.Verify(k); err == nil {
			return true
		}
	}
	return false
}

// waitIDTokenAlg waits until discovery names alg for ID tokens: the IdP
// has taken a change of the file it watches.
func waitIDTokenAlg(t *testing.T, issuer, alg string, stderr *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var meta struct {
			Algs []string `json:"id_token_signing_alg_values_supported"`
		}
		resp, err := http.Get(issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&meta)
		resp.Body.Close()
		if slices.Equal(meta.Algs, []string{alg}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change of id_token_alg to %s was not taken: %v\n%s", alg, meta.Algs, stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tokenKID(t *testing.T, tok string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

// TestServe_KeysReplacedByAnAlgorithmChangeOutliveARestart: a running
// change of signing.id_token_alg and signing.id_jag_alg keeps the keys
// they replace published, and with --state-dir kept there, until the
// tokens they signed have expired: the ID token and the ID-JAG signed
// before the change verify at /keys after a restart, and the ID token is
// still taken by the token exchange. /admin/api/keys labels each retired
// key with what it signed. Past the overlap (the IdP's clock moved
// ahead), they leave the JWKS. A rotation's replaced keys are labelled,
// and kept across a restart, the same way.
func TestServe_KeysReplacedByAnAlgorithmChangeOutliveARestart(t *testing.T) {
	base := endedConfig
	file, state := endedFiles(t, "signing: {id_token_alg: RS256, id_jag_alg: ES256}\n"+base)
	ctx := context.Background()
	issuer, cmd, stderr := startOnAddr(t, file, state, "127.0.0.1:0")
	login, exchange := endedClients(ctx, t, &issuer)

	alice := login("alice")
	idToken := alice.IDToken()
	jagTokens, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: idToken, Audience: "https://as.files.example"})
	if err != nil {
		t.Fatal(err)
	}
	idJAG, _ := jagTokens["access_token"].(string)
	idTokenKID, idJAGKID := tokenKID(t, idToken), tokenKID(t, idJAG)

	// The change, by an edit of the file the IdP watches.
	if err := os.WriteFile(file, []byte("signing: {id_token_alg: EdDSA, id_jag_alg: EdDSA}\n"+base), 0o600); err != nil {
		t.Fatal(err)
	}
	waitIDTokenAlg(t, issuer, "EdDSA", stderr)
	if tokenKID(t, login("alice").IDToken()) == idTokenKID {
		t.Fatal("an ID token after the change is signed with the old key")
	}

	labelled := func(when string) {
		t.Helper()
		var keys keysListing
		getJSON(t, issuer+"/admin/api/keys", &keys)
		for _, want := range []struct {
			kid, use string
		}{{idTokenKID, "id_token"}, {idJAGKID, "id_jag"}} {
			i := slices.IndexFunc(keys.Keys, func(k listedKey) bool { return k.KID == want.kid })
			if i < 0 {
				t.Errorf("%s: /admin/api/keys does not list %s: %+v", when, want.kid, keys)
				continue
			}
			if k := keys.Keys[i]; k.Status != "previous" || !slices.Equal(k.Use, []string{want.use}) || k.RetireAt == "" {
				t.Errorf("%s: /admin/api/keys lists %s as %+v, want previous, use [%s], with retire_at", when, want.kid, k, want.use)
			}
		}
	}
	labelled("after the change")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	issuer, _, stderr = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	for name, tok := range map[string]string{"ID token": idToken, "ID-JAG": idJAG} {
		if !verifiesAtJWKS(t, issuer, tok) {
			t.Errorf("after the restart, /keys does not verify the %s signed before the change\n%s", name, stderr)
		}
	}
	if err := exchange(idToken); err != nil {
		t.Errorf("after the restart, the ID token signed before the change: %v", err)
	}
	labelled("after the restart")

	// A rotation: the replaced EdDSA key is labelled, and outlives a restart.
	var rotated struct {
		Rotated []struct {
			OldKID string `json:"old_kid"`
		} `json:"rotated"`
	}
	code, body := adminDo(ctx, http.MethodPost, issuer+"/admin/api/keys/rotate", nil)
	if code != http.StatusOK || json.Unmarshal(body, &rotated) != nil || len(rotated.Rotated) != 1 {
		t.Fatalf("rotate: %d %s", code, body)
	}
	var keys keysListing
	getJSON(t, issuer+"/admin/api/keys", &keys)
	for _, k := range keys.Keys {
		if k.KID == rotated.Rotated[0].OldKID && (k.Status != "previous" || !slices.Equal(k.Use, []string{"id_token", "id_jag"})) {
			t.Errorf("the rotated-out key is listed as %+v, want previous with use [id_token id_jag]", k)
		}
	}

	// Past the overlap, every retired key leaves the JWKS.
	if code, body := adminDo(ctx, http.MethodPut, issuer+"/admin/api/clock", map[string]string{"advance": "2h"}); code != http.StatusOK {
		t.Fatalf("clock: %d %s", code, body)
	}
	for name, tok := range map[string]string{"ID token": idToken, "ID-JAG": idJAG} {
		if verifiesAtJWKS(t, issuer, tok) {
			t.Errorf("past the overlap, /keys still verifies the %s", name)
		}
	}
	getJSON(t, issuer+"/admin/api/keys", &keys)
	for _, k := range keys.Keys {
		if k.Status != "current" {
			t.Errorf("past the overlap, /admin/api/keys lists %+v", k)
		}
	}
}

// TestServe_KeysOfAnAlgorithmChangedWhileStoppedOutliveTheStart: the
// same change made in the file while the IdP was stopped: the next start
// publishes the keys the configuration no longer uses for the longest
// token lifetime, so that the tokens they signed before the stop verify.
func TestServe_KeysOfAnAlgorithmChangedWhileStoppedOutliveTheStart(t *testing.T) {
	file, state := endedFiles(t, "signing: {id_token_alg: RS256, id_jag_alg: ES256}\n"+endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	login, exchange := endedClients(ctx, t, &issuer)
	idToken := login("alice").IDToken()
	jagTokens, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: idToken, Audience: "https://as.files.example"})
	if err != nil {
		t.Fatal(err)
	}
	idJAG, _ := jagTokens["access_token"].(string)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if err := os.WriteFile(file, []byte("signing: {id_token_alg: EdDSA, id_jag_alg: EdDSA}\n"+endedConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	retireAt := map[string]string{}
	for round := range 2 { // and again: the second start keeps the retirement time
		var stderr *syncBuffer
		issuer, cmd, stderr = startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
		for name, tok := range map[string]string{"ID token": idToken, "ID-JAG": idJAG} {
			if !verifiesAtJWKS(t, issuer, tok) {
				t.Errorf("start %d after the change: /keys does not verify the %s signed before it\n%s", round+1, name, stderr)
			}
		}
		if err := exchange(idToken); err != nil {
			t.Errorf("start %d after the change: the ID token signed before it: %v", round+1, err)
		}
		var keys keysListing
		getJSON(t, issuer+"/admin/api/keys", &keys)
		if len(keys.Keys) != 3 {
			t.Errorf("start %d after the change: /admin/api/keys lists %+v, want the EdDSA key and the two retired ones", round+1, keys.Keys)
		}
		for _, k := range keys.Keys {
			if k.Alg == "EdDSA" {
				continue
			}
			if k.Status != "previous" || k.RetireAt == "" {
				t.Errorf("start %d after the change: /admin/api/keys lists %+v, want previous with retire_at", round+1, k)
			}
			if round == 0 {
				retireAt[k.KID] = k.RetireAt
			} else if k.RetireAt != retireAt[k.KID] {
				t.Errorf("the second start retires %s at %s, the first at %s", k.KID, k.RetireAt, retireAt[k.KID])
			}
		}
		if round == 0 {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
}

// TestServe_KeyRotatedOnTopOfKeyFilesOutlivesTheStart: a rotation on top
// of signing.key_files lasts until the next start, which signs with the
// file's key again; the rotated-in key, which signed tokens until then,
// stays published for the longest token lifetime from that start.
func TestServe_KeyRotatedOnTopOfKeyFilesOutlivesTheStart(t *testing.T) {
	dir := t.TempDir()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "es256.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	file, state := endedFiles(t, "signing: {id_token_alg: RS256, id_jag_alg: ES256, key_files: ["+keyFile+"]}\n"+endedConfig)
	ctx := context.Background()
	issuer, cmd, _ := startOnAddr(t, file, state, "127.0.0.1:0")
	login, _ := endedClients(ctx, t, &issuer)
	if code, body := adminDo(ctx, http.MethodPost, issuer+"/admin/api/keys/rotate", nil); code != http.StatusOK {
		t.Fatalf("rotate: %d %s", code, body)
	}
	jagTokens, err := idpclient.Exchange(ctx, idpclient.ExchangeOptions{Issuer: issuer, ClientID: "mcp-client", ClientSecret: "mcp-secret", SubjectToken: login("alice").IDToken(), Audience: "https://as.files.example"})
	if err != nil {
		t.Fatal(err)
	}
	idJAG, _ := jagTokens["access_token"].(string)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	issuer, _, stderr := startOnAddr(t, file, state, strings.TrimPrefix(issuer, "http://"))
	if !verifiesAtJWKS(t, issuer, idJAG) {
		t.Errorf("after the restart, /keys does not verify the ID-JAG signed with the key rotated in on top of key_files\n%s", stderr)
	}
	var keys keysListing
	getJSON(t, issuer+"/admin/api/keys", &keys)
	for _, k := range keys.Keys {
		if k.KID == tokenKID(t, idJAG) && k.Status != "previous" {
			t.Errorf("the key rotated in on top of key_files is listed as %+v after the restart, want previous", k)
		}
	}
}

// TestServe_KeyOfAnIDTokenAlgorithmChangedTwiceIsLabelledIDToken: a key
// made by a change of id_token_alg and retired by the next one signed ID
// tokens alone, and /admin/api/keys says so (it listed id_jag too, as if
// it had been made for an MCP server's signing_alg).
func TestServe_KeyOfAnIDTokenAlgorithmChangedTwiceIsLabelledIDToken(t *testing.T) {
	file, state := endedFiles(t, "signing: {id_token_alg: RS256, id_jag_alg: ES256}\n"+endedConfig)
	issuer, _, stderr := startOnAddr(t, file, state, "127.0.0.1:0")
	for _, alg := range []string{"EdDSA", "RS256"} {
		if err := os.WriteFile(file, []byte("signing: {id_token_alg: "+alg+", id_jag_alg: ES256}\n"+endedConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		waitIDTokenAlg(t, issuer, alg, stderr)
	}
	var keys keysListing
	getJSON(t, issuer+"/admin/api/keys", &keys)
	found := false
	for _, k := range keys.Keys {
		if k.Alg == "EdDSA" {
			found = true
			if k.Status != "previous" || !slices.Equal(k.Use, []string{"id_token"}) {
				t.Errorf("the EdDSA key that signed ID tokens between the changes is listed as %+v, want previous, use [id_token]", k)
			}
		}
	}
	if !found {
		t.Errorf("/admin/api/keys does not list the EdDSA key that signed ID tokens between the changes: %+v", keys.Keys)
	}
}
