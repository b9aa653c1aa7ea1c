package strictjson_test

import (
	"strings"
	"testing"

	"github.com/xaa-idp/xaa-idp/internal/strictjson"
)

func TestCheck(t *testing.T) {
	deep := strings.Repeat("[", strictjson.MaxDepth+2) + strings.Repeat("]", strictjson.MaxDepth+2)
	for _, c := range []struct {
		body        string
		nullMembers bool
		want        string // "" for accepted, else part of the error
	}{
		{`{"a": 1, "b": [1, 2]}`, false, ""},
		{`null`, true, "the body is null"},
		{`[1, null]`, true, "[1] is null"},
		{`{"a": null}`, false, "a is null"},
		{`{"a": null}`, true, ""},
		{`{"a": 1, "a": 2}`, false, `the key "a" twice`},
		{`{"a": {"b": 1, "B": 2}}`, false, `a has the key "B" twice`},
		// encoding/json matches keys as bytes.EqualFold does: ſ is s, the
		// Kelvin sign is k.
		{`{"s": 1, "\u017f": 2}`, false, "twice"},
		{`{"\u212a": 1, "K": 2}`, false, "twice"},
		{`{"\u0131": 1, "i": 2}`, false, ""},
		{`{"a": 1} {"b": 2}`, false, "more than one JSON value"},
		{`{"a": `, false, "not JSON"},
		{deep, false, "nests deeper"},
	} {
		err := strictjson.Check([]byte(c.body), strictjson.Options{NullMembers: c.nullMembers})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%.40s: %v, want accepted", c.body, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%.40s: %v, want an error with %q", c.body, err, c.want)
		}
	}
}

func TestDecode_RefusesUnknownKeys(t *testing.T) {
	var v struct {
		Server string `json:"server"`
	}
	if err := strictjson.Decode([]byte(`{"server": "crm", "sever": "x"}`), &v, strictjson.Options{}); err == nil || !strings.Contains(err.Error(), `unknown field "sever"`) {
		t.Errorf("got %v, want the unknown field named", err)
	}
	if err := strictjson.Decode([]byte(`{"server": "crm"}`), &v, strictjson.Options{}); err != nil || v.Server != "crm" {
		t.Errorf("got %v, %+v", err, v)
	}
}
