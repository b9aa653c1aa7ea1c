// Package connlimit bounds the connections an http.Server holds open, so
// that a crowd of idle keep-alive connections cannot take every file
// descriptor of the process. Without a bound, accept(2) fails with EMFILE
// once they have: net/http then retries every second and answers no one,
// health checks and logins included, until the idle connections time out
// (http.Server.IdleTimeout), and every file the process opens meanwhile
// (a configuration written by the console, a key, a CIMD fetch) fails too.
//
// At the bound, a new connection takes the place of the one that has
// waited longest without a request in progress: an idle keep-alive
// connection, which a server may close at any time (RFC 9112 section
// 9.6), or one accepted that has sent nothing yet. When every open
// connection is in the middle of a request, the new one waits in the
// listen queue, which costs the process no descriptor, until one ends;
// the server's own deadlines end each before long. One descriptor more
// than the bound is in use while a connection waits for room.
package connlimit

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limiter counts the connections of one http.Server, or of several that
// share one bound. Its Listener and ConnState must both be installed on
// each of them.
type Limiter struct {
	max  int
	mu   sync.Mutex
	cond *sync.Cond
	open int
	// waiting are the open connections without a request in progress
	// (new or idle), each with when it started waiting: a count of such
	// starts (waits), which orders them as a clock would without reading
	// one at every request's end.
	waiting map[net.Conn]uint64
	waits   uint64
	// closing are the connections closed to make room that the server has
	// not yet seen end: each is room already being made, so that one
	// arrival closes one connection however long a close takes (a TLS
	// connection's writes its close_notify alert first).
	closing map[net.Conn]bool
}

// New returns a Limiter of n open connections (at least 1).
func New(n int) *Limiter {
	l := &Limiter{max: max(n, 1), waiting: map[net.Conn]uint64{}, closing: map[net.Conn]bool{}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Max is the bound.
func (l *Limiter) Max() int { return l.max }

// Open is the number of connections open now.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Listener wraps ln: its Accept makes room for the connection it returns.
// The connections are returned as ln returns them (a *tls.Conn stays one,
// which net/http needs for HTTP/2).
func (l *Limiter) Listener(ln net.Listener) net.Listener {
	return &listener{Listener: ln, l: l}
}

// ConnState is the http.Server's ConnState hook: it learns which
// connections wait for a request and which have ended.
func (l *Limiter) ConnState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch s {
	case http.StateNew, http.StateIdle:
		if l.closing[c] {
			return // already on its way out
		}
		l.waits++
		l.waiting[c] = l.waits
		l.cond.Broadcast() // an Accept waiting for room may take its place
	case http.StateActive:
		delete(l.waiting, c)
	case http.StateClosed, http.StateHijacked:
		delete(l.waiting, c)
		delete(l.closing, c)
		l.open--
		l.cond.Broadcast()
	}
}

type listener struct {
	net.Listener
	l      *Limiter
	closed bool // guarded by l.mu
}

// Accept accepts a connection and, when that makes more than max open,
// closes the one that has waited longest for a request to make room, or,
// when every other is serving a request, waits for one to end before
// returning it. Room is made only for a connection that has arrived: the
// one accepted just before has not sent its request yet, and must not be
// closed for one that may never come. A connection closed to make room
// leaves the count once the server has seen it end (ConnState), so the
// count never runs behind the descriptors in use; until then it is the
// room being made, so that each arrival closes one connection at most.
func (ln *listener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l := ln.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open++
	for l.open > l.max && !ln.closed {
		// A connection closed for an earlier arrival, and not yet seen
		// to end, is room already on its way.
		if l.open-len(l.closing) > l.max {
			if victim := l.longestWaiting(); victim != nil {
				delete(l.waiting, victim)
				l.closing[victim] = true
				go closeSoon(victim)
			}
		}
		l.cond.Wait()
	}
	if ln.closed {
		l.open--
		c.Close()
		return nil, net.ErrClosed
	}
	return c, nil
}

// Close closes the listener and wakes an Accept waiting for room.
func (ln *listener) Close() error {
	ln.l.mu.Lock()
	ln.closed = true
	ln.l.cond.Broadcast()
	ln.l.mu.Unlock()
	return ln.Listener.Close()
}

// longestWaiting is the open connection that has waited longest for a
// request, or nil when every one is serving a request.
func (l *Limiter) longestWaiting() net.Conn {
	var oldest net.Conn
	var since uint64
	for c, n := range l.waiting {
		if oldest == nil || n < since {
			oldest, since = c, n
		}
	}
	return oldest
}

// closeNotifyWait is how long closing a TLS connection to make room
// waits for its close_notify alert to be written.
const closeNotifyWait = 100 * time.Millisecond

// closeSoon closes c. A TLS connection first writes its close_notify
// alert (RFC 8446 section 6.1), which lands at once in the send buffer
// of a peer that reads, and which tls.Conn.Close waits up to 5 s to write
// to one that does not; its descriptor, and the connection waiting for
// the room, are not held that long: after closeNotifyWait the socket is
// closed under it.
func closeSoon(c net.Conn) {
	tc, ok := c.(*tls.Conn)
	if !ok {
		c.Close()
		return
	}
	t := time.AfterFunc(closeNotifyWait, func() { tc.NetConn().Close() })
	tc.Close()
	t.Stop()
}
