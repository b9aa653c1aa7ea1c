//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package filelock_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/filelock"
)

// childEnv, when set, makes the test binary a child that locks the
// directory it names, says so on stdout and waits to be killed.
const childEnv = "FILELOCK_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		if _, err := filelock.LockDir(dir); err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(2)
		}
		os.Stdout.WriteString("locked\n")
		select {}
	}
	os.Exit(m.Run())
}

func TestLockDir_SecondHolderIsRefusedUntilReleased(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	release, err := filelock.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory created with %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, filelock.DirFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file created with %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	_, err = filelock.LockDir(dir)
	var inUse *filelock.InUseError
	if !errors.As(err, &inUse) || inUse.PID != os.Getpid() || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second LockDir: %v, want an InUseError naming %s and pid %d", err, dir, os.Getpid())
	}
	release()
	release2, err := filelock.LockDir(dir)
	if err != nil {
		t.Fatalf("LockDir after release: %v", err)
	}
	release2()
}

// A process killed with SIGKILL holds no lock: the next start is not
// blocked by a crash.
func TestLockDir_KilledHolderReleasesIt(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("child: %q", line)
	}
	_, err = filelock.LockDir(dir)
	var inUse *filelock.InUseError
	if !errors.As(err, &inUse) || inUse.PID != cmd.Process.Pid {
		t.Fatalf("LockDir while the child holds it: %v, want an InUseError with pid %d", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	release, err := filelock.LockDir(dir)
	if err != nil {
		t.Fatalf("LockDir after the holder was killed: %v", err)
	}
	release()
}

func TestTryLock_SecondOpenOfTheFileIsRefused(t *testing.T) {
	name := filepath.Join(t.TempDir(), "audit.jsonl")
	f1, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := filelock.TryLock(f1); err != nil {
		t.Fatal(err)
	}
	f2, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if err := filelock.TryLock(f2); !errors.Is(err, filelock.ErrLocked) {
		t.Fatalf("TryLock of a second open: %v, want ErrLocked", err)
	}
	f1.Close()
	if err := filelock.TryLock(f2); err != nil {
		t.Fatalf("TryLock once the first is closed: %v", err)
	}
}

func TestLockWait_WaitsForTheHolder(t *testing.T) {
	dir := t.TempDir()
	f1, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := filelock.TryLock(f1); err != nil {
		t.Fatal(err)
	}
	f2, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	go func() {
		time.Sleep(50 * time.Millisecond)
		f1.Close()
	}()
	if err := filelock.LockWait(f2); err != nil {
		t.Fatalf("LockWait once the holder closes: %v", err)
	}
}
