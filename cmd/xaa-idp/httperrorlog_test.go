package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestServe_HandshakeErrorsAreDebug: what net/http says of a connection
// reached the log through the log package at INFO, one record per
// connection: every plain-http probe of a --tls IdP, every client that
// does not trust its CA, a scanner. A failed TLS handshake is per-request
// detail, at DEBUG; the rest of what net/http says (a panic in a handler)
// keeps a level an operator sees.
func TestServe_HandshakeErrorsAreDebug(t *testing.T) {
	stderr := &syncBuffer{}
	issuer, _ := startBinary(t, stderr, "serve", "--addr", "127.0.0.1:0", "--tls", "--log-level", "debug")
	resp, err := http.Get(strings.Replace(issuer, "https://", "http://", 1) + "/healthz")
	if err == nil {
		resp.Body.Close()
	}
	out := waitFor(t, stderr, `msg="http: TLS handshake error from 127.0.0.1:`)
	if !strings.Contains(out, `level=DEBUG msg="http: TLS handshake error from 127.0.0.1:`) {
		t.Errorf("a failed handshake is not at DEBUG:\n%s", out)
	}
}

// TestHTTPErrorLog_Levels: a panic net/http recovered from is an ERROR,
// an accept error a WARN, a failed handshake left out at INFO.
func TestHTTPErrorLog_Levels(t *testing.T) {
	var out syncBuffer
	restore := logInfoTo(t, "text", &out)
	httpErrorLog.Printf("http: panic serving 127.0.0.1:1: boom\ngoroutine 1 [running]:")
	httpErrorLog.Printf("http: Accept error: too many open files; retrying in 5ms")
	httpErrorLog.Printf("http: TLS handshake error from 127.0.0.1:2: EOF")
	restore()
	got := out.String()
	for _, want := range []string{`level=ERROR msg="http: panic serving 127.0.0.1:1: boom\ngoroutine 1 [running]:"`, `level=WARN msg="http: Accept error: `} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "handshake") {
		t.Errorf("a failed handshake logged at INFO:\n%s", got)
	}
}
