package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConfigAPI_AnEntryExpiredAtTheEpochIsNotForever: an access entry's
// expires is kept as Unix nanoseconds, and 0 means "no expires". So
// expires 1970-01-01T00:00:00Z, which has passed on every clock the IdP
// can be set to, was taken for none: the entry granted its scopes for
// ever, with no warning (a nanosecond later it was expired, as it should).
// It is refused, naming the time, as a time out of range is.
func TestConfigAPI_AnEntryExpiredAtTheEpochIsNotForever(t *testing.T) {
	p := editable(t)
	for _, at := range []string{"1970-01-01T00:00:00Z", "1970-01-01T01:00:00+01:00", "1970-01-01T00:00:00.000Z"} {
		resp, out := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice",
			`[{"users":["bob"],"scopes":["files.read"],"expires":"`+at+`"}]`)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), at) {
			t.Errorf("expires %s: %d %s, want 400 naming it", at, resp.StatusCode, out)
		}
	}
	resp, out := p.send(t, http.MethodPut, "/admin/api/servers/files/access", "alice",
		`[{"users":["bob"],"scopes":["files.read"],"expires":"1970-01-01T00:00:01Z"}]`)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("expires a second after the epoch: %d %s, want 200", resp.StatusCode, out)
	}
}
