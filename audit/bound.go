package audit

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/xaa-idp/xaa-idp/internal/redact"
)

// MaxTextBytes is the most bytes any string in a recorded event may hold: every string field,
// and every key and string value in Details at any depth. Much of an event comes from the
// request (a username, a client_id, a resource URI, a scope string), and a client can send
// megabytes; without a bound, each refused request would cost that much disk and memory, and
// the console would render it. [Truncate] applies the bound.
const MaxTextBytes = 512

// MaxDetailsKeys is the most keys and array elements an event's Details may hold, counted over
// every level of nesting. Beyond it, the rest are dropped and Details gets one more key,
// [TruncatedKey], saying how many. Details' own keys are kept smallest value first, so that the
// cut falls in its largest members.
const MaxDetailsKeys = 256

// TruncatedKey is the Details key that says how many keys and elements were dropped to keep
// Details within MaxDetailsKeys.
const TruncatedKey = "_truncated"

// Truncate returns s as valid UTF-8 of at most MaxTextBytes bytes, with every token in it
// redacted (RedactTokens). A longer s is cut at a rune
// boundary and ends with a marker saying how many bytes were cut, such as
// "…[truncated 59488 bytes]", the marker included in the MaxTextBytes. Invalid UTF-8 is
// replaced with U+FFFD first, as encoding/json would replace it on the way to the file, so the
// event held in memory is the one a reopened log reads back.
//
// Append applies it to every string of an event; it is exported so that other records of the
// same request (the IdP's log lines) can apply the same rule.
func Truncate(s string) string { return TruncateTo(s, MaxTextBytes) }

// TruncateTo is Truncate with a bound of limit bytes (at least 64) instead of MaxTextBytes: for
// text that is not an audit field, such as an error description that quotes what a client sent.
// It is redact.TruncateTo, which the resource side can use too.
func TruncateTo(s string, limit int) string { return redact.TruncateTo(s, limit) }

// bound applies Truncate to every string field of e. Its Details are bounded separately, by
// boundDetails, because they first have to be brought to JSON's generic form.
func (e *Event) bound() {
	for _, p := range e.texts() {
		*p = Truncate(*p)
	}
}

// texts lists pointers to every string field of e, for bound and lineSize.
func (e *Event) texts() [18]*string {
	return [...]*string{&e.ID, &e.Type, &e.Outcome, &e.Error, &e.User, &e.Sub, &e.ClientID,
		&e.Server, &e.Audience, &e.Resource, &e.ScopeRequested, &e.ScopeGranted, &e.Rule,
		&e.Reason, &e.JTI, &e.Admin, &e.GrantType, &e.Tenant}
}

// boundDetails returns d in JSON's generic form (maps, slices, strings, json.Number, bools and
// nils, as encoding/json decodes them with UseNumber, so that no number loses precision), with
// every string cut by Truncate and at most MaxDetailsKeys keys and elements in all. Going
// through JSON is what lets it bound values of any type, structs included, the way they will be
// written.
func boundDetails(d map[string]any) (map[string]any, error) {
	if flat, ok := boundStrings(d); ok {
		// The usual case (a token exchange's identity chain): strings are their own generic
		// form, and the round trip through JSON would cost more than the event's encoding.
		return flat, nil
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic map[string]any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return boundGeneric(generic), nil
}

// boundStrings returns d bounded, as boundGeneric would, when every value in it is a string and
// it needs no key cut or dropped; ok is false otherwise. The copy keeps d's values that need no
// cut as they are, which spares converting them to interfaces again.
func boundStrings(d map[string]any) (map[string]any, bool) {
	if len(d) > MaxDetailsKeys {
		return nil, false
	}
	for k, v := range d {
		if _, ok := v.(string); !ok || Truncate(k) != k {
			return nil, false
		}
	}
	out := make(map[string]any, len(d))
	for k, v := range d {
		if s, cut := v.(string), Truncate(v.(string)); cut != s {
			v = cut
		}
		out[k] = v
	}
	return out, true
}

// boundGeneric bounds details already in JSON's generic form, such as those decoded from the
// file, in place, and returns them.
func boundGeneric(d map[string]any) map[string]any {
	if d == nil {
		return nil
	}
	// A marker of an earlier bound (details read back from the file) is not one of the keys it
	// bounded: counting it would cut one more element and replace the count it gives.
	marker, marked := d[TruncatedKey]
	delete(d, TruncatedKey)
	budget := MaxDetailsKeys
	// The top level's smallest members first: what a reader (or the start, settling a change
	// recorded but not written) looks up by key, such as an admin change's file, version and
	// request, is then kept, and the budget runs out in the bulk beside it (its before and after).
	keys := slices.Sorted(maps.Keys(d))
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(count(d[a]), count(d[b])) })
	d = boundMap(d, keys, &budget)
	switch {
	case budget < 0:
		d[TruncatedKey] = fmt.Sprintf("[truncated %d keys and elements]", -budget)
	case marked:
		d[TruncatedKey] = boundValue(marker, new(int(MaxDetailsKeys)))
	}
	return d
}

// boundValue truncates strings and spends one unit of *budget on each map key and array
// element; once the budget is spent, it drops the rest and counts them, as a negative budget.
// Keys are visited in sorted order, as encoding/json writes them (boundGeneric orders the top
// level by size first), so that which are kept does not depend on map iteration order.
func boundValue(v any, budget *int) any {
	switch v := v.(type) {
	case string:
		return Truncate(v)
	case map[string]any:
		return boundMap(v, slices.Sorted(maps.Keys(v)), budget)
	case []any:
		out := make([]any, 0, min(len(v), max(*budget, 0)))
		for _, e := range v {
			if *budget--; *budget < 0 {
				*budget -= count(e)
				continue
			}
			out = append(out, boundValue(e, budget))
		}
		return out
	default:
		return v
	}
}

// boundMap is boundValue of a map, its keys visited in the order of keys.
func boundMap(v map[string]any, keys []string, budget *int) map[string]any {
	out := make(map[string]any, min(len(v), max(*budget, 0)))
	for _, k := range keys {
		if *budget--; *budget < 0 {
			*budget -= count(v[k])
			continue
		}
		out[Truncate(k)] = boundValue(v[k], budget)
	}
	return out
}

// count is how many keys and elements v holds at every depth, which is what dropping it drops.
func count(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			n += 1 + count(e)
		}
	case []any:
		for _, e := range v {
			n += 1 + count(e)
		}
	}
	return n
}

// MaxLineBytes bounds the length of one event's line in the file, with room to spare: at most
// MaxDetailsKeys keys and elements, each key and string at most MaxTextBytes that JSON escapes
// to at most six bytes each, and a few dozen fields. Open takes more bytes than this after the
// last newline for no torn line (see loadTail), and reads no further back to find one.
const MaxLineBytes = 4 << 20

// RedactTokens replaces every JWT or JWE in s with its header and the marker
// "…[token redacted]" (internal/redact): a client that sends a token in the wrong parameter (as
// its client_id, a resource or a token type) must not have it recorded, and the byte bound alone
// lets a short one (an access token or a code, some 250 bytes) through whole. Applied again it
// changes nothing. Truncate and TruncateTo apply it.
func RedactTokens(s string) string { return redact.Tokens(s) }
