// Package stopgate answers the requests a stopping server can no longer
// finish. A stop gives the requests in progress a grace period; one still
// running after it (a client that has not sent its whole body) used to
// run on while the process closed its audit log, push journal and stores
// under it, and answered 500, or nothing, when its body came. Gate closes
// first: a request waiting for its body is answered at once, with the
// server's refusal (503 temporarily_unavailable and Retry-After), and does
// nothing; one still working is waited for, a bounded time, so that what
// it writes is written before the files close. One still working after
// that runs on against the closed files, whose writes fail: the server
// error its handler then answers is replaced by the refusal too, and what
// it had done before the files closed it answers as done.
package stopgate

import (
	"errors"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

// ErrStopping is what a request's body reads return once the gate has
// answered the request: its handler must not act on a body it did not get.
var ErrStopping = errors.New("the server is stopping")

// Gate tracks the requests in progress of a server. The zero Gate is not
// usable; make one with New.
type Gate struct {
	refuse http.HandlerFunc

	mu      sync.Mutex
	closed  bool
	working int                   // requests running, not waiting for their body
	refused int                   // requests refused since the gate closed
	waiting map[*request]struct{} // requests waiting for their body
	idle    chan struct{}         // closed, once closed, when no request is working or waiting

	// gaveUp is set once Close stopped waiting for the requests working:
	// the server closes its files under those, and the server error one
	// then answers is the stop's, not the request's.
	gaveUp atomic.Bool
}

// New is a Gate whose refusal is refuse: it writes the whole answer, with
// its status, to a request the server can no longer finish.
func New(refuse http.HandlerFunc) *Gate {
	g := &Gate{refuse: refuse, waiting: map[*request]struct{}{}}
	p := weak.Make(g)
	live.mu.Lock()
	live.gates[p] = struct{}{}
	live.mu.Unlock()
	// A gate nobody closes (a test's server) leaves the set when it is
	// collected; one closed leaves it at Close.
	runtime.AddCleanup(g, forget, p)
	return g
}

// live are the gates of the process not yet closed, for InProgress.
var live = struct {
	mu    sync.Mutex
	gates map[weak.Pointer[Gate]]struct{}
}{gates: map[weak.Pointer[Gate]]struct{}{}}

func forget(p weak.Pointer[Gate]) {
	live.mu.Lock()
	delete(live.gates, p)
	live.mu.Unlock()
}

// InProgress is the requests in progress behind the open gates of the
// process (every server of it that serves through one): working, and
// waiting for the client to send more of their body. A request the
// server has not yet read the head of is in neither. Served at /metrics
// (xaa_idp_http_requests_in_progress), so that an operator sees slow
// clients hold requests open, and a test knows its requests arrived.
func InProgress() (working, waiting int) {
	live.mu.Lock()
	gates := make([]*Gate, 0, len(live.gates))
	for p := range live.gates {
		if g := p.Value(); g != nil {
			gates = append(gates, g)
		}
	}
	live.mu.Unlock()
	for _, g := range gates {
		g.mu.Lock()
		working += g.working
		waiting += len(g.waiting)
		g.mu.Unlock()
	}
	return working, waiting
}

// Wrap is h behind the gate: refused once the gate is closed, and counted
// while it runs.
func (g *Gate) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			// As a request refused in progress: its body is not waited for.
			(&request{g: g, w: w, r: r}).refuse()
			return
		}
		g.working++
		g.mu.Unlock()
		req := &request{g: g, w: w, r: r}
		req.out = writer{ResponseWriter: w, req: req}
		defer req.done()
		// Every request's answer passes the writer, also one without a
		// body (a key rotation): one still working when Close gives up
		// may answer a server error.
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(&req.out, r)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.Body = &body{req: req, rc: r.Body}
		h.ServeHTTP(&req.out, r2)
	})
}

// Close closes the gate: later requests are refused, a request waiting
// for its body is refused at once (its read ends), and Close waits, at
// most wait, for the requests working to end and the refusals to be
// sent. It reports how many requests it refused, and whether some were
// still working when it gave up.
func (g *Gate) Close(wait time.Duration) (refused int, unfinished bool) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return 0, false
	}
	g.closed = true
	g.idle = make(chan struct{})
	for req := range g.waiting {
		// From this goroutine: a connection's deadline may be set from any
		// (net.Conn, and the HTTP/2 stream's SetReadDeadline). The read
		// ends with a timeout, and body.Read refuses the request.
		_ = http.NewResponseController(req.w).SetReadDeadline(time.Now())
	}
	g.signalIdle()
	idle := g.idle
	g.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
		unfinished = true
		g.gaveUp.Store(true)
	}
	forget(weak.Make(g))
	g.mu.Lock()
	defer g.mu.Unlock()
	// Those refused, and those waiting, whose refusal is under way: a
	// request working when the gate closed is refused too if it reads on.
	return g.refused + len(g.waiting), unfinished
}

