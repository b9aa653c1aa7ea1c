package audit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/xaa-idp/xaa-idp/audit"
)

// FuzzEvent checks that any line the decoder accepts re-encodes to a line that decodes to the
// same encoding: what Open loads, Append writes back unchanged.
func FuzzEvent(f *testing.F) {
	f.Add([]byte(contractEvent))
	f.Add([]byte(`{"time":"2026-11-25T19:00:00.5+01:00","id":"x","details":{"before":["a"],"n":1.5}}`))
	f.Add([]byte(`{"time":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e audit.Event
		if json.Unmarshal(data, &e) != nil {
			return
		}
		b1, err := e.MarshalJSON()
		if err != nil {
			return // a year outside [0,9999]
		}
		var e2 audit.Event
		if err := json.Unmarshal(b1, &e2); err != nil {
			t.Fatalf("re-decoding %s: %v", b1, err)
		}
		b2, err := e2.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding changed:\n%s\n%s", b1, b2)
		}
		if bytes.ContainsRune(b1, '\n') {
			t.Fatalf("encoding spans lines: %q", b1)
		}
	})
}

// FuzzOpen checks that whatever file Open accepts, it leaves as whole lines that a later Append
// extends and a later Open accepts again.
func FuzzOpen(f *testing.F) {
	f.Add([]byte(contractEvent + "\n"))
	f.Add([]byte(contractEvent + "\n" + contractEvent[:40]))
	f.Add([]byte("\n\n" + contractEvent))
	f.Add([]byte("not json\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := tempPath(t)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := audit.Open(audit.Options{Path: path, Capacity: 1 << 20})
		if err != nil {
			return
		}
		n := l.Len()
		if _, err := l.Append(audit.Event{Type: audit.TypeLogin}); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l, err = audit.Open(audit.Options{Path: path, Capacity: 1 << 20})
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer l.Close()
		if l.Len() != n+1 {
			t.Fatalf("Len %d after one Append to %d events", l.Len(), n)
		}
	})
}
