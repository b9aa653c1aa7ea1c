package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// minimalYAML is fixtures/samples/minimal.yaml, which sets no lifetimes;
// its admin is dev (password dev).
func minimalYAML(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../fixtures/samples/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestCheck_LifetimeOutOfRange: a lifetime shorter than a second (a JWT's
// exp counts whole seconds, so the token is expired when issued) or longer
// than ten years is refused at its line. 2562047h47m16s, the longest Go
// duration, was taken: the key overlap (that lifetime plus 30 s)
// overflowed to a date in 1734, so that a key rotation took the old keys
// out of JWKS at once and every token they had signed stopped verifying.
func TestCheck_LifetimeOutOfRange(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{"2562047h47m16s", "lifetimes.id_token: 2562047h47m16s is longer than 87600h (ten years)"},
		{"100000h", "lifetimes.id_token: 100000h is longer than 87600h (ten years)"},
		{"500ms", "lifetimes.id_token: 500ms is shorter than 1s: a token's exp counts whole seconds, so it would expire when issued"},
	} {
		file := filepath.Join(t.TempDir(), "idp.yaml")
		data := "lifetimes:\n  id_token: " + c.value + "\n" + minimalYAML(t)
		if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runBinary(t, "check", "--config", file)
		if want := file + ":2: " + c.want; code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s", c.value, code, exitUsage, want, stderr)
		}
	}
}

// TestServe_RotationKeepsOldKeysAtTheLongestLifetime: at the longest
// lifetime the file may hold, a rotation keeps the replaced keys in JWKS
// (retiring in the future), beside the new ones.
func TestServe_RotationKeepsOldKeysAtTheLongestLifetime(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.yaml")
	data := "lifetimes:\n  id_token: 87600h\n  access_token: 87600h\n  refresh_token: 87600h\n  id_jag: 87600h\n" + minimalYAML(t)
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer := startServe(t, "--config", file)
	var disc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if _, body := configCall(t, http.MethodGet, issuer+"/.well-known/openid-configuration", ""); json.Unmarshal(body, &disc) != nil || disc.JWKSURI == "" {
		t.Fatalf("discovery: %s", body)
	}
	jwksKeys := func() int {
		resp, err := http.Get(disc.JWKSURI)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set struct{ Keys []json.RawMessage }
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			t.Fatal(err)
		}
		return len(set.Keys)
	}
	before := jwksKeys()
	resp, body := basicCall(t, "dev", "dev", http.MethodPost, issuer+"/admin/api/keys/rotate", "")
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"retire_at": "1`) {
		t.Fatalf("rotate: %d %s", resp.StatusCode, body)
	}
	if after := jwksKeys(); after != 2*before {
		t.Errorf("JWKS holds %d keys after the rotation, want the %d old and new", after, 2*before)
	}
}
