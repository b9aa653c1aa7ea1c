//go:build unix

package audit_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// TestOpen_FIFOReaderSeesNoEnd: Open looks whether a named pipe has a
// reader by opening it without blocking, and closed that look before
// opening the pipe for the log. In between the pipe had no writer, so a
// reader such as cat read end of file and stopped: the events never
// reached it, and the log's own open then waited for a reader forever.
// The reader must see one writer throughout and read every event.
func TestOpen_FIFOReaderSeesNoEnd(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// A reader that is there before the log, as cat started first is;
	// it reads once the log is opening.
	f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read := make(chan string, 1)
	ended := false
	defer audit.SetPipeProbed(func() {
		go func() {
			b, _ := io.ReadAll(f) // until no writer is left
			read <- string(b)
		}()
		// Between the look and the open, give the reader the time a
		// busy machine may take to read.
		select {
		case got := <-read:
			ended = true
			t.Errorf("the reader read %q and end of file before the log opened the pipe", got)
		case <-time.After(200 * time.Millisecond):
		}
	})()
	done := make(chan *audit.Log, 1)
	go func() {
		l, err := audit.Open(audit.Options{Path: fifo})
		if err != nil {
			t.Errorf("Open: %v", err)
		}
		done <- l
	}()
	var l *audit.Log
	select {
	case l = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Open of a named pipe with a reader: still opening after 10s")
	}
	if l == nil || ended {
		return
	}
	if _, err := l.Append(audit.Event{Type: audit.TypeLogin, Outcome: audit.Allowed, User: "alice"}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case got := <-read:
		if !strings.Contains(got, `"user":"alice"`) {
			t.Errorf("the reader read %q; want the appended event", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader still reading 10s after Close")
	}
}
