package admin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAdminAPI_TimeAndDurationRefusalsInTheBodysTerms: a clock time, a
// clock advance and an audit since that cannot be read are refused 400
// invalid_request as before, saying what to write, without Go's parser
// texts (`parsing time "x" as "2006-01-02T15:04:05.999999999Z07:00":
// cannot parse "x" as "2006"`, `time: invalid duration "x"`), and since
// as the console's audit page says it.
func TestAdminAPI_TimeAndDurationRefusalsInTheBodysTerms(t *testing.T) {
	p := editable(t)
	for _, c := range []struct{ body, says string }{
		{`{"time":"x"}`, "time must be an RFC 3339 time such as 2030-01-01T00:00:00Z"},
		{`{"time":"2030-01-01 00:00:00"}`, "time must be an RFC 3339 time such as 2030-01-01T00:00:00Z"},
		{`{"advance":"x"}`, "advance must be a duration such as 5m, 2h or -30s"},
		{`{"advance":"99999999999h"}`, "advance must be a duration such as 5m, 2h or -30s"},
	} {
		status, body := p.put(t, "/admin/api/clock", []byte(c.body))
		desc := decode[apiError](t, []byte(body)).Description
		if status != http.StatusBadRequest || !strings.Contains(desc, c.says) || strings.Contains(desc, "2006") || strings.Contains(desc, "time: ") || strings.Contains(desc, "parsing") {
			t.Errorf("PUT /admin/api/clock %s: %d %q; want 400 saying %q and none of Go's parser text", c.body, status, desc, c.says)
		}
	}
	base := start(t)
	for _, since := range []string{"x", "2026-12-06Tnoon"} {
		resp, body := get(t, base, "/admin/api/audit?since="+since, "alice", "alice-pw")
		var e map[string]any
		_ = json.Unmarshal(body, &e)
		desc, _ := e["error_description"].(string)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(desc, "is neither a time (2026-11-25T18:00:00Z) nor a duration back from now (15m, 24h, 7d)") || strings.Contains(desc, "time: ") || strings.Contains(desc, "parsing") {
			t.Errorf("since=%s: %d %q; want 400 saying it is neither a time nor a duration, as the console does", since, resp.StatusCode, desc)
		}
	}
}
