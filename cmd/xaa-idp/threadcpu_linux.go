package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time the calling OS thread has used, user plus
// system, to the nanosecond (CLOCK_THREAD_CPUTIME_ID, clock_gettime(2));
// ok is false where it cannot be read.
func threadCPU() (d time.Duration, ok bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

// processClock returns the CPU time process pid has used, user plus system,
// all its threads included (those that have exited too), to the nanosecond:
// the process's CPU-time clock (clock_getcpuclockid(3), whose clock ID for
// another process is ~pid<<3 | CPUCLOCK_SCHED, as glibc builds it). Linux
// lets any process read it. ok is false where it cannot be read.
func processClock(pid int) (d time.Duration, ok bool) {
	if pid <= 0 {
		return 0, false
	}
	const cpuclockSched = 2
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(^pid<<3|cpuclockSched), &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
