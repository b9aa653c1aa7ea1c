package admin_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/policy"
)

// crashChildEnv, when set, makes the test binary an editing child for
// TestConfigAPI_KilledMidEditLeavesOldOrNewFile instead of running tests:
// its value is the directory holding idp.yaml and audit.jsonl, then a
// comma and the number of the first edit.
const crashChildEnv = "ADMIN_CRASH_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(crashChildEnv); v != "" {
		dir, first, _ := strings.Cut(v, ",")
		n, _ := strconv.Atoi(first)
		crashChild(dir, n)
		return
	}
	os.Exit(m.Run())
}

// crashDescription is the description edit k gives the group eng: a
// different length every time, so that a torn write would show.
func crashDescription(k int) string {
	// Never a trailing space: YAML would quote that value, and the next edit
	// keeps the quoting style of the value it replaces, which version(k),
	// applied to the initial file, cannot know.
	return fmt.Sprintf("edit %d x%s", k, strings.Repeat("x", k%251))
}

// crashChild serves the product on dir/idp.yaml and changes the group
// eng through the admin API, edit after edit, until it is killed, printing
// each edit's number once the API has answered 200: the edit is on disk,
// running and audited.
func crashChild(dir string, k int) {
	store, err := policy.OpenStore(filepath.Join(dir, "idp.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	p := serveStore(childTB{}, store, filepath.Join(dir, "audit.jsonl"))
	tag := `"` + store.Version() + `"`
	for ; ; k++ {
		resp, body := p.send(childTB{}, http.MethodPut, "/admin/api/groups/eng", "alice",
			map[string]string{"description": crashDescription(k)}, "If-Match", tag)
		if resp.StatusCode != http.StatusOK {
			fmt.Fprintf(os.Stderr, "edit %d: %d %s\n", k, resp.StatusCode, body)
			os.Exit(2)
		}
		tag = resp.Header.Get("ETag")
		os.Stdout.WriteString(strconv.Itoa(k) + "\n")
	}
}

// childTB is the testing.TB of the child, which has no test.
type childTB struct{ testing.TB }

func (childTB) Helper()           {}
func (childTB) Cleanup(func())    {}
func (childTB) Fatal(args ...any) { fmt.Fprintln(os.Stderr, args...); os.Exit(2) }
func (childTB) Fatalf(f string, args ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", args...)
	os.Exit(2)
}

// TestConfigAPI_KilledMidEditLeavesOldOrNewFile kills a process in the
// middle of a burst of edits through the admin API, twenty times over on
// the same files, and checks that the configuration file is always whole:
// exactly the last acknowledged version or the one being written, never a
// mix; that what it holds is always the original or the "after" of an
// allowed admin_change (the event is durable before the file is
// replaced); that every line of the audit file parses; that every
// acknowledged edit was audited; and that an edit recorded but not
// written is followed by its admin_change with outcome error, which the
// next start appends.
func TestConfigAPI_KilledMidEditLeavesOldOrNewFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	initial := crashConfig()
	file := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(file, initial, 0o600); err != nil {
		t.Fatal(err)
	}
	// version(k) is the file edit k writes: the same edit, applied in
	// memory to the initial file, by the same code.
	version := func(k int) string {
		s, err := policy.NewStore(initial, file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutGroup(policy.Group{Name: "eng", Description: crashDescription(k)}, "*"); err != nil {
			t.Fatal(err)
		}
		return string(s.YAML())
	}
	acked := map[int]bool{}
	for run := range 20 {
		first := (run + 1) * 1_000_000
		last := editUntilKilled(t, dir, first, 5+rand.IntN(15))
		for k := first; k <= last; k++ {
			acked[k] = true
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := policy.Parse(got, file); err != nil {
			t.Fatalf("run %d: the file does not parse after the kill:\n%v", run, err)
		}
		switch string(got) {
		case version(last):
		case version(last + 1):
			t.Logf("run %d: killed after writing edit %d, before answering", run, last+1)
		default:
			t.Fatalf("run %d: the file is neither edit %d nor %d:\n%s", run, last, last+1, got)
		}
		if !recorded(t, dir, policy.Version(got)) {
			t.Fatalf("run %d: the file holds a version that no allowed admin_change recorded", run)
		}
	}
	// One more start settles the last run's edit, if it was recorded and
	// not written.
	store, err := policy.OpenStore(file)
	if err != nil {
		t.Fatal(err)
	}
	serveStore(t, store, filepath.Join(dir, "audit.jsonl"))
	checkChain(t, dir, store.Version())
	audited := map[int]bool{}
	raw, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %d does not parse: %v\n%q", i+1, err, line)
		}
		if e.Type != audit.TypeAdminChange || e.Outcome != audit.Allowed {
			continue
		}
		after, _ := e.Details["after"].(map[string]any)
		desc, _ := after["description"].(string)
		var k int
		if _, err := fmt.Sscanf(desc, "edit %d", &k); err != nil {
			t.Fatalf("admin_change without the edit's description: %+v", e)
		}
		audited[k] = true
	}
	for k := range acked {
		if !audited[k] {
			t.Errorf("acknowledged edit %d is not in the audit log", k)
		}
	}
	t.Logf("%d edits acknowledged, %d audited", len(acked), len(audited))
}

// adminChanges returns the configuration's admin_change events in dir's
// audit file, oldest first.
func adminChanges(t *testing.T, dir string) []audit.Event {
	t.Helper()
	p := &product{auditFile: filepath.Join(dir, "audit.jsonl")}
	var out []audit.Event
	for _, e := range p.events(t, audit.TypeAdminChange) {
		if _, ok := e.Details["version"]; ok {
			out = append(out, e)
		}
	}
	return out
}

// recorded reports whether version is the original file's (the first
// change's previous_version) or an allowed admin_change's.
func recorded(t *testing.T, dir, version string) bool {
	t.Helper()
	evs := adminChanges(t, dir)
	if len(evs) == 0 || evs[0].Details["previous_version"] == version {
		return true // the original
	}
	for _, e := range evs {
		if e.Outcome == audit.Allowed && e.Details["version"] == version {
			return true
		}
	}
	return false
}

// checkChain checks that each allowed change was either the base of the
// next one (so it was on disk), followed by its error event, or is the
// last one and on disk.
func checkChain(t *testing.T, dir, onDisk string) {
	t.Helper()
	evs := adminChanges(t, dir)
	settled := 0
	for i, e := range evs {
		if e.Outcome != audit.Allowed {
			continue
		}
		switch {
		case i+1 == len(evs):
			if e.Details["version"] != onDisk {
				t.Errorf("the last change %s is not on disk and has no error event", e.ID)
			}
		case evs[i+1].Outcome == audit.Error && evs[i+1].Details["changed"] == e.ID:
			settled++
		case evs[i+1].Outcome == audit.Allowed && evs[i+1].Details["previous_version"] == e.Details["version"]:
		default:
			t.Errorf("change %s (version %v) is followed by %+v, neither its error nor a change based on it", e.ID, e.Details["version"], evs[i+1])
		}
	}
	t.Logf("%d admin_change events, %d recorded but not written and settled at the next start", len(evs), settled)
}

// crashConfig is editConfig with enough users to make each write take a
// few pages.
func crashConfig() []byte {
	at := strings.Index(editConfig, "\nclients:\n")
	var b strings.Builder
	b.WriteString(editConfig[:at])
	for i := range 200 {
		fmt.Fprintf(&b, "  - username: user%03d   # user number %d\n    password: pw%03d\n    email: user%03d@acme.example\n    groups: [eng]\n", i, i, i, i)
	}
	b.WriteString(editConfig[at:])
	return []byte(b.String())
}

// editUntilKilled runs a crashChild whose edits start at first, kills it
// (SIGKILL) once it has acknowledged n edits and a moment more, and
// returns the number of the last edit it acknowledged.
func editUntilKilled(t *testing.T, dir string, first, n int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir+","+strconv.Itoa(first))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last := first - 1
	enough := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		r := bufio.NewReader(stdout)
		for count := 0; ; count++ {
			line, err := r.ReadString('\n')
			if err != nil {
				return // a line cut by the kill is not an acknowledgement
			}
			last, _ = strconv.Atoi(strings.TrimSuffix(line, "\n"))
			if count+1 == n {
				close(enough)
			}
		}
	}()
	select {
	case <-enough:
	case <-readDone:
		cmd.Wait()
		t.Fatalf("child exited after edit %d", last)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child did not acknowledge enough edits in time")
	}
	time.Sleep(time.Duration(rand.IntN(10000)) * time.Microsecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-readDone
	cmd.Wait()
	if last < first {
		t.Fatal("no edit acknowledged")
	}
	return last
}
