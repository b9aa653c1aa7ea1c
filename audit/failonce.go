package audit

import (
	"log/slog"
	"sync/atomic"
)

// FailOnce logs a run of failed appends once, not per request: while the
// file cannot be written (a full disk) every request that audits fails,
// and a line each would bury the log. The end of the run is logged once
// too, with how many appends failed in it.
type FailOnce struct {
	failing atomic.Int64 // appends failed since the last that succeeded
}

// Failed counts a failed append and logs msg with args at ERROR if it
// begins a run.
func (f *FailOnce) Failed(msg string, args ...any) {
	if f.failing.Add(1) == 1 {
		slog.Error(msg, args...)
	}
}

// Succeeded ends a run of failures, if one is going on, logging msg at
// WARN with the run's count under key.
func (f *FailOnce) Succeeded(msg, key string) {
	if f.failing.Load() != 0 {
		if n := f.failing.Swap(0); n != 0 {
			slog.Warn(msg, key, n)
		}
	}
}
