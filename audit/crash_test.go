package audit_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// crashChildEnv, when set, makes the test binary an appending child for
// TestAppend_AcknowledgedEventsSurviveSIGKILL instead of running tests.
const crashChildEnv = "AUDIT_CRASH_CHILD_LOG"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

// crashChild appends from several goroutines until it is killed, printing each event's ID on
// stdout once its Append has returned: a printed ID is an acknowledged event. Every seventh event
// is large (about 100 KB: the most keys Details may hold, each with a long value), so that a kill
// sometimes lands in the middle of a write. Half the goroutines announce their appends (Expect),
// so that a kill also finds leaders waiting for them.
func crashChild(path string) {
	l, err := audit.Open(audit.Options{Path: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	big := make(map[string]any, audit.MaxDetailsKeys)
	for i := range audit.MaxDetailsKeys {
		big[fmt.Sprint(i)] = strings.Repeat("x", audit.MaxTextBytes)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				expected := g%2 == 0
				var x audit.Expectation
				if expected {
					x = l.Expect() // ended by its Append
				}
				e := audit.Event{Type: audit.TypeTokenExchange, Outcome: audit.Allowed, User: fmt.Sprint(g)}
				if i%7 == 0 {
					e.Details = big
				}
				var err error
				if expected {
					e, err = x.Append(e)
				} else {
					e, err = l.Append(e)
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				// One write per line, so lines from different goroutines do not interleave.
				os.Stdout.WriteString(e.ID + "\n")
			}
		})
	}
	wg.Wait()
}

// TestAppend_AcknowledgedEventsSurviveSIGKILL kills a process mid-append, three times over on
// the same file, and checks that the file opens cleanly and holds every event a process was told
// was appended. Each new child opens what the last one left, so Open's repair is exercised too.
//
// The assertion is sound because a child prints an ID only after Append returned it, and the
// parent counts only whole printed lines, so every counted ID was acknowledged before the kill.
// Lines written but never acknowledged may be there too, hence "at least". A kill leaves the
// kernel's page cache intact, so this checks that acknowledged lines are whole and in the file,
// and that Open repairs what an interrupted write leaves; it cannot check the fsync against power
// loss.
func TestAppend_AcknowledgedEventsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := tempPath(t)
	var acked []string
	for range 3 {
		acked = append(acked, appendUntilKilled(t, path, 100)...)
	}

	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(audit.Options{Path: path, Capacity: 1 << 20})
	if err != nil {
		t.Fatalf("Open after the kill: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	evs := fileEvents(t, path) // fails on any line that does not parse
	inFile := make(map[string]bool, len(evs))
	for _, e := range evs {
		if inFile[e.ID] {
			t.Fatalf("ID %s twice in the file", e.ID)
		}
		inFile[e.ID] = true
	}
	if len(evs) < len(acked) {
		t.Errorf("%d lines in the file, but %d appends were acknowledged", len(evs), len(acked))
	}
	for _, id := range acked {
		if !inFile[id] {
			t.Errorf("acknowledged event %s not in the file", id)
		}
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events acknowledged, %d in the file, %d torn bytes removed by the last Open",
		len(acked), len(evs), before.Size()-after.Size())
}

// appendUntilKilled runs a crashChild on path, kills it once it has acknowledged n events, and
// returns the IDs of all the events it acknowledged.
func appendUntilKilled(t *testing.T, path string, n int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	enough := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // a last line without its newline was cut by the kill: not counted
			}
			acked = append(acked, strings.TrimSuffix(line, "\n"))
			if len(acked) == n {
				close(enough)
			}
		}
	}()
	select {
	case <-enough:
	case <-readDone:
		cmd.Wait()
		t.Fatalf("child exited after %d events", len(acked))
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child did not acknowledge enough events in time")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-readDone // the pipe still holds what the child printed before it died
	cmd.Wait()
	return acked
}
