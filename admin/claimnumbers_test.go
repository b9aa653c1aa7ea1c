package admin_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
)

// TestConfigAPI_ClaimNumbersAreWrittenAsSent: the numbers of a user's
// claims sent to the admin API are written to the file as JSON writes
// them, which the file's reader sends back as written: 123456789 was
// written as 1.23456789e+08 (yaml.v3's form of a float), which a claim
// number must not be (policy refuses a number not sent as written), so
// the change would be refused. Strings that read as numbers in YAML 1.1
// ("1.10", "0x1f") are written quoted and stay strings.
func TestConfigAPI_ClaimNumbersAreWrittenAsSent(t *testing.T) {
	p := editable(t)
	claims := `{"emp": 123456789, "big": 1e21, "small": 0.0000001, "million": 1000000, "neg": -2.5, "zero": -0,` +
		` "id": 12345678901234567890, "nested": [{"n": 9007199254740993}],` +
		` "v": "1.10", "h": "0x1f", "u": "1_000", "i": ".inf", "e": "1e3"}`
	resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", `{"username": "bob", "password": "bob-pw", "claims": `+claims+`}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %.500s", resp.StatusCode, body)
	}
	file := readFile(t, p.file)
	for _, want := range []string{"emp: 123456789", "million: 1000000", "small: 1e-7", "id: 12345678901234567890", "9007199254740993"} {
		if !strings.Contains(file, want) {
			t.Errorf("the file lacks %q:\n%s", want, file)
		}
	}
	_, body = p.send(t, http.MethodGet, "/admin/api/users/bob", "alice", nil)
	var got struct{ Claims map[string]any }
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	sent, _ := json.Marshal(got.Claims)
	if want := `{"big":1e+21,"e":"1e3","emp":123456789,"h":"0x1f","i":".inf","id":12345678901234567890,"million":1000000,"neg":-2.5,"nested":[{"n":9007199254740993}],"small":1e-7,"u":"1_000","v":"1.10","zero":0}`; string(sent) != want {
		t.Errorf("claims = %s, want %s", sent, want)
	}
}

// TestConfigAPI_ClaimNumberEditedOnDiskNotAsSentKeepsThePolicy: a file
// edited by hand to give a claim a number YAML reads otherwise than
// written (version: 1.10, sent as 1.1) is refused at its line, and the
// running policy stays.
func TestConfigAPI_ClaimNumberEditedOnDiskNotAsSentKeepsThePolicy(t *testing.T) {
	p := editable(t)
	defer p.store.Watch(5 * time.Millisecond)()
	running := p.srv.Config()
	broken := strings.Replace(editConfig, "    password: bob-pw\n", "    password: bob-pw\n    claims: {version: 1.10}\n", 1)
	if _, err := atomicfile.Write(p.file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refused reload", func() bool { return len(p.events(t, audit.TypeConfigReload)) > 0 })
	e := p.events(t, audit.TypeConfigReload)[0]
	if want := `users[1].claims.version: 1.10 reads as the number 1.1; quote it ("1.10") to send the text, or write 1.1`; e.Outcome != audit.Error || !strings.Contains(e.Reason, want) {
		t.Errorf("event = %+v, want the reason %s", e, want)
	}
	if p.srv.Config() != running {
		t.Error("the refused file changed the running policy")
	}
}

// TestConfigAPI_ClaimWholeNumberTooLargeIsInvalidConfig: a claim's whole
// number beyond 64 bits (which the file's reader refuses, since it would
// read back as a float) is the client's mistake, refused 400 at its line
// with the reader's advice; it was a 500 "cannot be written as YAML". So
// is one sent in exponent form below 1e21, which JSON writes as digits
// (2e19, -2.5e20): until 2026-12-06 a 500 too.
func TestConfigAPI_ClaimWholeNumberTooLargeIsInvalidConfig(t *testing.T) {
	p := editable(t)
	before := readFile(t, p.file)
	for _, n := range []string{"123456789012345678901234567890", "-123456789012345678901234567890", "18446744073709551616", "2e19", "-2.5e20", "1.8446744073709552e19"} {
		resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", `{"username": "bob", "password": "bob-pw", "claims": {"n": `+n+`}}`)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_config") || !strings.Contains(string(body), "too large to hold exactly") {
			t.Errorf("claim %s: %d %.500s, want 400 invalid_config naming a number too large", n, resp.StatusCode, body)
		}
	}
	if readFile(t, p.file) != before {
		t.Error("a refused change was written")
	}
}

