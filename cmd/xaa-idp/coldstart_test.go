package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkColdStart measures what a CI job waits for: from exec of the
// real binary (`xaa-idp serve --addr 127.0.0.1:0`, the embedded demo
// configuration) to a 200 from /healthz, and to the first answer of /keys,
// which needs every signing key. Three starts:
//
//   - first-start: no --state-dir and an empty cache directory, so the
//     RS256 key is generated (in the background: /healthz does not wait,
//     /keys does) and kept in the cache;
//   - key-cache: no --state-dir, the RS256 key from the cache;
//   - state-dir: every key read from --state-dir.
//
// Run with:
//
//	go test ./cmd/xaa-idp -run '^$' -bench ColdStart -benchtime 20x
func BenchmarkColdStart(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "xaa-idp")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	state, cache := b.TempDir(), b.TempDir()
	coldStart(b, bin, cache, "--state-dir", state) // generates and persists the keys
	coldStart(b, bin, cache)                       // fills the cache
	for _, bc := range []struct {
		name  string
		cache func() string
		args  []string
	}{
		{"first-start", func() string { return b.TempDir() }, nil},
		{"key-cache", func() string { return cache }, nil},
		{"state-dir", func() string { return cache }, []string{"--state-dir", state}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var healthz, keys time.Duration
			for range b.N {
				h, k := coldStart(b, bin, bc.cache(), bc.args...)
				healthz += h
				keys += k
			}
			b.ReportMetric(float64(healthz.Microseconds())/float64(b.N)/1000, "ms-to-healthz")
			b.ReportMetric(float64(keys.Microseconds())/float64(b.N)/1000, "ms-to-keys")
		})
	}
}

// coldStart starts bin with cacheDir as its user cache directory.
func coldStart(b *testing.B, bin, cacheDir string, args ...string) (healthz, keys time.Duration) {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheDir)
	start := time.Now()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("serve printed no issuer: %v", err)
	}
	issuer := strings.TrimSpace(line)
	get := func(path string) {
		resp, err := http.Get(issuer + path)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %s", path, resp.Status)
		}
	}
	get("/healthz")
	healthz = time.Since(start)
	get("/keys")
	return healthz, time.Since(start)
}
