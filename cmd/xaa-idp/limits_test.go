package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServe_SlowClientsAreCut: a client that sends its headers or its body
// a byte at a time (slowloris) loses its connection once the header or
// body deadline passes, an idle connection is closed, and a long response
// (the audit live tail) is not cut by the body deadline. The limits are
// shortened; serve uses defaultLimits.
func TestServe_SlowClientsAreCut(t *testing.T) {
	limits := serverLimits{readHeader: 300 * time.Millisecond, readBody: 500 * time.Millisecond, idle: 400 * time.Millisecond, maxHeader: 4 << 10}
	limits.write = 4 * time.Second
	mux := http.NewServeMux()
	bigWrote := make(chan error, 1)
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		// More than the loopback socket buffers hold, for a client that reads nothing.
		chunk := make([]byte, 32<<10)
		for range 8 << 10 {
			if _, err := w.Write(chunk); err != nil {
				bigWrote <- err
				return
			}
		}
		bigWrote <- nil
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "slow body", http.StatusRequestTimeout)
			return
		}
		fmt.Fprintf(w, "%d", len(b))
	})
	mux.HandleFunc("POST /stream", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("exact") {
			// As the token endpoint reads a form: Content-Length bytes,
			// no read after them (the last one brings io.EOF).
			_, _ = io.ReadFull(r.Body, make([]byte, r.ContentLength))
		} else {
			_, _ = io.ReadAll(r.Body)
		}
		// Ticks for a second, twice the body deadline, however slowly the
		// machine runs them, and well within the write deadline.
		rc := http.NewResponseController(w)
		for i, start := 0, time.Now(); time.Since(start) < time.Second; i++ {
			if r.Context().Err() != nil {
				return
			}
			fmt.Fprintf(w, "tick %d\n", i)
			_ = rc.Flush()
			time.Sleep(150 * time.Millisecond)
		}
		fmt.Fprintln(w, "done")
	})
	ln := serveLimited(t, mux, limits)

	// trickle sends msg a byte every gap and reports how long the server
	// kept the connection open.
	trickle := func(t *testing.T, prefix, msg string, gap time.Duration) time.Duration {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		_, _ = io.WriteString(c, prefix)
		closed := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, c)
			close(closed)
		}()
		for i := 0; i < len(msg); i++ {
			select {
			case <-closed:
				return time.Since(start)
			case <-time.After(gap):
			}
			if _, err := c.Write([]byte{msg[i]}); err != nil {
				break
			}
		}
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the server kept a slow connection open")
		}
		return time.Since(start)
	}

	// The trickles below would last 10 s and more; a cut comes at the
	// deadline, and 5 s leaves a busy machine room to notice it.
	t.Run("headers a byte at a time", func(t *testing.T) {
		if d := trickle(t, "GET /echo HTTP/1.1\r\n", "Host: x\r\nX-Slow: "+strings.Repeat("a", 100)+"\r\n\r\n", 100*time.Millisecond); d > 5*time.Second {
			t.Errorf("connection closed after %v, want about %v", d, limits.readHeader)
		}
	})
	t.Run("body a byte at a time", func(t *testing.T) {
		if d := trickle(t, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", strings.Repeat("a", 100), 100*time.Millisecond); d > 5*time.Second {
			t.Errorf("connection closed after %v, want about %v", d, limits.readBody)
		}
	})
	t.Run("idle connection", func(t *testing.T) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("request: %v %v", resp, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("idle connection: read %v, want EOF from the server closing it", err)
		}
	})
	for _, query := range []string{"", "?exact"} {
		t.Run("a long response outlives the body deadline"+query, func(t *testing.T) {
			resp, err := http.Post("http://"+ln.Addr().String()+"/stream"+query, "text/plain", strings.NewReader("go"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || !strings.Contains(string(b), "tick 1\n") || !strings.HasSuffix(string(b), "done\n") {
				t.Errorf("stream cut after %q: %v", b, err)
			}
		})
	}
	t.Run("a client that reads no response", func(t *testing.T) {
		// Without a write deadline the handler would wait on this client
		// for ever, holding its connection past every other limit.
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
		select {
		case err := <-bigWrote:
			if err == nil {
				t.Fatal("the server wrote 256 MiB to a client that reads nothing")
			}
		case <-time.After(15 * time.Second):
			t.Fatal("the server still waits on a client that reads nothing")
		}
	})
	t.Run("headers over the limit", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/echo", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 16<<10)) // net/http allows 4 KiB over MaxHeaderBytes
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})
}

// TestDefaultLimits are the documented ones (README, "Limits and throttles").
func TestDefaultLimits(t *testing.T) {
	hs, _ := newHTTPServer(http.NotFoundHandler(), nil, defaultLimits)
	if hs.ReadHeaderTimeout != 10*time.Second || hs.IdleTimeout != 120*time.Second || hs.WriteTimeout != 0 || hs.ReadTimeout != 0 ||
		hs.MaxHeaderBytes != 64<<10 || defaultLimits.readBody != 30*time.Second || defaultLimits.write != 60*time.Second {
		t.Errorf("server limits %+v, body deadline %v, response deadline %v", hs, defaultLimits.readBody, defaultLimits.write)
	}
}

// TestLogs_LongValuesAreCut: a log value that came from a request (zitadel
// logs redirect_uri and error texts as they came) is cut to 512 bytes with
// a marker, in both formats.
func TestLogs_LongValuesAreCut(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var out syncBuffer
			restore := logInfoTo(t, format, &out)
			long := strings.Repeat("é", 3000)
			slog.Warn("auth request", "redirect_uri", long, slog.Group("oidc_error", "parent", errors.New(long)), "n", 7)
			restore()
			line := out.String()
			if strings.Count(line, "…[truncated ") != 2 || len(line) > 1400 || !strings.Contains(line, "7") {
				t.Errorf("log line of %d bytes: %.200s", len(line), line)
			}
		})
	}
}

// serveLimited serves h with the limits l on a listener of its own until
// the test ends, and returns that listener.
func serveLimited(t *testing.T, h http.Handler, l serverLimits) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveWithLimits(ctx, ln, h, l) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln
}

// logInfoTo sends the default logger's records of level info and above to
// out in format (text or json), as --log-format and --log-level do, and
// returns the function that puts the logger before back.
func logInfoTo(t *testing.T, format string, out *syncBuffer) (restore func()) {
	t.Helper()
	level := "info"
	restore, err := logOptions{format: &format, level: &level}.setup(out)
	if err != nil {
		t.Fatal(err)
	}
	return restore
}
