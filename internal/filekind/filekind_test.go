package filekind

import (
	"io/fs"
	"testing"
)

func TestOf(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		fs.ModeDir | 0o755:                "a directory",
		fs.ModeNamedPipe | 0o600:          "a named pipe",
		fs.ModeDevice | fs.ModeCharDevice: "a device",
		fs.ModeSocket:                     "a socket",
		fs.ModeSymlink:                    "something other than a file",
		fs.ModeIrregular:                  "something other than a file",
	} {
		if got := Of(m); got != want {
			t.Errorf("Of(%v) = %q, want %q", m, got, want)
		}
	}
}
