package audit

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// RefusedError is the error of a change whose event the log did not take
// (Err, Append's): the change was not made. The IdP's handlers return it
// from the function that records a change before it is made (an access
// request's, a configuration edit's journal), to tell it from the
// change's own errors. Log.Refused makes it.
type RefusedError struct {
	Err    error
	Broken bool // the log takes no more events until a restart (Log.Err)
}

// Refused is err, an Append's, as a change's refusal.
func (l *Log) Refused(err error) *RefusedError {
	return &RefusedError{Err: err, Broken: l.Err() != nil}
}

func (e *RefusedError) Error() string { return "the audit log could not be written: " + e.Err.Error() }

func (e *RefusedError) Unwrap() error { return e.Err }

// Describe is the error description of what (the thing not made: "the
// change was not made") refused because the log did not take its event:
// why in plain words, and what to do (docs/http.md, "Admin API"), with,
// for an error that is not the system's refusal of a write (a file put
// in the log's place), its text, which names the log's file: an admin's
// answer, not a user's. Until 2026-12-07 the admin API's answers gave the
// failed write ("audit: writing FILE: write FILE: no space left on
// device").
func (e *RefusedError) Describe(what string) string {
	err := e.Err
	if errors.Is(err, ErrClosed) {
		return what + ": the audit log is closed, as the IdP is stopping; send it again once the IdP has started again"
	}
	why, todo := DiskWhy(err)
	if why == "" {
		why, todo = strings.TrimPrefix(err.Error(), "audit: "), "the IdP's log says more"
	}
	if e.Broken {
		// Broken for good (a failed fsync): only a restart mends it.
		return fmt.Sprintf("%s: its audit event could not be written: %s, and the audit log takes no more events until the IdP restarts: %s, then restart the IdP and send it again", what, why, todo)
	}
	return fmt.Sprintf("%s: its audit event could not be written to the audit log: %s; %s and send it again", what, why, todo)
}

// DiskWhy is, in plain words, why a file could not be written when err is
// the system's refusal (its errno), and what to do; why is "" for another
// error.
func DiskWhy(err error) (why, todo string) {
	todo = "check the file's disk"
	var errno syscall.Errno
	switch {
	case errors.Is(err, syscall.ENOSPC):
		why, todo = "its disk is full", "free space on its file system"
	case errors.Is(err, syscall.EDQUOT):
		why, todo = "the disk quota of the IdP's user is used up", "free space or raise the quota,"
	case errors.Is(err, syscall.EFBIG):
		why, todo = "it would exceed the file size limit of the IdP's process (ulimit -f)", "raise the limit"
	case errors.Is(err, syscall.EROFS):
		why, todo = "its file system is mounted read-only", "make it writable"
	case errors.As(err, &errno):
		why = errno.Error()
	}
	return why, todo
}
