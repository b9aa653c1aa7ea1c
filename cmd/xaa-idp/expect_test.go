package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestServe_RefusalBeforeTheBodyIsNotHeldUp: a handler that refuses a
// request without reading its body (a 401 at /me/*, a 413 for a declared
// length over the limit) answers at once a client that sent
// Expect: 100-continue and waits for the 100 before sending the body.
// The body deadline's wrapper used to replace the request's Body in
// place; net/http then no longer saw its expect-continue reader and,
// after the handler, read the body no one was asked to send, until the
// body deadline (30 s in serve) cut it: every such refusal took 30 s, the
// connection held as busy meanwhile.
func TestServe_RefusalBeforeTheBodyIsNotHeldUp(t *testing.T) {
	limits := defaultLimits // a body deadline of 30 s, as serve has
	mux := http.NewServeMux()
	mux.HandleFunc("POST /refuse", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	})
	mux.HandleFunc("POST /read", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "slow body", http.StatusRequestTimeout)
			return
		}
		fmt.Fprintf(w, "%d", len(b))
	})
	ln := serveLimited(t, mux, limits)

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A bound for the broken server, a third of the body deadline: the
	// answer is due as soon as the handler returns.
	_ = c.SetDeadline(time.Now().Add(limits.readBody / 3))
	_, _ = io.WriteString(c, "POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\nExpect: 100-continue\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a refused Expect: 100-continue request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("HTTP %d, want the handler's 401", resp.StatusCode)
	}

	// A handler that reads the body still asks for it and gets it.
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_ = c2.SetDeadline(time.Now().Add(limits.readBody / 3))
	br := bufio.NewReader(c2)
	_, _ = io.WriteString(c2, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	cont, err := http.ReadResponse(br, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("%v %v, want 100 Continue", cont, err)
	}
	_, _ = io.WriteString(c2, "hello")
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "5" {
		t.Fatalf("HTTP %d %q, want 200 \"5\"", resp.StatusCode, b)
	}
}