// signalIdle closes g.idle once the gate is closed and nothing is left
// in progress. g.mu is held.
func (g *Gate) signalIdle() {
	if g.closed && g.working == 0 && len(g.waiting) == 0 {
		select {
		case <-g.idle:
		default:
			close(g.idle)
		}
	}
}

// request is one request in progress behind the gate.
type request struct {
	g *Gate
	w http.ResponseWriter
	r *http.Request
	// refused is set, under g.mu, once the gate answered the request: its
	// handler's answer is dropped. Atomic: the writer reads it at every
	// write without the gate's lock, which every request shares.
	refused atomic.Bool
	// out is the writer its handler writes to (here, not allocated apart).
	out writer
}

// done ends the request's count once its handler returned.
func (req *request) done() {
	g := req.g
	g.mu.Lock()
	if !req.refused.Load() {
		g.working--
	}
	g.signalIdle()
	g.mu.Unlock()
}

// body counts its request as waiting, not working, while a read waits for
// the client, and refuses the request when the gate closed meanwhile.
type body struct {
	req *request
	rc  interface {
		Read([]byte) (int, error)
		Close() error
	}
	// read is set once the body was read to its end: a request that has
	// its whole body is working, and is waited for, whatever it reads.
	read bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.read {
		return b.rc.Read(p)
	}
	req := b.req
	g := req.g
	g.mu.Lock()
	if req.refused.Load() {
		g.mu.Unlock()
		return 0, ErrStopping
	}
	if g.closed {
		// Working when the gate closed, and reading more since: Close
		// waits for it to end, which it cannot do without its body.
		g.working--
		g.refused++
		req.refused.Store(true)
		g.mu.Unlock()
		req.refuse()
		return 0, ErrStopping
	}
	g.working--
	g.waiting[req] = struct{}{}
	g.mu.Unlock()

	n, err := b.rc.Read(p)

	g.mu.Lock()
	if g.closed {
		req.refused.Store(true)
		g.mu.Unlock()
		// What came with the read is dropped: the request does nothing.
		req.refuse()
		g.mu.Lock()
		delete(g.waiting, req)
		g.refused++
		g.signalIdle()
		g.mu.Unlock()
		return 0, ErrStopping
	}
	delete(g.waiting, req)
	g.working++
	g.mu.Unlock()
	b.read = err != nil
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

// refuse sends the gate's refusal on the request's own writer, from the
// handler's goroutine (the one reading the body), and flushes it: the
// process may end soon after.
func (req *request) refuse() {
	rc := http.NewResponseController(req.w)
	// The rest of the body is not read: before it answers, the server
	// reads what is left of a body its handler did not, which a client
	// that sends no more would hold for as long as it likes. (Close set
	// this deadline already for a request waiting then; not for one
	// working then that reads on.) The answer gets a moment to be written
	// whatever the write deadline was.
	_ = rc.SetReadDeadline(time.Now())
	_ = rc.SetWriteDeadline(time.Now().Add(time.Second))
	req.g.refuse(req.w, req.r)
	_ = rc.Flush()
}

// writer drops what a handler writes once the gate has answered its
// request, and answers with the refusal the server error of a request
// working when Close gave up. Only the handler's goroutine uses it.
type writer struct {
	http.ResponseWriter
	req *request
	// wrote is set once the handler's status is sent.
	wrote bool
	// late is set once the writer answered the request with the refusal
	// in its handler's stead.
	late bool
}

func (w *writer) answered() bool { return w.late || w.req.refused.Load() }

func (w *writer) WriteHeader(code int) {
	if w.answered() {
		return
	}
	if !w.wrote && code == http.StatusInternalServerError && w.req.g.gaveUp.Load() {
		// The files the handler wrote to closed under it (the audit
		// log, the stores): it could not finish, and its error says
		// so in words of its own, which may be a web page. The
		// refusal, in the form the request's caller reads, says the
		// IdP is stopping; what the handler set for its answer
		// (a cookie, a location) goes with it nowhere.
		w.late = true
		clear(w.ResponseWriter.Header())
		w.req.refuse()
		return
	}
	if code >= 200 {
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(b []byte) (int, error) {
	if w.answered() {
		return 0, ErrStopping
	}
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Header is a header the handler may still set but which, once the gate
// has answered, goes nowhere.
func (w *writer) Header() http.Header {
	if w.answered() {
		return http.Header{}
	}
	return w.ResponseWriter.Header()
}

// Unwrap gives http.ResponseController the connection's writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
