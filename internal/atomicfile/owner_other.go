//go:build !unix

package atomicfile

import (
	"io/fs"
	"os"
)

// keepOwner does nothing where files have no Unix owner.
func keepOwner(*os.File, fs.FileInfo) {}

// mayWrite has no more to say than the permission bits where files have
// no Unix permissions.
func mayWrite(string) error { return nil }
