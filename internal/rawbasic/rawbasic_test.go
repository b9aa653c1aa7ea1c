package rawbasic_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/rawbasic"
)

// cut returns the credentials as net/http's Request.BasicAuth cuts them.
func cut(t *testing.T, credentials string) (id, secret string) {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/token", nil)
	r.Header.Set("Authorization", "Basic "+b64(credentials))
	id, secret, ok := r.BasicAuth()
	if !ok {
		t.Fatalf("net/http reads no Basic credentials in %q", credentials)
	}
	return id, secret
}

func TestSplit(t *testing.T) {
	clients := map[string]bool{"urn:acme:agent": true, "urn:acme": true, "https://app.example/client.json": true, "a%3Ab": true, "x:y": true, "plain": true}
	known := func(id string) bool { return clients[id] }
	tests := []struct {
		name, credentials  string
		wantID, wantSecret string
		wantOK             bool
	}{
		{"a client_id with ':' sent as it is", "urn:acme:agent:p:w+d%/=", "urn:acme:agent", "p:w+d%/=", true},
		{"the secret is left as sent", "urn:acme:agent:a%2Bb", "urn:acme:agent", "a%2Bb", true},
		{"a URL", "https://app.example/client.json:s3cret", "https://app.example/client.json", "s3cret", true},
		{"an empty secret (a public client)", "https://app.example/client.json:", "https://app.example/client.json", "", true},
		{"the longest client_id wins", "urn:acme:agent:s", "urn:acme:agent", "s", true},
		{"a client before the first ':' keeps it", "plain:a:b", "", "", false},
		{"a client before the first ':', form-URL-decoded, keeps it", "a%3Ab:c:d", "", "", false},
		{"no ':' in the secret: nothing to split", "urn:secret", "", "", false},
		{"no prefix names a client", "urn:other:agent:s", "", "", false},
		{"a client_id that is itself cut at its own first ':'", "x:y:z", "x:y", "z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret := cut(t, tt.credentials)
			gotID, gotSecret, ok := rawbasic.Split(id, secret, known)
			if gotID != tt.wantID || gotSecret != tt.wantSecret || ok != tt.wantOK {
				t.Errorf("Split(%q, %q) = %q, %q, %v; want %q, %q, %v", id, secret, gotID, gotSecret, ok, tt.wantID, tt.wantSecret, tt.wantOK)
			}
		})
	}
}

// TestSplit_TriesNoClientIDLongerThanTheBound: every prefix of a header
// of tens of kilobytes of ':' was built and looked up, each as long as the
// header: about a gigabyte of copies for one request anyone may send. No
// prefix longer than MaxClientIDBytes is looked up, and one that long is.
func TestSplit_TriesNoClientIDLongerThanTheBound(t *testing.T) {
	id, secret := cut(t, "urn"+strings.Repeat(":", 48<<10))
	var tries, longest int
	rawbasic.Split(id, secret, func(c string) bool {
		tries++
		longest = max(longest, len(c))
		return false
	})
	if longest != rawbasic.MaxClientIDBytes || tries > rawbasic.MaxClientIDBytes+2 {
		t.Errorf("looked up %d client_ids, the longest of %d bytes; want at most %d, none longer than %d bytes", tries, longest, rawbasic.MaxClientIDBytes+2, rawbasic.MaxClientIDBytes)
	}

	long := "urn:" + strings.Repeat("a", rawbasic.MaxClientIDBytes-len("urn:"))
	id, secret = cut(t, long+":s")
	if got, s, ok := rawbasic.Split(id, secret, func(c string) bool { return c == long }); got != long || s != "s" || !ok {
		t.Errorf("a client_id of MaxClientIDBytes: %d bytes, %q, %v; want it found", len(got), s, ok)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestSplit_BuildsOneCandidateBuffer: each client_id looked up was a copy
// of its own, up to MaxClientIDBytes long: a header of ':' cost about two
// thousand allocations, two megabytes, for one request anyone may send.
// The candidates are prefixes of one copy of the credentials.
func TestSplit_BuildsOneCandidateBuffer(t *testing.T) {
	id, secret := cut(t, "urn"+strings.Repeat(":", 48<<10))
	tries := 0
	allocs := testing.AllocsPerRun(10, func() {
		rawbasic.Split(id, secret, func(string) bool { tries++; return false })
	})
	if tries < rawbasic.MaxClientIDBytes {
		t.Fatalf("looked up %d client_ids in 11 runs, want about %d a run", tries, rawbasic.MaxClientIDBytes)
	}
	if allocs > 4 {
		t.Errorf("%.0f allocations for the client_ids of a header of ':', want one copy of the credentials", allocs)
	}
}
