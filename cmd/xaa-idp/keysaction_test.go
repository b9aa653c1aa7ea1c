package main

import (
	"strings"
	"testing"
)

// TestKeys_MissingActionSaysWhatIsWrong: keys without its action, or with
// the flags before it, printed the usage line alone, naming nothing that
// was wrong; it says that the action is missing, or that it comes before
// the flags (the flags stop at the first word that is not one). Exit 2
// either way.
func TestKeys_MissingActionSaysWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"keys"}, "xaa-idp keys: name the action, rotate or list"},
		{[]string{"keys", "--admin-user", "a", "--admin-password", "p", "list"}, "xaa-idp keys: name the action, rotate or list, before the flags: xaa-idp keys list --admin-user"},
		{[]string{"keys", "--admin-user", "a"}, "xaa-idp keys: name the action, rotate or list, before the flags"},
	} {
		code, out, stderr := runCLI(t, c.args...)
		if code != exitUsage || out != "" || !strings.Contains(stderr, c.says) || !strings.Contains(stderr, "Usage: xaa-idp keys rotate|list") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d saying %q and the usage", c.args, code, out, stderr, exitUsage, c.says)
		}
	}
}
