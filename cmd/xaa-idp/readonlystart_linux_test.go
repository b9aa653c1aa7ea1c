package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xaa-idp/xaa-idp/internal/diskfull"
)

// TestServe_ReadOnlyStartNamesTheFlagToChange: a start whose file is on a
// read-only file system (a real one: a tmpfs mounted read-only) exits 1
// and says which flag to give a writable place: the one that named the
// file, as the user set it: a container's XAA_IDP_AUDIT_LOG or
// XAA_IDP_STATE_DIR, not the flag it did not use (until 2026-12-07). A
// start given only --audit-log was told to give "a writable --state-dir",
// a flag it had not used (README, "A start the file system refuses").
func TestServe_ReadOnlyStartNamesTheFlagToChange(t *testing.T) {
	ro := diskfull.Tmpfs(t, 64<<10)
	if err := unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot make the tmpfs read-only: %v", err)
	}
	writable := t.TempDir()
	for _, tc := range []struct {
		name       string
		args, env  []string
		want, omit string
	}{
		{"audit log alone", []string{"--audit-log", filepath.Join(ro, "audit.jsonl")}, nil, "--audit-log", "--state-dir"},
		{"audit log beside a writable state directory", []string{"--audit-log", filepath.Join(ro, "audit.jsonl"), "--state-dir", filepath.Join(writable, "state")}, nil, "--audit-log", "--state-dir"},
		{"state directory", []string{"--state-dir", filepath.Join(ro, "state")}, nil, "--state-dir", "--audit-log"},
		{"audit log from its variable", nil, []string{"XAA_IDP_AUDIT_LOG=" + filepath.Join(ro, "audit.jsonl")}, "XAA_IDP_AUDIT_LOG", "--audit-log"},
		{"state directory from its variable, audit log from its flag", []string{"--audit-log", filepath.Join(writable, "audit.jsonl")}, []string{"XAA_IDP_STATE_DIR=" + filepath.Join(ro, "state")}, "XAA_IDP_STATE_DIR", "--state-dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(xaaIDPBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...)...)
			cmd.Env = append(os.Environ(), tc.env...)
			out, err := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Fatalf("exit %d (%v), want 1:\n%s", code, err, out)
			}
			msg := string(out)
			if !strings.Contains(msg, "read-only") || !strings.Contains(msg, "give "+tc.want+" on a writable one") || strings.Contains(msg, tc.omit) {
				t.Errorf("the start does not say to give %s on a writable file system (and nothing of %s):\n%s", tc.want, tc.omit, msg)
			}
		})
	}
}
