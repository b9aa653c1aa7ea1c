// Package strictjson reads request bodies that must say exactly what they
// mean. encoding/json alone takes a null body as "empty" (and a change
// built from it wipes what it replaces), lets the last of two equal keys
// win silently, and ignores keys the target lacks; the admin API and the
// IdP's JSON endpoints refuse all three, with a message naming the place.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
)

// MaxDepth bounds how deeply a body's JSON may nest: the product's deepest
// values (a user's claims in a configuration change) are a few levels down.
const MaxDepth = 64

// Options say what Check accepts beyond its fixed rules.
type Options struct {
	// NullMembers accepts null as an object member's value, where it
	// means "absent" (a Client ID Metadata Document's optional members;
	// the admin API refuses it, docs/http.md). null is never accepted as
	// the body itself or as a list element.
	NullMembers bool
	// Numbers decodes the numbers of free-form values (an any) as
	// json.Number, the text sent, rather than float64, which holds a
	// whole number of more than 53 bits only approximately.
	Numbers bool
}

// Check reports whether data is exactly one JSON value, nested at most
// MaxDepth levels, not null, with no null list element, no key twice in
// any object (keys that differ only in case count as the same key, since
// encoding/json matches fields without regard to case, as bytes.EqualFold
// does: "ſ" is "s" and the Kelvin sign "k"), and null members only when
// o.NullMembers.
func Check(data []byte, o Options) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := o.walk(dec, "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the body holds more than one JSON value")
	}
	return nil
}

// Decode checks data as Check does, then decodes it into v, refusing keys
// v does not have.
func Decode(data []byte, v any, o Options) error {
	if err := Check(data, o); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if o.Numbers {
		dec.UseNumber()
	}
	if err := dec.Decode(v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return typeError(te)
		}
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// typeError says which key has a value of the wrong kind and what belongs
// there, in the body's terms: encoding/json says "cannot unmarshal string
// into Go struct field User.groups of type []string", naming the
// product's Go types. Go gives the key's path without list indexes, and
// for a list's element the element's type: "groups has a number where a
// string belongs" is a list element.
func typeError(te *json.UnmarshalTypeError) error {
	got, _, _ := strings.Cut(te.Value, " ") // "number 1e99": the kind alone
	t := te.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return fmt.Errorf("%s has %s where %s belongs", where(te.Field), kindOf(got), want(t))
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// kindOf is a JSON kind as Go names it ("array"), as the body's
// documentation does.
func kindOf(value string) string {
	switch value {
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a " + value
}

// want is what a value of type t is written as in JSON.
func want(t reflect.Type) string {
	if t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, not negative"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if e := want(t.Elem()); strings.HasPrefix(e, "a ") && !strings.Contains(e, ",") {
			return "a list of " + strings.TrimPrefix(e, "a ") + "s"
		}
		return "a list"
	}
	return "an object"
}

// walk reads one value from dec; path names it in errors ("" is the body).
func (o Options) walk(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF && path == "" {
			return errors.New("the body is empty; send a JSON value")
		}
		return notJSON(err)
	}
	if depth > MaxDepth {
		return fmt.Errorf("%s nests deeper than %d levels", where(path), MaxDepth)
	}
	switch tok {
	case nil:
		if path == "" || strings.HasSuffix(path, "]") || !o.NullMembers {
			return fmt.Errorf("%s is null; send the value itself (an empty list is [], an absent key is left out)", where(path))
		}
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return notJSON(err)
			}
			key, _ := k.(string)
			folded := fold(key)
			if seen[folded] {
				return fmt.Errorf("%s has the key %q twice; send each key once", where(path), key)
			}
			seen[folded] = true
			if err := o.walk(dec, path+"."+key, depth+1); err != nil {
				return err
			}
		}
		return closing(dec)
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := o.walk(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return closing(dec)
	}
	return nil
}

// fold returns key with every rune replaced by the least of its Unicode
// simple case folding orbit, so that fold(a) == fold(b) exactly when
// strings.EqualFold(a, b): strings.ToLower leaves "ſ" (U+017F), which
// encoding/json takes for "s".
func fold(key string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, key)
}

func closing(dec *json.Decoder) error {
	if _, err := dec.Token(); err != nil {
		return notJSON(err)
	}
	return nil
}

// notJSON is the refusal of a body the decoder cannot read: a body cut
// short is said to be so, rather than Go's "EOF" or "unexpected EOF".
func notJSON(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("the body is not JSON: it ends before its value is complete (a closing ], } or quote is missing)")
	}
	return fmt.Errorf("the body is not JSON: %w", err)
}

// where names a place in the body for an error.
func where(path string) string {
	if path == "" {
		return "the body"
	}
	return strings.TrimPrefix(path, ".")
}
