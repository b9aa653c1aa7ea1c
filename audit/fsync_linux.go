package audit

import (
	"os"
	"syscall"
)

const rawSyncSupported = true

// rawSync is fsync(2) on f without the scheduler's hand-off (see fsync.go); an error is an
// *os.PathError, as f.Sync's.
func rawSync(f *os.File) error {
	for {
		_, _, errno := syscall.RawSyscall(syscall.SYS_FSYNC, f.Fd(), 0, 0)
		switch errno {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return &os.PathError{Op: "sync", Path: f.Name(), Err: errno}
	}
}