// TestConfigAPI_MergeKeyTextIsWrittenAsText: "<<" sent as text (a claim's
// key or value, a name) is written quoted and reads back as that text.
// yaml.v3 writes the string "<<" as the merge key (!!merge <<), so a claim
// key "<<" was a 500 and a value "<<" refused as an unsupported tag.
func TestConfigAPI_MergeKeyTextIsWrittenAsText(t *testing.T) {
	p := editable(t)
	resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice",
		`{"username": "bob", "password": "bob-pw", "name": "<<", "claims": {"<<": 1, "v": "<<", "m": {"<<": {"a": "<<"}}, "l": ["<<"]}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %.500s", resp.StatusCode, body)
	}
	_, body = p.send(t, http.MethodGet, "/admin/api/users/bob", "alice", nil)
	var got struct {
		Name   string
		Claims map[string]any
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	_ = json.Unmarshal([]byte(`{"<<":1,"l":["<<"],"m":{"<<":{"a":"<<"}},"v":"<<"}`), &want)
	if !reflect.DeepEqual(got.Claims, want) || got.Name != "<<" {
		t.Errorf("name %q, claims = %v, want \"<<\" and %v", got.Name, got.Claims, want)
	}
}

// TestConfigAPI_ClaimTextWithLineBreaksIsKept: a claim's text with line
// breaks reads back as sent. yaml.v3 wrote "\n" as a block that read back
// as "", dropped the first of "\n\n", and a leading U+2029 (a line break
// to YAML), so the admin API changed what an admin sent, silently.
func TestConfigAPI_ClaimTextWithLineBreaksIsKept(t *testing.T) {
	p := editable(t)
	claims := `{"a": "\n", "b": "\n\nx", "c": "\u2029x\n", "d": ["\n"], "e": {"f": "\r\n\u0085\u2028"}, "g": {"\nx": 1, "\n": 2, "y": 3}}`
	resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", `{"username": "bob", "password": "bob-pw", "claims": `+claims+`}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %.500s", resp.StatusCode, body)
	}
	_, body = p.send(t, http.MethodGet, "/admin/api/users/bob", "alice", nil)
	var got struct{ Claims map[string]any }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	_ = json.Unmarshal([]byte(claims), &want)
	if !reflect.DeepEqual(got.Claims, want) {
		t.Errorf("claims = %q, want %q", got.Claims, want)
	}
}

// TestConfigAPI_ClaimNumberBeyondAFloatIsNamedAsSent: a claim number beyond
// a float (1e400) is refused 400 at its line naming the number as sent;
// it was written .inf, and the refusal named ".inf", which no one sent.
func TestConfigAPI_ClaimNumberBeyondAFloatIsNamedAsSent(t *testing.T) {
	p := editable(t)
	before := readFile(t, p.file)
	for _, n := range []string{"1e400", "-2.5E+999"} {
		resp, body := p.send(t, http.MethodPut, "/admin/api/users/bob", "alice", `{"username": "bob", "password": "bob-pw", "claims": {"n": `+n+`}}`)
		want := n + ` is a number beyond what a float holds`
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_config") || !strings.Contains(string(body), want) {
			t.Errorf("claim %s: %d %.500s, want 400 invalid_config saying %s", n, resp.StatusCode, body, want)
		}
	}
	if readFile(t, p.file) != before {
		t.Error("a refused change was written")
	}
}
