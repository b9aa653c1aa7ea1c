package main

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestServeTLS_HTTP2StreamsPerConnectionAreBounded: one HTTP/2 connection
// may not hold more requests in progress than maxHTTP2Streams. Go's
// default is 250, so the bound of open connections bounded nothing under
// HTTP/2: 400 connections, each with 250 token requests whose bodies never
// came, held 85,000 handlers and 1.5 GB of memory (at the bound of 10,000
// connections, 2.5 million) until the body deadline cut them. The real
// binary, one connection, 100 such requests: the ones past the bound are
// refused with RST_STREAM and hold no handler.
func TestServeTLS_HTTP2StreamsPerConnectionAreBounded(t *testing.T) {
	state := t.TempDir()
	issuer, _ := startBinary(t, &syncBuffer{}, "serve", "--addr", "127.0.0.1:0", "--tls", "--state-dir", state)
	hc := trustOnly(t, state)
	goroutines := func() int {
		t.Helper()
		resp, err := hc.Get(issuer + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
				n, _ := strconv.ParseFloat(v, 64)
				return int(n)
			}
		}
		t.Fatalf("no go_goroutines in /metrics:\n%s", body)
		return 0
	}
	before := goroutines()

	tc := hc.Transport.(*http.Transport).TLSClientConfig.Clone()
	tc.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", strings.TrimPrefix(issuer, "https://"), tc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	const streams = 100
	for i := range streams {
		var b bytes.Buffer
		e := hpack.NewEncoder(&b)
		for _, f := range [][2]string{{":method", "POST"}, {":scheme", "https"}, {":authority", strings.TrimPrefix(issuer, "https://")}, {":path", "/oauth/token"},
			{"content-type", "application/x-www-form-urlencoded"}, {"content-length", "1000"}} {
			_ = e.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: b.Bytes(), EndHeaders: true}); err != nil {
			t.Fatal(err)
		}
	}
	// Read until the server has said its bound and refused the streams
	// past it (until 2026-12-07 the frames of 3 s were read, however far
	// a loaded machine had come in them): the requests let in wait for
	// their bodies, so nothing more comes.
	var advertised uint32
	refused := 0
	_ = c.SetReadDeadline(time.Now().Add(time.Minute)) // a hang guard, not a timing
	for advertised == 0 || refused < streams-maxHTTP2Streams {
		f, err := fr.ReadFrame()
		if err != nil {
			break
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if v, ok := f.Value(http2.SettingMaxConcurrentStreams); ok {
				advertised = v
			}
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.RSTStreamFrame:
			refused++
		}
	}
	if advertised != maxHTTP2Streams {
		t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS %d, want %d", advertised, maxHTTP2Streams)
	}
	if refused < streams-maxHTTP2Streams {
		t.Errorf("%d of %d requests refused, want at least %d", refused, streams, streams-maxHTTP2Streams)
	}
	if held := goroutines() - before; held > 2*maxHTTP2Streams+10 {
		t.Errorf("%d more goroutines with %d requests waiting on one connection, want at most about %d", held, streams, maxHTTP2Streams)
	}
}
