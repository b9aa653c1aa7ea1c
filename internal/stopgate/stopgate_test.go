package stopgate_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/stopgate"
)

func refuse(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, "stopping\n")
}

// holdBody sends a POST whose body never comes whole, and returns the
// connection once the handler has started.
func holdBody(t *testing.T, url string, started <-chan struct{}) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npart")
	<-started
	return c
}

func readStatus(t *testing.T, c net.Conn) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestGate_RefusesARequestWaitingForItsBody: Close answers a request
// whose handler waits for its body with the refusal at once; the handler
// never gets the body, and what it writes after is dropped.
func TestGate_RefusesARequestWaitingForItsBody(t *testing.T) {
	g := stopgate.New(refuse)
	started, acted := make(chan struct{}), make(chan error, 1)
	ts := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		_, err := io.ReadAll(r.Body)
		acted <- err
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "done\n")
	})))
	defer ts.Close()
	c := holdBody(t, ts.URL, started)
	refused, unfinished := g.Close(5 * time.Second)
	if refused != 1 || unfinished {
		t.Errorf("Close: refused %d, unfinished %v; want 1, false", refused, unfinished)
	}
	if code, body := readStatus(t, c); code != http.StatusServiceUnavailable || body != "stopping\n" {
		t.Errorf("answered %d %q, want the refusal", code, body)
	}
	if err := <-acted; err != stopgate.ErrStopping {
		t.Errorf("the handler's read: %v, want ErrStopping", err)
	}
}

// TestGate_WaitsForAWorkingRequest: a request that has its body and works
// on when the gate closes is waited for and answered by its handler.
func TestGate_WaitsForAWorkingRequest(t *testing.T) {
	g := stopgate.New(refuse)
	started, release := make(chan struct{}), make(chan struct{})
	ts := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		close(started)
		<-release
		io.WriteString(w, "done\n")
	})))
	defer ts.Close()
	answered := make(chan string, 1)
	go func() {
		resp, err := http.Post(ts.URL, "text/plain", strings.NewReader("whole"))
		if err != nil {
			answered <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- fmt.Sprint(resp.StatusCode, " ", string(b))
	}()
	<-started
	closed := make(chan bool, 1)
	go func() { _, unfinished := g.Close(30 * time.Second); closed <- unfinished }()
	select {
	case <-closed:
		t.Fatal("Close returned while a request was working")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if unfinished := <-closed; unfinished {
		t.Error("Close gave up on a request that ended")
	}
	if got := <-answered; got != "200 done\n" {
		t.Errorf("the working request got %q, want its handler's answer", got)
	}
	// A request after the gate closed is refused without its handler.
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a request after Close: %d, want 503", resp.StatusCode)
	}
}

// TestGate_CloseGivesUp: a request that works on past the wait is left
// running, and Close says so.
func TestGate_CloseGivesUp(t *testing.T) {
	g := stopgate.New(refuse)
	started, release := make(chan struct{}), make(chan struct{})
	ts := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})))
	defer ts.Close()
	defer close(release)
	go http.Get(ts.URL)
	<-started
	if _, unfinished := g.Close(50 * time.Millisecond); !unfinished {
		t.Error("Close did not say a request was still working")
	}
}

// TestGate_RefusesARequestThatReadsOnAfterClose: a request that had read
// part of its body, and so was working, not waiting, when the gate
// closed, is refused at its next read. Its refusal used to hang: the
// server reads what is left of an unread body before it answers, and
// nothing ended that read (Close cuts the reads of the requests waiting
// only), so the client got no answer and Close gave up on the request.
func TestGate_RefusesARequestThatReadsOnAfterClose(t *testing.T) {
	g := stopgate.New(refuse)
	started, readOn, acted := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	ts := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			return
		}
		if _, err := io.ReadFull(r.Body, make([]byte, len("part"))); err != nil {
			acted <- err
			return
		}
		close(started)
		<-readOn
		_, err := io.ReadAll(r.Body)
		acted <- err
		w.WriteHeader(http.StatusOK)
	})))
	t.Cleanup(ts.Close) // after the connection's close (holdBody), had it hung
	c := holdBody(t, ts.URL, started)
	type result struct {
		refused    int
		unfinished bool
	}
	closed := make(chan result, 1)
	go func() {
		refused, unfinished := g.Close(20 * time.Second)
		closed <- result{refused, unfinished}
	}()
	// The gate is closed once it refuses a request of its own.
	for {
		resp, err := http.Get(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
	}
	close(readOn)
	if code, body := readStatus(t, c); code != http.StatusServiceUnavailable || body != "stopping\n" {
		t.Errorf("answered %d %q, want the refusal", code, body)
	}
	if err := <-acted; err != stopgate.ErrStopping {
		t.Errorf("the handler's read: %v, want ErrStopping", err)
	}
	if got := <-closed; got != (result{1, false}) {
		t.Errorf("Close: refused %d, unfinished %v; want 1, false", got.refused, got.unfinished)
	}
}

