package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/app"
	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/policy"
)

// startIdP serves the whole product and returns its base URL and the IdP.
func startIdP(t *testing.T) (string, *idp.Server) {
	t.Helper()
	return serveConfig(t, testConfig, "test.yaml")
}

// serveConfig serves the whole product with the configuration text, read
// as the file named file, and returns its base URL and the IdP.
func serveConfig(t *testing.T, text, file string) (string, *idp.Server) {
	t.Helper()
	cfg, err := policy.Parse([]byte(text), file)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := idp.New(idp.Options{Config: cfg, Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Handler(srv)
	ts.Start()
	t.Cleanup(ts.Close)
	return issuer, srv
}

func call(t *testing.T, method, url, user, password, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestAdminAPI_Clock(t *testing.T) {
	base, srv := startIdP(t)
	put := func(body string) (int, admin.ClockState) {
		t.Helper()
		resp, b := call(t, http.MethodPut, base+"/admin/api/clock", "alice", "alice-pw", body)
		var st admin.ClockState
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
		}
		return resp.StatusCode, st
	}

	resp, b := call(t, http.MethodGet, base+"/admin/api/clock", "alice", "alice-pw", "")
	var st admin.ClockState
	if err := json.Unmarshal(b, &st); err != nil || resp.StatusCode != http.StatusOK || st.Frozen || st.Offset != "0s" {
		t.Fatalf("GET clock: %d %s", resp.StatusCode, b)
	}

	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if code, st := put(`{"time": "2030-01-01T00:00:00Z", "frozen": true}`); code != http.StatusOK || !st.Time.Equal(at) || !st.Frozen {
		t.Fatalf("set and freeze: %d %+v", code, st)
	}
	if !srv.Now().Equal(at) {
		t.Errorf("the IdP reads %v, want %v", srv.Now(), at)
	}
	if code, st := put(`{"advance": "5m"}`); code != http.StatusOK || !st.Time.Equal(at.Add(5*time.Minute)) {
		t.Errorf("advance: %d %+v", code, st)
	}
	if code, st := put(`{"frozen": false}`); code != http.StatusOK || st.Frozen || srv.Clock().Frozen() {
		t.Errorf("unfreeze: %d %+v", code, st)
	}

	for _, bad := range []string{`{}`, `{"time": "tomorrow"}`, `{"advance": "5 minutes"}`, `{"frozen": "yes"}`, `{"speed": 2}`, `not json`} {
		if code, _ := put(bad); code != http.StatusBadRequest {
			t.Errorf("PUT %s: status %d, want 400", bad, code)
		}
	}
	if resp, _ := call(t, http.MethodPut, base+"/admin/api/clock", "bob", "bob-pw", `{"advance": "1h"}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("non-admin PUT clock: status %d, want 403", resp.StatusCode)
	}

	events := srv.Audit().Query(audit.Filter{Type: audit.TypeAdminChange})
	if len(events) != 3 {
		t.Fatalf("%d admin_change events, want 3 (set+freeze, advance, unfreeze)", len(events))
	}
	ev := events[2] // newest first: the oldest is the set
	if ev.Admin != "alice" || ev.Details["object"] != "clock" || !strings.Contains(ev.Reason, "set to 2030-01-01T00:00:00Z") || !ev.Time.Equal(at) {
		t.Errorf("admin_change event = %+v", ev)
	}
}

func TestAdminAPI_KeysRotate(t *testing.T) {
	base, srv := startIdP(t)
	resp, b := call(t, http.MethodGet, base+"/admin/api/keys", "alice", "alice-pw", "")
	var list admin.KeyList
	if err := json.Unmarshal(b, &list); err != nil || resp.StatusCode != http.StatusOK || len(list.Keys) == 0 {
		t.Fatalf("GET keys: %d %s", resp.StatusCode, b)
	}
	if resp, _ := call(t, http.MethodPost, base+"/admin/api/keys/rotate", "bob", "bob-pw", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("non-admin rotate: status %d, want 403", resp.StatusCode)
	}

	resp, b = call(t, http.MethodPost, base+"/admin/api/keys/rotate", "alice", "alice-pw", "")
	var res admin.KeyRotationResult
	if err := json.Unmarshal(b, &res); err != nil || resp.StatusCode != http.StatusOK || len(res.Rotated) == 0 {
		t.Fatalf("rotate: %d %s", resp.StatusCode, b)
	}
	if len(res.Keys) != len(list.Keys)+len(res.Rotated) {
		t.Errorf("after the rotation %d keys are published, want %d old and %d new", len(res.Keys), len(list.Keys), len(res.Rotated))
	}
	for _, r := range res.Rotated {
		evs := srv.Audit().Query(audit.Filter{Type: audit.TypeKeyRotation})
		found := false
		for _, ev := range evs {
			found = found || ev.Details["old_kid"] == r.OldKID && ev.Details["new_kid"] == r.NewKID && ev.Admin == "alice"
		}
		if !found {
			t.Errorf("no key_rotation event by alice for %s -> %s in %+v", r.OldKID, r.NewKID, evs)
		}
	}
}

// TestAdminAPI_KeysRotateRefusesABody: the rotation takes no body
// (docs/http.md), so a body, whatever it holds, is a request this call does
// not understand: 400, and no key is replaced (docs/http.md, "Changing the
// configuration").
func TestAdminAPI_KeysRotateRefusesABody(t *testing.T) {
	base, srv := startIdP(t)
	_, b := call(t, http.MethodGet, base+"/admin/api/keys", "alice", "alice-pw", "")
	for _, body := range []string{"null", `{"alg": "ES256"}`, `{"a":`, "[]"} {
		resp, rb := call(t, http.MethodPost, base+"/admin/api/keys/rotate", "alice", "alice-pw", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(rb), `"invalid_request"`) {
			t.Errorf("rotate with body %s: %d %s, want 400 invalid_request", body, resp.StatusCode, rb)
		}
	}
	if evs := srv.Audit().Query(audit.Filter{Type: audit.TypeKeyRotation}); len(evs) != 0 {
		t.Errorf("key_rotation events after refused rotations: %+v", evs)
	}
	if _, after := call(t, http.MethodGet, base+"/admin/api/keys", "alice", "alice-pw", ""); string(after) != string(b) {
		t.Errorf("keys changed by refused rotations:\nbefore %s\nafter  %s", b, after)
	}
	if resp, rb := call(t, http.MethodPost, base+"/admin/api/keys/rotate", "alice", "alice-pw", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("rotate without a body: %d %s", resp.StatusCode, rb)
	}
}

// TestAdminAPI_ClockOutOfRange: PUT /admin/api/clock refuses a time the
// clock cannot read (before 1970 or after 2261: a running clock's offset
// from the wall clock is a time.Duration, at most 292 years) with 400, and
// changes nothing, not even the frozen member of the same body; an advance
// that would take the clock there is refused alike.
func TestAdminAPI_ClockOutOfRange(t *testing.T) {
	base, srv := startIdP(t)
	for _, body := range []string{
		`{"time": "0000-01-01T00:00:00Z"}`,
		`{"time": "0000-01-01T00:00:00Z", "frozen": true}`,
		`{"time": "1969-12-31T23:59:59Z"}`,
		`{"time": "9999-01-01T00:00:00Z"}`,
		`{"frozen": true, "time": "2262-01-01T00:00:00Z"}`,
		`{"advance": "2500000h"}`,
		`{"advance": "-2500000h"}`,
		`{"time": "2261-12-31T00:00:00Z", "advance": "24h"}`,
	} {
		resp, b := call(t, http.MethodPut, base+"/admin/api/clock", "alice", "alice-pw", body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "1970") {
			t.Errorf("PUT %s: %d %s; want 400 naming the range", body, resp.StatusCode, b)
		}
		if now := srv.Now(); srv.Clock().Frozen() || time.Until(now).Abs() > time.Minute {
			t.Fatalf("after PUT %s the clock reads %v (frozen %v); want it unchanged", body, now, srv.Clock().Frozen())
		}
	}
	if resp, b := call(t, http.MethodPut, base+"/admin/api/clock", "alice", "alice-pw", `{"time": "2261-12-31T23:59:59Z"}`); resp.StatusCode != http.StatusOK {
		t.Errorf("PUT the last second of 2261: %d %s", resp.StatusCode, b)
	}
	if got := srv.Now(); got.Year() != 2261 {
		t.Errorf("the clock reads %v, want 2261-12-31", got)
	}
}
