package authserver_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestTwoAuthorizationHeaders: a token or introspection request with two
// Authorization headers was authenticated by the first and the second
// ignored (good then bad: a token; bad then good: invalid_client). It
// says two things about its client, so it is refused with 400
// invalid_request (RFC 6749 section 2.3) whichever is valid, and the
// ID-JAG is not spent.
func TestTwoAuthorizationHeaders(t *testing.T) {
	e := newEnv(t)
	good := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(confidentialClient)+":"+url.QueryEscape(confidentialSecret)))
	bad := "Basic " + base64.StdEncoding.EncodeToString([]byte("nobody:x"))
	jag := e.jag(t, nil)
	for _, pair := range [][2]string{{good, bad}, {bad, good}} {
		form := url.Values{"grant_type": {authserver.GrantTypeJWTBearer}, "assertion": {jag}}
		hr, _ := http.NewRequest(http.MethodPost, e.asURL+"/token", strings.NewReader(form.Encode()))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		hr.Header.Add("Authorization", pair[0])
		hr.Header.Add("Authorization", pair[1])
		if r := do(t, hr); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Errorf("token with two Authorization headers: %d %s, want 400 invalid_request", r.status, r.raw)
		}
	}
	if r := e.post(t, grant(jag)); r.status != http.StatusOK {
		t.Fatalf("the ID-JAG after the refusals: %d %s", r.status, r.raw)
	}
}