// TestGate_RefusesARequestArrivingWithoutItsBody: a request that comes
// after the gate closed is refused at once, also when its body does not
// come whole: its refusal used to wait for the server to read the rest.
func TestGate_RefusesARequestArrivingWithoutItsBody(t *testing.T) {
	g := stopgate.New(refuse)
	ts := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the handler ran after the gate closed")
	})))
	t.Cleanup(ts.Close) // after the connection's close, had it hung
	if _, unfinished := g.Close(5 * time.Second); unfinished {
		t.Fatal("Close gave up with no request in progress")
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npart")
	if code, body := readStatus(t, c); code != http.StatusServiceUnavailable || body != "stopping\n" {
		t.Errorf("answered %d %q, want the refusal", code, body)
	}
}

// BenchmarkGate: what the gate adds to a request with a body (a token
// request's form, read whole, and its answer), against the same handler
// unwrapped (the floor), run in parallel as the server runs them. Compare
// the two lines' ns/op and allocs/op, from one run.
func BenchmarkGate(b *testing.B) {
	form := strings.Repeat("a=b&", 100)
	answer := []byte(strings.Repeat("x", 600))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(answer)
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"floor", h}, {"gated", stopgate.New(refuse).Wrap(h)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form))
					c.h.ServeHTTP(httptest.NewRecorder(), r)
				}
			})
		})
	}
}

// TestGate_AnswersTheServerErrorOfARequestWorkingPastTheWait: a request
// still working when Close gives up runs on while the server closes its
// files under it; the 500 its handler then answers (the audit log could
// not be written) becomes the gate's refusal, with or without a body, and
// what the handler writes after it is dropped. Its other answers are its
// own: what it did before the files closed was done.
func TestGate_AnswersTheServerErrorOfARequestWorkingPastTheWait(t *testing.T) {
	g := stopgate.New(refuse)
	var started sync.WaitGroup
	release := make(chan struct{})
	ts := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		started.Done()
		<-release
		if r.URL.Path == "/done" {
			io.WriteString(w, "done\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":"server_error"}`)
	})))
	defer ts.Close()
	type answer struct {
		code           int
		body, location string
	}
	send := func(path, body string) <-chan answer {
		c := make(chan answer, 1)
		started.Add(1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(body))
			if body == "" {
				req.Body = nil
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				c <- answer{body: err.Error()}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			c <- answer{resp.StatusCode, string(b), resp.Header.Get("Location")}
		}()
		return c
	}
	withBody, without, done := send("/fail", "whole"), send("/fail", ""), send("/done", "whole")
	started.Wait()
	if _, unfinished := g.Close(50 * time.Millisecond); !unfinished {
		t.Fatal("Close did not say requests were still working")
	}
	close(release)
	for name, c := range map[string]<-chan answer{"with a body": withBody, "without a body": without} {
		if got := <-c; got.code != http.StatusServiceUnavailable || got.body != "stopping\n" || got.location != "" {
			t.Errorf("a server error %s after Close gave up: answered %d %q (Location %q), want the refusal alone", name, got.code, got.body, got.location)
		}
	}
	if got := <-done; got.code != http.StatusOK || got.body != "done\n" {
		t.Errorf("a request that finished after Close gave up got %d %q, want its handler's answer", got.code, got.body)
	}
}

// TestGate_KeepsAServerErrorBeforeClose: a handler's 500 while the gate
// is open is its own answer.
func TestGate_KeepsAServerErrorBeforeClose(t *testing.T) {
	g := stopgate.New(refuse)
	ts := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	})))
	defer ts.Close()
	resp, err := http.Post(ts.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || string(b) != "broken\n" {
		t.Errorf("answered %d %q, want the handler's 500", resp.StatusCode, b)
	}
}

// TestInProgress_CountsWorkingAndWaiting: InProgress counts a request
// waiting for its body apart from one working, through a stop, and
// forgets a gate once Close has returned.
func TestInProgress_CountsWorkingAndWaiting(t *testing.T) {
	working0, waiting0 := stopgate.InProgress()
	g := stopgate.New(refuse)
	release := make(chan struct{})
	ts := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if r.URL.Path == "/work" {
			<-release
		}
		io.WriteString(w, "done\n")
	})))
	defer ts.Close()
	// One waiting for its body, one working on with its whole body.
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npart")
	go func() {
		if resp, err := http.Post(ts.URL+"/work", "text/plain", strings.NewReader("whole")); err == nil {
			resp.Body.Close()
		}
	}()
	deadline := time.Now().Add(time.Minute) // a hang guard, not a timing
	await := func(when string, wantWorking, wantWaiting int) {
		t.Helper()
		for {
			working, waiting := stopgate.InProgress()
			if working-working0 == wantWorking && waiting-waiting0 == wantWaiting {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("InProgress %s: %d working, %d waiting beyond those before; want %d and %d", when, working-working0, waiting-waiting0, wantWorking, wantWaiting)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	await("with both sent", 1, 1)
	closed := make(chan struct{})
	go func() { g.Close(time.Minute); close(closed) }()
	// Closing: the one waiting is refused; the one working still counts.
	readStatus(t, c)
	await("once the one waiting was refused", 1, 0)
	close(release)
	<-closed
	await("after Close", 0, 0)
}
