package filekind

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// pipeWait bounds the read of a pipe: the wait for a process to write it
// and to finish.
var pipeWait = 5 * time.Second

// ReadRegularOrPipe is ReadRegular that also reads a pipe (`<(command)`,
// /dev/stdin in a pipeline) that a process writes and closes within
// pipeWait, for a file read once (a client command's --ca-file).
func ReadRegularOrPipe(path, what string, limit int64, size string) ([]byte, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		return readPipe(path, what, limit, size)
	}
	return ReadRegular(path, what, limit, size)
}

// ReadRegular reads path, a regular file of at most limit bytes that
// should hold what ("a PEM private key"). Anything else is refused before
// it is read, naming what it is: read in full, /dev/zero filled the
// memory of the commands, and a named pipe without a writer hung them. A
// larger file is refused as larger than size (limit in words: "64 KiB").
func ReadRegular(path, what string, limit int64, size string) ([]byte, error) {
	notRegular := func(m fs.FileMode) error {
		return fmt.Errorf("%s: not a regular file but %s; give the path of %s", path, Of(m), what)
	}
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(fi.Mode())
	}
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err == nil && !fi.Mode().IsRegular() {
		err = notRegular(fi.Mode()) // replaced since
	}
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %s, too large for %s", path, size, what)
	}
	return data, nil
}

// readPipe reads the pipe at path within pipeWait, opened without
// waiting for a writer: one that no process writes, or whose writer does
// not close it in time, is refused instead of hanging the command.
func readPipe(path, what string, limit int64, size string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	deadline := time.Now().Add(pipeWait)
	unfinished := func() error {
		return fmt.Errorf("%s: a named pipe that no process wrote and closed within %v; give the path of %s", path, pipeWait, what)
	}
	_ = f.SetReadDeadline(deadline) // a pipe is polled; if not, EAGAIN below
	var data []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		data = append(data, buf[:n]...)
		if int64(len(data)) > limit {
			return nil, fmt.Errorf("%s: larger than %s, too large for %s", path, size, what)
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF) && len(data) > 0:
			return data, nil
		case errors.Is(err, io.EOF), errors.Is(err, syscall.EAGAIN):
			// No writer yet (a named pipe reads as ended until one opens
			// it), or nothing written yet.
			if time.Now().After(deadline) {
				return nil, unfinished()
			}
			time.Sleep(10 * time.Millisecond)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, unfinished()
		default:
			return nil, err
		}
	}
}
