package web_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestPages_ScriptButtonsAreHiddenWithoutTheScript: a button that only
// the console's script makes work (the audit log's live tail, an editor's
// "Add a row") is sent hidden, and the script shows it, so that a browser
// without JavaScript shows no control that does nothing when pressed.
// Before, the live tail's "Live tail: off" showed and did nothing.
func TestPages_ScriptButtonsAreHiddenWithoutTheScript(t *testing.T) {
	_, b := signedIn(t)
	button := regexp.MustCompile(`<button type="button"[^>]*>`)
	for _, path := range []string{"/admin/audit", "/admin/servers/tracker"} {
		_, body := b.get(path)
		found := button.FindAllString(body, -1)
		if len(found) == 0 {
			t.Errorf("%s has no script button; the test expects one", path)
		}
		for _, tag := range found {
			if !strings.Contains(tag, " hidden") {
				t.Errorf("%s: %s shows without the script, and does nothing there", path, tag)
			}
		}
	}
}
