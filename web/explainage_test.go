package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestExplain_NegativeLoginAgeIsTheFieldsError: the Explain form checked
// that a login age parses, the admin API also that it is not negative; a
// negative one went to the API and came back as its error about its own
// URL ("GET .../admin/api/explain?...: auth_age must be ..."), not at the
// field. The console now refuses it as the API does, at the field.
func TestExplain_NegativeLoginAgeIsTheFieldsError(t *testing.T) {
	p := startWithCIMDClient(t)
	b := p.browser(t)
	if resp, body := b.signIn("alice", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	_, page := b.get("/admin/explain?user=alice&client=mcp-client&server=tracker&auth_age=" + url.QueryEscape("-5m"))
	if !strings.Contains(page, `id="auth_age-error"`) || strings.Contains(page, "/admin/api/explain") {
		t.Errorf("a negative login age is not the field's error:\n%s", page)
	}
	if _, page := b.get("/admin/explain?user=alice&client=mcp-client&server=tracker&auth_age=5m"); strings.Contains(page, `id="auth_age-error"`) || !strings.Contains(page, `id="decision"`) {
		t.Errorf("a login age of 5m is refused:\n%s", page)
	}
}
