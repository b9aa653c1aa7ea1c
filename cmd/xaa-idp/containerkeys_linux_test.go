package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xaa-idp/xaa-idp/internal/diskfull"
)

// TestDockerfile_ReadOnlyRootSaysOnceThatKeysAreNotKept: the image on a
// read-only root without a state directory (README, "In a container": it
// keeps no state by default) cannot keep its generated RS256 key in the
// user's cache directory, $HOME/.cache. Every start warned "cannot keep
// the generated signing key ... mkdir /home/nonroot/.cache: read-only file
// system". It says once, in plain words, that the keys are new on every
// start, and names the variable that keeps them.
func TestDockerfile_ReadOnlyRootSaysOnceThatKeysAreNotKept(t *testing.T) {
	ro := diskfull.Tmpfs(t, 64<<10)
	if err := unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot make the tmpfs read-only: %v", err)
	}
	// The image's user's home, on the read-only root; no XDG_CACHE_HOME.
	var env []string
	for _, kv := range containerEnv(t, "XAA_IDP_ADDR=127.0.0.1:0") {
		if !strings.HasPrefix(kv, "XDG_CACHE_HOME=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+filepath.Join(ro, "home", "nonroot"))
	c := startContainer(t, env, nil, "")
	// The RS256 key is made, and kept if it can be, before /keys answers.
	resp, err := http.Get(c.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.stop(t, syscall.SIGTERM)
	log := c.stderr.String()
	for _, goWords := range []string{"mkdir", "read-only file system", "err="} {
		if strings.Contains(log, goWords) {
			t.Errorf("the start says %q, Go's words:\n%s", goWords, log)
		}
	}
	if n := strings.Count(log, "XAA_IDP_STATE_DIR"); n != 1 || !strings.Contains(log, "new on every start") {
		t.Errorf("the start does not say once that the keys are new on every start and that XAA_IDP_STATE_DIR keeps them (%d mentions):\n%s", n, log)
	}
	if strings.Contains(log, "level=WARN") {
		t.Errorf("the documented default of the image is warned of:\n%s", log)
	}
}
