package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// knobsList is the server page's list of how the IdP writes the server's
// ID-JAGs.
var knobsList = regexp.MustCompile(`(?s)<dl class="facts" id="id-jag-knobs">(.*?)</dl>`)

// TestTenants_ServerPageShowsConductorOneKnobs: the console of the
// sample's c1 tenant shows, on its MCP server's page, the conductorone
// persona and what its presets make of the ID-JAGs (docs/personas.md).
func TestTenants_ServerPageShowsConductorOneKnobs(t *testing.T) {
	b := startTenants(t)["c1"].browser(t)
	if resp, body := b.signIn("dana", "dana"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in at c1: %d\n%s", resp.StatusCode, body)
	}
	resp, body := b.get("/admin/servers/notes")
	m := knobsList.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("c1's notes page: %d, no ID-JAG knobs:\n%s", resp.StatusCode, body)
	}
	got := strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], " ")), " ")
	want := "Persona conductorone Signing algorithm ES256 aud a string ( string ) resource omitted " +
		"email included, with email_verified tenant omitted aud_tenant omitted Lifetime 5m"
	if got != want {
		t.Errorf("c1's notes page shows the ID-JAGs as\n%s\nwant\n%s", got, want)
	}
}
