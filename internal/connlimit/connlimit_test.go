package connlimit_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/connlimit"
)

// serve starts an http.Server bounded by l, answering h.
func serve(t *testing.T, l *connlimit.Limiter, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ConnState: l.ConnState}
	go hs.Serve(l.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// idleOrder is l.ConnState for an http.Server, which also tells the test
// each time a connection has gone idle in l's eyes. The client has its
// answer a moment before the server marks the connection idle: a test
// that makes connections idle in an order waits for each mark before the
// next request, rather than sleeping and hoping the server got there.
type idleOrder struct {
	l    *connlimit.Limiter
	idle chan struct{}
}

func newIdleOrder(l *connlimit.Limiter) *idleOrder {
	return &idleOrder{l: l, idle: make(chan struct{}, 16)}
}

func (o *idleOrder) ConnState(c net.Conn, s http.ConnState) {
	o.l.ConnState(c, s)
	if s == http.StateIdle {
		select {
		case o.idle <- struct{}{}:
		default: // more than the test waits for: never hold the server
		}
	}
}

// wait waits for the next connection to go idle.
func (o *idleOrder) wait(t *testing.T) {
	t.Helper()
	select {
	case <-o.idle:
	case <-time.After(10 * time.Second):
		t.Fatal("no connection went idle")
	}
}

// get sends one request on c and reads its status line.
func get(c net.Conn, r *bufio.Reader, path string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Status, nil
}

// TestLimiter_NewConnectionTakesTheLongestIdlesPlace: at the bound, a new
// connection is served, and the connection idle longest is the one closed.
func TestLimiter_NewConnectionTakesTheLongestIdlesPlace(t *testing.T) {
	l := connlimit.New(3)
	order := newIdleOrder(l)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ConnState: order.ConnState}
	go hs.Serve(l.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()
	var conns []net.Conn
	var readers []*bufio.Reader
	for i := range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns, readers = append(conns, c), append(readers, bufio.NewReader(c))
		if status, err := get(c, readers[i], "/"); err != nil || status != "200 OK" {
			t.Fatalf("connection %d: %q %v", i, status, err)
		}
		order.wait(t) // an order of idleness
	}
	if _, err := get(conns[0], readers[0], "/"); err == nil {
		t.Error("the connection idle longest is still open")
	}
	for i := 1; i < 4; i++ {
		if status, err := get(conns[i], readers[i], "/"); err != nil || status != "200 OK" {
			t.Errorf("connection %d after the eviction: %q %v", i, status, err)
		}
	}
	if n := l.Open(); n > 3 {
		t.Errorf("%d connections open, bound 3", n)
	}
}

// TestLimiter_BusyConnectionsAreNotClosed: when every connection is in the
// middle of a request, a new one waits for one of them to end, and none of
// them is cut.
func TestLimiter_BusyConnectionsAreNotClosed(t *testing.T) {
	l := connlimit.New(2)
	release, inSlow := make(chan struct{}), make(chan struct{}, 2)
	addr := serve(t, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			inSlow <- struct{}{}
			<-release
		}
	}))
	type result struct {
		status string
		err    error
	}
	slow := make(chan result, 2)
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go func() {
			s, err := get(c, bufio.NewReader(c), "/slow")
			slow <- result{s, err}
		}()
	}
	// Until both are in the middle of their request, not some 100 ms,
	// which a busy machine can take to get them there: an idle one may
	// rightly be closed for the third.
	for range 2 {
		select {
		case <-inSlow:
		case <-time.After(60 * time.Second): // only a guard against a hang
			t.Fatal("the slow requests did not arrive")
		}
	}
	c, err := net.Dial("tcp", addr) // the listen queue takes it
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fast := make(chan result, 1)
	go func() {
		s, err := get(c, bufio.NewReader(c), "/")
		fast <- result{s, err}
	}()
	select {
	case r := <-fast:
		t.Fatalf("a third connection was served while two requests held the bound of 2: %q %v", r.status, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	for range 2 {
		if r := <-slow; r.err != nil || !strings.HasPrefix(r.status, "200") {
			t.Errorf("a busy connection: %q %v", r.status, r.err)
		}
	}
	if r := <-fast; r.err != nil || !strings.HasPrefix(r.status, "200") {
		t.Errorf("the waiting connection, once one ended: %q %v", r.status, r.err)
	}
}

// slowCloseListener hands out connections whose Close takes delay, as a
// TLS connection's does when its peer reads nothing (the close_notify
// alert waits for room in a full send buffer).
type slowCloseListener struct {
	net.Listener
	delay time.Duration
}

func (ln slowCloseListener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return slowCloseConn{c, ln.delay}, nil
}

type slowCloseConn struct {
	net.Conn
	delay time.Duration
}

func (c slowCloseConn) Close() error {
	time.Sleep(c.delay)
	return c.Conn.Close()
}

// TestLimiter_OneArrivalClosesOneConnection: a connection arriving at the
// bound closes one idle connection to make room, not one more each time
// another goes idle while the first one's close is under way.
func TestLimiter_OneArrivalClosesOneConnection(t *testing.T) {
	l := connlimit.New(2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	order := newIdleOrder(l)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ConnState: order.ConnState}
	go hs.Serve(l.Listener(slowCloseListener{ln, 500 * time.Millisecond}))
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()

	var conns []net.Conn
	var readers []*bufio.Reader
	for i := range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns, readers = append(conns, c), append(readers, bufio.NewReader(c))
		if status, err := get(c, readers[i], "/"); err != nil || status != "200 OK" {
			t.Fatalf("connection %d: %q %v", i, status, err)
		}
		order.wait(t) // an order of idleness
	}
	third, err := net.Dial("tcp", addr) // closes the first, slowly
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	time.Sleep(50 * time.Millisecond)
	// The second goes active and idle again while the first is closing.
	if status, err := get(conns[1], readers[1], "/"); err != nil || status != "200 OK" {
		t.Fatalf("the second connection while the first closes: %q %v", status, err)
	}
	time.Sleep(time.Second) // any close under way has ended
	if status, err := get(conns[1], readers[1], "/"); err != nil || status != "200 OK" {
		t.Errorf("the second connection was closed too, for one arrival: %q %v", status, err)
	}
	if status, err := get(third, bufio.NewReader(third), "/"); err != nil || status != "200 OK" {
		t.Errorf("the arriving connection: %q %v", status, err)
	}
}
