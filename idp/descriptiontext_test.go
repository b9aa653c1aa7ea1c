package idp_test

import (
	"strings"
	"testing"
)

// TestExchange_DescriptionsEscapeWhatIsNotASCII: a value the client sent
// comes back in error_description with every character outside printable
// ASCII written as its code point (U+XXXX), and quoted with single
// quotes, as RFC 6749 §5.2 limits error_description to printable ASCII
// without '"' and '\': a bidi override (U+202E) would reorder the text where a
// client logs it, a newline would forge a line, and a Cyrillic a (U+0430)
// or a fullwidth letter would look like the value the server knows, hiding
// why it was refused.
func TestExchange_DescriptionsEscapeWhatIsNotASCII(t *testing.T) {
	p := startConformanceIdP(t)
	idToken := p.login(t, "mcp-client", "s1", "alice", "alice-pw").IDToken()
	tests := []struct {
		param, value, want string
	}{
		{"scope", "chat.read\u202egnp.kcatta", "scope 'chat.readU+202Egnp.kcatta' is malformed"},
		{"scope", "ch\uff41t.read", "chU+FF41t.read"},
		{"audience", "https://\u0430s.chat.example", "'https://U+0430s.chat.example'"},
		{"resource", "https://mcp.chat.example/mcp\u2028x", "U+2028x'"},
		{"requested_token_type", "urn:ietf:params:oauth:token-type:id-jag\u200b", "id-jagU+200B'"},
	}
	for _, tt := range tests {
		form := exchangeForm(idToken)
		form.Set("client_id", "mcp-client")
		form.Set("client_secret", "s1")
		form.Set(tt.param, tt.value)
		resp, body := p.postToken(t, form, nil)
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != 400 || body["error"] == nil || !strings.Contains(desc, tt.want) {
			t.Errorf("%s=%q: HTTP %d %v, want 400 with %s in the description", tt.param, tt.value, resp.StatusCode, body, tt.want)
		}
		for _, r := range desc {
			if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
				t.Errorf("%s=%q: the description holds U+%04X: %q", tt.param, tt.value, r, desc)
				break
			}
		}
	}
}
