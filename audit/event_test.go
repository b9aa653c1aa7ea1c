package audit_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
)

// contractEvent is the first example of docs/audit.md, with its elided IDs filled in.
const contractEvent = `{"time":"2026-11-25T18:00:00.000Z","id":"019abc0000000000deadbeef","type":"token_exchange","outcome":"allowed",` +
	`"user":"alice","sub":"00u-alice","client_id":"mcp-client","server":"chat",` +
	`"audience":"https://as.chat.example","resource":"https://mcp.chat.example/mcp",` +
	`"scope_requested":"chat.read chat.write","scope_granted":"chat.read","rule":"chat access[1]",` +
	`"reason":"user bob is assigned chat.read","jti":"jag-123"}`

func TestEvent_ContractExampleRoundTripsByteForByte(t *testing.T) {
	var e audit.Event
	if err := json.Unmarshal([]byte(contractEvent), &e); err != nil {
		t.Fatal(err)
	}
	want := audit.Event{
		Time: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), ID: "019abc0000000000deadbeef",
		Type: audit.TypeTokenExchange, Outcome: audit.Allowed, User: "alice", Sub: "00u-alice",
		ClientID: "mcp-client", Server: "chat", Audience: "https://as.chat.example",
		Resource: "https://mcp.chat.example/mcp", ScopeRequested: "chat.read chat.write",
		ScopeGranted: "chat.read", Rule: "chat access[1]", Reason: "user bob is assigned chat.read",
		JTI: "jag-123",
	}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", e, want)
	}
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != contractEvent {
		t.Errorf("encoded\n%s\nwant\n%s", got, contractEvent)
	}
}

func TestEvent_FieldNames(t *testing.T) {
	e := audit.Event{
		Time: time.Now(), ID: "i", Type: audit.TypeAdminChange, Outcome: audit.Error, Error: "e",
		User: "u", Sub: "s", ClientID: "c", Server: "sv", Audience: "a", Resource: "r",
		ScopeRequested: "sr", ScopeGranted: "sg", Rule: "ru", Reason: "re", JTI: "j", Admin: "ad",
		GrantType: "g", Injected: true, Details: map[string]any{"before": "x"},
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	want := []string{"time", "id", "type", "outcome", "error", "user", "sub", "client_id", "server",
		"audience", "resource", "scope_requested", "scope_granted", "rule", "reason", "jti", "admin",
		"grant_type", "injected", "details"}
	if len(keys) != len(want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
}

func TestEvent_OmitsEmptyOptionalFields(t *testing.T) {
	b, err := json.Marshal(audit.Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ID: "x", Type: audit.TypeLogin, Outcome: audit.Allowed})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"time":"2026-01-02T03:04:05.000Z","id":"x","type":"login","outcome":"allowed"}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestEvent_TimeIsUTCWithMilliseconds(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), "2026-11-25T18:00:00.000Z"},
		{time.Date(2026, 11, 25, 18, 0, 0, 123456789, time.UTC), "2026-11-25T18:00:00.123Z"},
		{time.Date(2026, 11, 25, 19, 30, 0, 5e6, time.FixedZone("CET", 3600)), "2026-11-25T18:30:00.005Z"},
	}
	for _, tt := range tests {
		b, err := json.Marshal(audit.Event{Time: tt.in})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), `{"time":"`+tt.want+`"`) {
			t.Errorf("%v encoded as %s, want time %s", tt.in, b, tt.want)
		}
	}
}

func TestEvent_DecodesAnyRFC3339Time(t *testing.T) {
	var e audit.Event
	if err := json.Unmarshal([]byte(`{"time":"2026-11-25T19:00:00+01:00","id":"x"}`), &e); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC); !e.Time.Equal(want) || e.Time.Location() != time.UTC {
		t.Errorf("time %v, want %v in UTC", e.Time, want)
	}
	if err := json.Unmarshal([]byte(`{"time":"yesterday"}`), &e); err == nil {
		t.Error("bad time decoded without error")
	}
}

func TestEvent_DoesNotEscapeHTML(t *testing.T) {
	b, err := audit.Event{Reason: "groups <eng> & <ops>"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"reason":"groups <eng> & <ops>"`) {
		t.Errorf("got %s", b)
	}
}

func TestEvent_OutOfRangeYearIsAnError(t *testing.T) {
	if _, err := json.Marshal(audit.Event{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("year 10000 encoded without error")
	}
}
