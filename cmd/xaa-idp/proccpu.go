package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Server CPU time for `xaa-idp load`, read from Linux's /proc: the
// latencies a load test sees on a shared machine depend on everyone else,
// but the CPU time the server spent per request does not.

// userHZ is the unit of utime and stime in /proc/<pid>/stat. It is
// USER_HZ, which Linux fixes at 100 for user space on every architecture
// (sysconf(_SC_CLK_TCK), proc(5)), whatever the kernel's own tick rate.
const userHZ = 100

// processCPU returns the CPU time pid has used so far, user plus system,
// all its threads included: to the nanosecond from the process's CPU-time
// clock where it can be read (processClock), else from fields 14 and 15 of
// /proc/<pid>/stat (proc(5)), whose resolution is one tick, 10 ms. The
// second return says which: the resolution.
func processCPU(pid int) (time.Duration, time.Duration, error) {
	if d, ok := processClock(pid); ok {
		return d, time.Nanosecond, nil
	}
	d, err := procStatCPU(pid)
	return d, time.Second / userHZ, err
}

// procStatCPU is processCPU from /proc/<pid>/stat, in ticks.
func procStatCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces
	// and parentheses: the fields after it follow its last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state), so utime (14) and stime (15) are at
	// 11 and 12.
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields)+2)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// listenerPID finds the process listening on TCP port: the socket's inode
// from /proc/net/tcp and tcp6 (state 0A, LISTEN), then the process holding
// a descriptor for it (/proc/<pid>/fd/* links to "socket:[inode]"). Only
// the processes the caller may inspect are searched, which includes its
// own user's.
func listenerPID(port int) (int, error) {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := listeningInodes(table, port, inodes); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("no socket listens on port %d", port)
	}
	procs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(filepath.Join(p, "fd"))
		if err != nil {
			continue // another user's process, or gone
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(p, "fd", fd.Name()))
			if err == nil && strings.HasPrefix(link, "socket:[") && inodes[strings.TrimSuffix(link[len("socket:["):], "]")] {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("the process listening on port %d is not ours to inspect", port)
}

// listeningInodes adds to inodes the inode of every socket in table (the
// format of /proc/net/tcp: sl, local_address as hex IP:hex port, ..., st,
// ..., inode as the tenth field) that listens on port.
func listeningInodes(table string, port int, inodes map[string]bool) error {
	f, err := os.Open(table)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header line
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if p, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil && int(p) == port {
			inodes[fields[9]] = true
		}
	}
	return sc.Err()
}
