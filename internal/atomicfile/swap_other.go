//go:build !linux

package atomicfile

// swap cannot exchange two files in one step here: Write renames over the
// file, and a WriteIf's replaced sees nothing.
func swap(a, b string) (ok bool, err error) { return false, nil }
