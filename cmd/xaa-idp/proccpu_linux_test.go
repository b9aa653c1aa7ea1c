package main

import (
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestProcessCPU reads the test process's own CPU time from /proc and
// compares it with what getrusage(2) says, within a tick either side.
func TestProcessCPU(t *testing.T) {
	before, err := procStatCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until /proc shows at least two ticks more.
	deadline := time.Now().Add(30 * time.Second)
	x := 0
	for after := before; after < before+2*time.Second/userHZ; {
		for i := range 1_000_000 {
			x ^= i * i
		}
		if after, err = procStatCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stays at %v after 30 s of work", after)
		}
	}
	_ = x
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	got, err := procStatCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	want := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if tick := time.Second / userHZ; got < want-2*tick || got > want+2*tick {
		t.Errorf("/proc says %v, getrusage %v", got, want)
	}
	if _, _, err := processCPU(-1); err == nil {
		t.Error("processCPU(-1) did not fail")
	}
}

// TestProcessCPU_Nanoseconds: the CPU-time clock of a process, read by pid as
// the load command reads the server's, agrees with the process's own
// CLOCK_PROCESS_CPUTIME_ID, all its threads' work included, to well under a
// tick.
func TestProcessCPU_Nanoseconds(t *testing.T) {
	ownClock := func() time.Duration {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ts.Nano())
	}
	// read returns the clock read by pid, and the process's own clock just
	// before and just after: other tests' goroutines run meanwhile, so the
	// pid's reading can only be held to lie between the two.
	read := func() (byPID, before, after time.Duration) {
		before = ownClock()
		d, res, err := processCPU(os.Getpid())
		if err != nil || res != time.Nanosecond {
			t.Fatalf("processCPU = %v, resolution %v, %v; want the nanosecond clock", d, res, err)
		}
		return d, before, ownClock()
	}
	b0, before0, after0 := read()
	// Work on two threads for about 20 ms of CPU: a tick's worth would be lost in /proc.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			runtime.LockOSThread()
			x := 0
			for i := range 20_000_000 {
				x ^= i * i
			}
			sink.Add(int64(x))
		})
	}
	wg.Wait()
	b1, before1, after1 := read()
	if b1-b0 < time.Millisecond {
		t.Fatalf("the clock moved %v over the work", b1-b0)
	}
	// One clock, read by pid and by the process itself: each reading by
	// pid lies between the own readings around it (a microsecond of slack
	// for the clocks' rounding).
	for _, r := range []struct{ byPID, before, after time.Duration }{{b0, before0, after0}, {b1, before1, after1}} {
		if r.byPID < r.before-time.Microsecond || r.byPID > r.after+time.Microsecond {
			t.Errorf("by pid %v, own clock %v just before and %v just after", r.byPID, r.before, r.after)
		}
	}
	if _, ok := processClock(-1); ok {
		t.Error("processClock(-1) read a clock")
	}
}

var sink atomic.Int64

// TestListenerPID finds the test process itself as the owner of its
// listening sockets, IPv4 and IPv6.
func TestListenerPID(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Logf("%s: %v", addr, err) // no IPv6 here
			continue
		}
		pid, err := listenerPID(ln.Addr().(*net.TCPAddr).Port)
		if err != nil || pid != os.Getpid() {
			t.Errorf("%s: listenerPID = %d, %v; want %d", ln.Addr(), pid, err, os.Getpid())
		}
		ln.Close()
	}
	// A port nobody listens on: take one and let it go.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if pid, err := listenerPID(port); err == nil {
		t.Errorf("listenerPID(%d) = %d after the listener closed", port, pid)
	}
}
