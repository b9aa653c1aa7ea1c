package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
)

// stringDetailsCases are Details of string values only, as the token
// exchange writes on every issued ID-JAG (client_id_at_server,
// subject_token_type, cnf_jkt), and texts that make JSON escape or the
// bound cut.
var stringDetailsCases = []map[string]any{
	{"client_id_at_server": "mcp-client-at-tracker", "subject_token_type": "urn:ietf:params:oauth:token-type:id_token"},
	{"cnf_jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", "client_id_at_server": "x", "subject_token_type": ""},
	{"b": "<&>\"\\\n\t\u2028\u2029é", "a\"<": "ctl \x01\x1f", "": "empty key"},
	{"bad": "not utf-8 \xff\xfe", "k\xff": "v"},
	{"reason\u202e": "a\u2066b\u200b", "c1": "\u009b"},
	{"long": strings.Repeat("ab", 400), strings.Repeat("k", 600): "long key", strings.Repeat("k", 601): "other"},
}

// TestStringDetails_SameLineAsEncodingJSON: the audit line of an event
// whose Details hold only strings is byte for byte what the generic path
// (json.Marshal, decode, bound, encoding/json) writes.
func TestStringDetails_SameLineAsEncodingJSON(t *testing.T) {
	for i, d := range stringDetailsCases {
		ev := Event{Time: time.Unix(1796441164, 0), ID: "id", Type: TypeTokenExchange, Outcome: "allowed"}
		fast := ev
		fastD, err := boundDetails(d)
		if err != nil {
			t.Fatal(err)
		}
		fast.Details = fastD
		got, err := fast.appendJSON(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The generic path, as before: through JSON's generic form and encoding/json.
		raw, _ := json.Marshal(d)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var generic map[string]any
		if err := dec.Decode(&generic); err != nil {
			t.Fatal(err)
		}
		slow := ev
		slow.Details = boundGeneric(generic)
		head, err := (&Event{Time: ev.Time, ID: ev.ID, Type: ev.Type, Outcome: ev.Outcome}).appendJSON(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(slow.Details); err != nil {
			t.Fatal(err)
		}
		want := string(head[:len(head)-1]) + `,"details":` + string(jsonstr.EscapeInvisible(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))) + "}"
		if string(got) != want {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestStringDetails_FewAllocations: every issued ID-JAG's event has
// string Details; bounding and encoding them must not go through
// encoding/json (which cost the exchange some 40 allocations, 97 -> 140
// in BenchmarkExchange).
func TestStringDetails_FewAllocations(t *testing.T) {
	d := stringDetailsCases[0]
	ev := Event{Time: time.Unix(1796441164, 0), ID: "id", Type: TypeTokenExchange, Outcome: "allowed"}
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(200, func() {
		e := ev
		bd, err := boundDetails(d)
		if err != nil {
			t.Fatal(err)
		}
		e.Details = bd
		if _, err := e.appendJSON(buf[:0], nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 6 {
		t.Errorf("bounding and encoding two string details: %.0f allocations, want at most 6", allocs)
	}
}
