//go:build !unix

package atomicfile

// SyncDir does nothing where a directory cannot be synced: on Windows
// os.Open opens a directory for reading only, and File.Sync
// (FlushFileBuffers) needs a handle opened for writing, so it failed
// every write after its rename. NTFS journals the rename itself.
func SyncDir(dir string) error { return nil }
