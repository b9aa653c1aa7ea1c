package audit

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// FuzzDecodeLine checks the index's decoder against encoding/json on every line the encoder
// writes for an event that Open could load (bounded, as loadTail bounds it).
func FuzzDecodeLine(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-25T18:00:00.000Z","id":"a","type":"login","outcome":"allowed","user":"al\"ice","injected":true}`))
	f.Add([]byte(`{"time":"2026-11-25T19:00:00.5+01:00","id":"x","details":{"before":["a\u2028"],"n":1.5,"m":{"k":null}}}`))
	f.Add([]byte(`{"id":"\ufffd\\","tenant":"t","client_id":"c\n","server":"<s>","reason":"\u0001","grant_type":"g","jti":"j"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Event
		if json.Unmarshal(data, &e) != nil {
			return
		}
		e.bound()
		e.Details = boundGeneric(e.Details)
		e.Time = time.Time{}
		line, err := e.appendJSON(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want, got Event
		if err := want.UnmarshalJSON(line); err != nil {
			t.Fatalf("encoding/json on %s: %v", line, err)
		}
		if err := decodeLine(line, &got); err != nil {
			t.Fatalf("decodeLine(%s): %v", line, err)
		}
		got.Time = want.Time
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeLine(%s)\n got %#v\nwant %#v", line, got, want)
		}
	})
}
