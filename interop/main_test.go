package interop_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// binDir holds the xaa-idp binary that the tests build (once per run).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xaa-idp-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
	binDir = dir
	// The binaries these tests start keep a generated RS256 key in the
	// user's cache directory when they have no --state-dir: keep it in
	// the test's own.
	cache := filepath.Join(dir, "cache")
	os.Setenv("XDG_CACHE_HOME", cache)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var built struct {
	once sync.Once
	path string
	err  error
}

// xaaIDPBinary builds ./cmd/xaa-idp on first use and returns the binary's
// path; the tests that run the binary (the demo, the connect command and
// the TypeScript suite through run-node.sh) share it.
func xaaIDPBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if err := recordBinaryInputs(); err != nil {
			built.err = err
			return
		}
		path := filepath.Join(binDir, "xaa-idp")
		cmd := exec.Command("go", "build", "-o", path, "github.com/xaa-idp/xaa-idp/cmd/xaa-idp")
		cmd.Dir = ".." // the module root
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build ./cmd/xaa-idp: %v\n%s", err, out)
			return
		}
		built.path = path
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// recordBinaryInputs opens every source and embedded file of the module's
// packages that the binary is built from, and the files run-node.sh and
// Node read. The go command caches test results keyed on the files a test
// opens; without this, `go test ./interop/` would replay a cached "ok"
// after a change to cmd/xaa-idp, connect, resource or the Node tests,
// which this package does not import.
func recordBinaryInputs() error {
	cmd := exec.Command("go", "list", "-e", "-deps", "-f",
		`{{if and .Module .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}
{{end}}{{end}}`,
		"github.com/xaa-idp/xaa-idp/cmd/xaa-idp")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return fmt.Errorf("go list -deps ./cmd/xaa-idp: %v\n%s", err, stderr)
	}
	files := strings.Fields(string(out))
	files = append(files, "../go.mod", "../go.sum", "run-node.sh", "node/package.json", "node/package-lock.json")
	mjs, _ := filepath.Glob("node/*.mjs")
	files = append(files, mjs...)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		f.Close()
	}
	return nil
}
