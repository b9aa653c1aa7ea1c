package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
)

// TestAdminAPI_TwoAuthorizationHeaders: a request with two sets of Basic
// credentials was answered for the first and the second ignored, so that
// "bob, then alice" got bob's 403 and "alice, then bob" alice's 200. It is
// refused with 400 invalid_request whichever comes first, and no password
// is checked.
func TestAdminAPI_TwoAuthorizationHeaders(t *testing.T) {
	base := start(t)
	alice := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-pw"))
	bob := "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:bob-pw"))
	for _, pair := range [][2]string{{alice, bob}, {bob, alice}, {alice, alice}} {
		req, _ := http.NewRequest(http.MethodGet, base+"/admin/api/status", nil)
		req.Header.Add("Authorization", pair[0])
		req.Header.Add("Authorization", pair[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("two Authorization headers: %d %v (%v), want 400 invalid_request", resp.StatusCode, body, err)
		}
	}
}
