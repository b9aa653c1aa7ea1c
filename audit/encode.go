package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
)

// The line encoder. Every append encodes one event, and encoding/json's reflection over Event
// (with the wrapper that puts "time" first) cost more CPU than the rest of Append in memory; this
// writes the same bytes by hand. encode_test.go checks it byte for byte against encoding/json,
// Details of strings only are written by hand too; others (arbitrary values, rare) still go
// through encoding/json.

// appendJSON appends e's line (without the newline) to b: the fields in Event's order with
// Event's JSON names and omitempty rules, "time" first in TimeLayout, strings escaped as
// encoding/json does with SetEscapeHTML(false), and the invisible characters too (appendString). If sp is not nil, it records where in the line
// (offsets from len(b) on entry) the fields the index filters on were written.
func (e *Event) appendJSON(b []byte, sp *spans) ([]byte, error) {
	t := e.Time.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("audit: event time %v: year outside [0,9999]", e.Time)
	}
	base := len(b)
	var s spans
	b = append(b, `{"time":"`...)
	b = appendTime(b, t)
	b = append(b, `","id":`...)
	b, s.id = appendSpan(b, base, e.ID)
	b = append(b, `,"type":`...)
	b, s.typ = appendSpan(b, base, e.Type)
	if e.Tenant != "" {
		b = append(b, `,"tenant":`...)
		b, s.tenant = appendSpan(b, base, e.Tenant)
	}
	b = append(b, `,"outcome":`...)
	b, s.outcome = appendSpan(b, base, e.Outcome)
	b = appendField(b, `,"error":`, e.Error)
	if e.User != "" {
		b = append(b, `,"user":`...)
		b, s.user = appendSpan(b, base, e.User)
	}
	b = appendField(b, `,"sub":`, e.Sub)
	if e.ClientID != "" {
		b = append(b, `,"client_id":`...)
		b, s.client = appendSpan(b, base, e.ClientID)
	}
	if e.Server != "" {
		b = append(b, `,"server":`...)
		b, s.server = appendSpan(b, base, e.Server)
	}
	b = appendField(b, `,"audience":`, e.Audience)
	b = appendField(b, `,"resource":`, e.Resource)
	b = appendField(b, `,"scope_requested":`, e.ScopeRequested)
	b = appendField(b, `,"scope_granted":`, e.ScopeGranted)
	b = appendField(b, `,"rule":`, e.Rule)
	b = appendField(b, `,"reason":`, e.Reason)
	b = appendField(b, `,"jti":`, e.JTI)
	b = appendField(b, `,"admin":`, e.Admin)
	b = appendField(b, `,"grant_type":`, e.GrantType)
	if e.Injected {
		b = append(b, `,"injected":true`...)
	}
	if len(e.Details) > 0 && appendStringDetails(&b, e.Details) {
		// written
	} else if len(e.Details) > 0 {
		// A value at a time, keys sorted as encoding/json sorts a map's, so that the index learns
		// where details.users is (the users a change named, which ?user= finds).
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		b = append(b, `,"details":{`...)
		for i, k := range slices.Sorted(maps.Keys(e.Details)) {
			buf.Reset()
			if err := enc.Encode(e.Details[k]); err != nil {
				return nil, fmt.Errorf("audit: encoding %s event: %w", e.Type, err)
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, k), ':')
			start := len(b)
			b = append(b, jsonstr.EscapeInvisible(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))...)
			if k == "users" {
				s.users = span{uint32(start - base), uint32(len(b) - start)}
			}
		}
		b = append(b, '}')
	}
	if sp != nil {
		*sp = s
	}
	return append(b, '}'), nil
}

// appendTime appends t, in UTC with a year in [0,9999], in TimeLayout: what t.AppendFormat(b,
// TimeLayout) appends, without parsing the layout for every event.
func appendTime(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// appendSpan appends s as a JSON string and returns where it went, relative to base.
func appendSpan(b []byte, base int, s string) ([]byte, span) {
	start := len(b)
	b = appendString(b, s)
	return b, span{uint32(start - base), uint32(len(b) - start)}
}

// lineSize is a capacity that holds e's line unless its strings need escaping or it has Details.
func (e *Event) lineSize() int {
	n := 320 // names, punctuation and the time
	for _, p := range e.texts() {
		n += len(*p)
	}
	return n
}

// appendField appends name and s, unless s is empty (omitempty).
func appendField(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, name...), s)
}

// appendStringDetails appends d as the details field, keys sorted as encoding/json sorts them,
// when every value in d is a string, and reports whether it did: the usual details, written
// without encoding/json's reflection.
func appendStringDetails(b *[]byte, d map[string]any) bool {
	var few [8]string
	keys := few[:0]
	for k, v := range d {
		if _, ok := v.(string); !ok {
			return false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := append(*b, `,"details":{`...)
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ':')
		out = appendString(out, d[k].(string))
	}
	*b = append(out, '}')
	return true
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does without HTML escaping,
// but with the characters that reorder or hide text in a terminal (bidi controls, zero-width
// characters, C1 controls: jsonstr.Invisible) escaped as \uXXXX, so that tail -f or grep of the
// file shows every event as a JSON reader reads it.
func appendString(b []byte, s string) []byte { return jsonstr.AppendVisible(b, s) }
