package audit

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestSyncStats_RawOnlyWhileFsyncsAreFast(t *testing.T) {
	if !rawSyncSupported {
		t.Skip("no raw fsync on this system")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var s syncStats
	if !s.useRaw() {
		t.Fatal("a new log does not use the raw fsync")
	}
	for range 100 {
		s.observe(150 * time.Microsecond)
	}
	if !s.useRaw() {
		t.Fatalf("fsyncs of 150 µs (average %v): not raw", s.avg)
	}
	s.observe(20 * time.Millisecond) // one stalled fsync
	if s.useRaw() {
		t.Fatalf("after a 20 ms fsync (average %v): still raw", s.avg)
	}
	n := 0
	for !s.useRaw() {
		s.observe(150 * time.Microsecond)
		if n++; n > 100 {
			t.Fatalf("fast fsyncs again, average %v: never raw again", s.avg)
		}
	}
	if n < 5 {
		t.Errorf("back to raw after only %d fast fsyncs", n)
	}

	runtime.GOMAXPROCS(1)
	if s.useRaw() {
		t.Error("with one P the raw fsync would stop the process for each fsync")
	}
}

func TestRawSync_ErrorsAsFileSync(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(dir + "/a")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("x\n"); err != nil {
		t.Fatal(err)
	}
	if err := rawSync(f); err != nil {
		t.Fatalf("rawSync of a regular file: %v", err)
	}

	// fsync of a pipe fails (EINVAL); both calls must say so the same way.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	want := w.Sync()
	got := rawSync(w)
	var pe *os.PathError
	if want == nil || !errors.As(got, &pe) || got.Error() != want.Error() {
		t.Errorf("rawSync of a pipe: %v, want %v as f.Sync says it", got, want)
	}
}
