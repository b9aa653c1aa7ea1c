//go:build !linux

package audit

import "os"

const rawSyncSupported = false

func rawSync(f *os.File) error { return f.Sync() }
