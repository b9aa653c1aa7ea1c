package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServe_StartOnASharedConfigurationBreaksNoEdit runs one serve that
// edits its configuration through the admin API as fast as it can, and
// starts and stops a second serve on the same file (with its own state
// directory) again and again meanwhile. The second's start removes the
// temporary files that a killed writer left beside the file; it must not
// remove the one the first is writing at that moment, which made that
// edit fail (500, rename: no such file or directory).
func TestServe_StartOnASharedConfigurationBreaksNoEdit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary again and again")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "idp.yaml")
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	receiver := "http://" + dead.Addr().String() + "/events"
	dead.Close()
	if err := os.WriteFile(file, fmt.Appendf(nil, crashConfig, receiver), 0o640); err != nil {
		t.Fatal(err)
	}
	issuer, first, stderr := startKillable(t, file, filepath.Join(dir, "state-1"))
	defer func() { first.Process.Kill(); first.Wait() }()

	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var edits int
	var failed []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			code, body := adminDo(ctx, http.MethodPut, fmt.Sprintf("%s/admin/api/groups/g%d", issuer, i), map[string]string{"description": strings.Repeat("x", i%1500)})
			mu.Lock()
			switch {
			case code == http.StatusCreated:
				edits++
			case code != 0:
				failed = append(failed, fmt.Sprintf("edit %d: %d %s", i, code, body))
			}
			mu.Unlock()
		}
	})
	// 4 s of starts, and at least one edit answered meanwhile: on a loaded
	// machine the first edit can take longer than 4 s, and "no edit was
	// made" would blame the product. The minute only guards against a hang.
	deadline, hang := time.Now().Add(4*time.Second), time.Now().Add(time.Minute)
	answered := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return edits > 0 || len(failed) > 0
	}
	starts := 0
	for ; time.Now().Before(deadline) || !answered() && time.Now().Before(hang); starts++ {
		cmd := exec.Command(xaaIDPBinary(t), "serve", "--addr", "127.0.0.1:0", "--config", file,
			"--state-dir", filepath.Join(dir, "state-2"), "--log-format", "text")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errOut strings.Builder
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the second serve did not start: %v\n%s", err, errOut.String())
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d edits made while a second serve started %d times", edits, starts)
	if len(failed) > 0 {
		t.Errorf("%d edits failed while a second serve started on the same file, first: %s\n%s", len(failed), failed[0], stderr)
	}
	if edits == 0 {
		t.Error("no edit was made")
	}
}
