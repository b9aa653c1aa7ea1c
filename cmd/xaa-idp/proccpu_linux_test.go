package main

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestProcessCPU reads the test process's own CPU time from /proc and
// compares it with what getrusage(2) says, within a tick either side.
func TestProcessCPU(t *testing.T) {
	before, err := processCPU(os.Getpid())
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
		if after, err = processCPU(os.Getpid()); err != nil {
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
	got, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	want := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if tick := time.Second / userHZ; got < want-2*tick || got > want+2*tick {
		t.Errorf("/proc says %v, getrusage %v", got, want)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("processCPU(-1) did not fail")
	}
}

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
