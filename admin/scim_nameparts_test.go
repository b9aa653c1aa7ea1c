package admin_test

import (
	"net/http"
	"testing"
)

// TestSCIM_PatchDottedNameParts: Entra sends a changed given name and surname
// as a path-less value with dotted keys ({"name.givenName": ...,
// "name.familyName": ...}), or as two paths; each part was accepted and
// dropped, so the 200 left the old name. Both in one PATCH now make the
// name, as a POST joins them; displayName or name.formatted in the same
// PATCH still wins, and one part alone is still not kept.
func TestSCIM_PatchDottedNameParts(t *testing.T) {
	p := editable(t)
	for _, c := range []struct{ body, want string }{
		{`{"Operations":[{"op":"Replace","value":{"name.givenName":"Robert","name.familyName":"Baker"}}]}`, "Robert Baker"},
		{`{"Operations":[{"op":"Replace","path":"name.givenName","value":"Bob"},{"op":"Add","path":"name.familyName","value":"Bauer"}]}`, "Bob Bauer"},
		{`{"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName":"Rob","name.familyName":"B","displayName":"Rob the Builder"}}]}`, "Rob the Builder"},
		{`{"Operations":[{"op":"replace","value":{"name.givenName":"Roberta"}}]}`, "Rob the Builder"},
	} {
		resp, u := p.scim(t, "PATCH", "/Users/u-bob", c.body)
		if resp.StatusCode != http.StatusOK || u["displayName"] != c.want {
			t.Errorf("%s: %d displayName %v, want %q", c.body, resp.StatusCode, u["displayName"], c.want)
		}
	}
}
