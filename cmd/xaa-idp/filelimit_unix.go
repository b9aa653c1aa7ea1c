//go:build unix

package main

import "syscall"

// fileLimit is the process's limit of open descriptors (RLIMIT_NOFILE's
// soft limit, which the Go runtime raises to the hard limit at start).
func fileLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 1 << 30
	}
	return int(r.Cur)
}
