package authserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/resource/authserver"
)

// TestToken_DescriptionsEscapeWhatIsNotASCII: as at the IdP, a value the
// client sent (or its ID-JAG carries) comes back in error_description
// with every character outside printable ASCII escaped (RFC 6749 §5.2):
// an email with a Cyrillic a (U+0430) must not read as the local user's
// address it imitates, and a bidi override must not reorder the text.
// The server's own § is written out.
func TestToken_DescriptionsEscapeWhatIsNotASCII(t *testing.T) {
	users := []authserver.User{{Username: "alice", Sub: "00u-alice-local", Email: aliceEmail}}
	e := newEnv(t, func(c *authserver.Config) { c.Subject, c.Users = authserver.SubjectEmail, users })
	check := func(name string, r tokenReply, want string) {
		t.Helper()
		desc := r.str("error_description")
		if r.status != http.StatusBadRequest || !strings.Contains(desc, want) {
			t.Errorf("%s: HTTP %d %s, want 400 with %s in the description", name, r.status, r.raw, want)
		}
		if i := strings.IndexFunc(desc, func(r rune) bool { return r < 0x20 || r > 0x7e || r == '"' || r == '\\' }); i >= 0 {
			t.Errorf("%s: the description %q holds a character outside printable ASCII", name, desc)
		}
	}
	check("homoglyph email", e.post(t, grant(e.jag(t, func(c map[string]any) { c["email"] = "\u0430lice@acme.example" }))), `'U+0430lice@acme.example'`)
	req := grant(e.jag(t, nil))
	req.form.Set("resource", "http://127.0.0.1/mcp\u202ex")
	check("bidi resource", e.post(t, req), `U+202Ex'`)
	req = grant(e.jag(t, nil))
	req.form.Set("client_id", confidentialClient)
	req.form.Set("client_secret", confidentialSecret)
	check("section sign", e.post(t, req), "(RFC 6749 section 2.3)")
}
