//go:build !unix

package recordlog

import "os"

// unlinked reports false where an open file cannot be deleted (Windows,
// without FILE_SHARE_DELETE) or its link count is not known.
func unlinked(*os.File) bool { return false }
