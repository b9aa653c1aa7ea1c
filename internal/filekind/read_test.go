//go:build unix

package filekind

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A pipe is read, within pipeWait and the limit: `--ca-file <(xaa-idp ca
// --state-dir st)` and /dev/stdin in a pipeline are pipes, and worked
// before pipes were refused for hanging the commands. A pipe no process
// writes, or whose writer never finishes, is refused without a hang.
func TestReadRegularOrPipe_Pipes(t *testing.T) {
	defer func(d time.Duration) { pipeWait = d }(pipeWait)
	pipeWait = 300 * time.Millisecond
	fifo := func(t *testing.T) string {
		p := filepath.Join(t.TempDir(), "ca.pem")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skip("mkfifo:", err)
		}
		return p
	}
	// writeAndClose writes data into the pipe p once a reader opens it,
	// then closes it.
	writeAndClose := func(p string, data []byte) {
		go func() {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			f.Write(data)
			f.Close()
		}()
	}

	t.Run("written and closed", func(t *testing.T) {
		p := fifo(t)
		writeAndClose(p, []byte("-----BEGIN CERTIFICATE-----\n"))
		data, err := ReadRegularOrPipe(p, "a PEM file", 1<<20, "1 MiB")
		if err != nil || string(data) != "-----BEGIN CERTIFICATE-----\n" {
			t.Fatalf("ReadRegular of a pipe written and closed: %q, %v", data, err)
		}
	})
	t.Run("no writer", func(t *testing.T) {
		start := time.Now()
		_, err := ReadRegularOrPipe(fifo(t), "a PEM file", 1<<20, "1 MiB")
		if err == nil || !strings.Contains(err.Error(), "named pipe") || time.Since(start) > 5*time.Second {
			t.Fatalf("ReadRegular of a pipe no process writes: %v after %v; want a refusal naming the pipe, at once", err, time.Since(start))
		}
	})
	t.Run("writer never finishes", func(t *testing.T) {
		p := fifo(t)
		opened := make(chan *os.File, 1)
		go func() {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err == nil {
				f.WriteString("-----BEGIN")
			}
			opened <- f
		}()
		_, err := ReadRegularOrPipe(p, "a PEM file", 1<<20, "1 MiB")
		if f := <-opened; f != nil {
			f.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "named pipe") {
			t.Fatalf("ReadRegular of a pipe whose writer never finishes: %v; want a refusal naming the pipe", err)
		}
	})
	t.Run("larger than the limit", func(t *testing.T) {
		p := fifo(t)
		writeAndClose(p, make([]byte, 4096))
		_, err := ReadRegularOrPipe(p, "a PEM file", 100, "100 bytes")
		if err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
			t.Fatalf("ReadRegular of a pipe beyond the limit: %v", err)
		}
	})
}
