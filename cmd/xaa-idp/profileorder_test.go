package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Every flag is checked before serve creates any file: a refused value
// leaves no empty CPU profile behind.
func TestServe_RefusedFlagCreatesNoProfile(t *testing.T) {
	for _, bad := range [][]string{
		{"--clock", "bad"},
		{"--addr", "bad"},
		{"--addr", "nonsense:0"},
		{"--issuer", "ftp://x"},
		{"--log-level", "loud"},
		{"--log-format", "xml"},
	} {
		profile := filepath.Join(t.TempDir(), "cpu.prof")
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--cpuprofile", profile}, bad...)
		code, _, stderr := runBinary(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want 2: %s", args, code, stderr)
		}
		if _, err := os.Stat(profile); !os.IsNotExist(err) {
			t.Errorf("%v: the profile file exists (err %v)", args, err)
		}
	}
}
