package idp_test

import (
	"testing"

	"github.com/xaa-idp/xaa-idp/idp"
)

// An error op wrote (encoding/json, HTML escapes on) is written again
// without them, even when its description needs no other change, as the
// IdP's own errors are (TestOAuthErrors_AreNotHTMLEscaped).
func TestWireErrorBody_DropsHTMLEscapes(t *testing.T) {
	in := []byte(`{"error":"invalid_request","error_description":"client_id 'a\u0026b\u003cc\u003e' is unknown"}`)
	out, changed := idp.WireErrorBody(in)
	if want := `{"error":"invalid_request","error_description":"client_id 'a&b<c>' is unknown"}` + "\n"; !changed || string(out) != want {
		t.Errorf("got %s (changed %v), want %s", out, changed, want)
	}
	plain := []byte(`{"error":"invalid_grant","error_description":"invalid code"}`)
	if out, changed := idp.WireErrorBody(plain); changed || string(out) != string(plain) {
		t.Errorf("a body without escapes: %s (changed %v), want it as it was", out, changed)
	}
}
