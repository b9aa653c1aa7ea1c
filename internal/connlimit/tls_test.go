package connlimit_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/connlimit"
	"github.com/xaa-idp/xaa-idp/internal/localca"
)

// stallingConn is a server's side of a connection whose peer has stopped
// reading with its buffers full: once stalled, a Write waits until the
// connection is closed, or until tls.Conn.Close's 5 s write deadline
// passes, which timedOut records.
type stallingConn struct {
	net.Conn
	mu       sync.Mutex
	stalled  bool
	timedOut bool
	closed   chan struct{}
	once     sync.Once
}

func (c *stallingConn) stall() {
	c.mu.Lock()
	c.stalled = true
	c.mu.Unlock()
}

func (c *stallingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	stalled := c.stalled
	c.mu.Unlock()
	if stalled {
		select {
		case <-c.closed:
			return 0, net.ErrClosed
		case <-time.After(5 * time.Second): // tls.Conn.Close's write deadline
			c.mu.Lock()
			c.timedOut = true
			c.mu.Unlock()
			return 0, &net.OpError{Op: "write", Err: net.ErrClosed}
		}
	}
	return c.Conn.Write(p)
}

func (c *stallingConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

type stallingListener struct {
	net.Listener
	accepted chan *stallingConn
}

func (ln stallingListener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &stallingConn{Conn: c, closed: make(chan struct{})}
	ln.accepted <- sc
	return sc, nil
}

// TestLimiter_TLSPeerThatReadsNothingDoesNotHoldTheArrival: closing an
// idle TLS connection to make room writes a close_notify alert; when the
// peer reads nothing and its buffers are full, that write waits up to the
// 5 s tls.Conn.Close allows it. The connection waiting for the room must
// not wait as long: the descriptor is freed soon after.
func TestLimiter_TLSPeerThatReadsNothingDoesNotHoldTheArrival(t *testing.T) {
	ca, _, err := localca.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCertificate("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan *stallingConn, 4)
	ln := tls.NewListener(stallingListener{raw, accepted}, &tls.Config{Certificates: []tls.Certificate{cert}})
	l := connlimit.New(1)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ConnState: l.ConnState}
	go hs.Serve(l.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	addr := raw.Addr().String()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}

	first, r := dial()
	if status, err := get(first, r, "/"); err != nil || status != "200 OK" {
		t.Fatalf("the first connection: %q %v", status, err)
	}
	stalled := <-accepted
	stalled.stall() // its peer reads nothing from now on

	second, r2 := dial() // its handshake waits for the room
	status, err := get(second, r2, "/")
	if err != nil || status != "200 OK" {
		t.Fatalf("the second connection: %q %v", status, err)
	}
	// Not a bound on the wall clock: the room was made by closing the
	// socket under the stalled close_notify, not by that write running into
	// its 5 s deadline, which the second connection would have waited out.
	stalled.mu.Lock()
	timedOut := stalled.timedOut
	stalled.mu.Unlock()
	if timedOut {
		t.Error("the second connection waited for the first's close_notify write, to a peer that reads nothing, to run into its 5 s deadline")
	}
}
