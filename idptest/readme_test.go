package idptest_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEExample checks that the README's idptest example is
// readme_example_test.go from its import block on, which the package's
// tests compile and run.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "**In Go: package `idptest`.**")
	if !ok {
		t.Fatal("README.md has no paragraph \"In Go: package `idptest`.\"")
	}
	_, block, ok := strings.Cut(after, "```go\n")
	if !ok {
		t.Fatal("README.md: no ```go block after \"In Go: package `idptest`.\"")
	}
	block, _, _ = strings.Cut(block, "```\n")
	src, err := os.ReadFile("readme_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, file, _ := strings.Cut(string(src), "\nimport (")
	if want := "import (" + file; block != want {
		t.Errorf("README.md's idptest example is not readme_example_test.go from its import block on; README:\n%s\nreadme_example_test.go:\n%s", block, want)
	}
}
