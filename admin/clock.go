package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
)

// ClockState is the answer of GET and PUT /admin/api/clock.
type ClockState struct {
	Time   time.Time `json:"time"`
	Frozen bool      `json:"frozen"`
	// Offset is how far the IdP's clock is from the wall clock, as a Go
	// duration ("0s" for the wall clock).
	Offset string `json:"offset"`
}

// ClockChange is the body of PUT /admin/api/clock. Every member is
// optional, at least one is required; they apply in the order frozen,
// time, advance, so {"frozen": true, "time": T} stops the clock at exactly T.
type ClockChange struct {
	Frozen  *bool   `json:"frozen,omitempty"`
	Time    *string `json:"time,omitempty"`    // RFC 3339
	Advance *string `json:"advance,omitempty"` // Go duration such as 5m or -1h
}

func (a *API) clockState() ClockState {
	c := a.idp.Clock()
	return ClockState{Time: c.Now().UTC(), Frozen: c.Frozen(), Offset: c.Offset().Round(time.Millisecond).String()}
}

func (a *API) getClock(w http.ResponseWriter, _ *http.Request) {
	writeAPI(w, http.StatusOK, a.clockState())
}

// maxClockBody bounds a PUT /admin/api/clock body, a few short members.
const maxClockBody = 4096

// putClock sets, advances, freezes or unfreezes the IdP's clock and
// records the change as an admin_change.
func (a *API) putClock(w http.ResponseWriter, r *http.Request) {
	var ch ClockChange
	raw, ok := readBody(w, r, maxClockBody)
	if !ok {
		return
	}
	if err := decodeStrict(raw, &ch); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", `send a JSON object with "time" (RFC 3339), "advance" (a duration such as 5m) and/or "frozen" (true or false): `+err.Error())
		return
	}
	if ch.Frozen == nil && ch.Time == nil && ch.Advance == nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", `nothing to change: send "time", "advance" or "frozen"`)
		return
	}
	var set time.Time
	var advance time.Duration
	var err error
	if ch.Time != nil {
		if set, err = time.Parse(time.RFC3339Nano, *ch.Time); err != nil {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "time must be an RFC 3339 time such as 2030-01-01T00:00:00Z (a T between date and time, and Z or an offset such as +01:00)")
			return
		}
	}
	if ch.Advance != nil {
		if advance, err = time.ParseDuration(*ch.Advance); err != nil {
			writeAPIError(w, http.StatusBadRequest, "invalid_request", "advance must be a duration such as 5m, 2h or -30s (units ns, us, ms, s, m, h; at most about 292 years)")
			return
		}
	}

	c := a.idp.Clock()
	// Where the change leads, checked before anything changes: a clock
	// outside the range would read another year (idp.CheckClockTime).
	to := c.Now()
	if ch.Time != nil {
		to = set
	}
	if err := idp.CheckClockTime(to.Add(advance)); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	before, setting := a.clockState(), c.Setting()
	var did []string
	if ch.Frozen != nil {
		if *ch.Frozen {
			c.Freeze()
			did = append(did, "frozen")
		} else {
			c.Unfreeze()
			did = append(did, "unfrozen")
		}
	}
	if ch.Time != nil {
		c.Set(set)
		did = append(did, "set to "+set.UTC().Format(time.RFC3339Nano))
	}
	if ch.Advance != nil {
		c.Advance(advance)
		did = append(did, "advanced by "+advance.String())
	}
	after := a.clockState()

	body, _ := json.Marshal(ch)
	var change map[string]any
	_ = json.NewDecoder(bytes.NewReader(body)).Decode(&change)
	ev := audit.Event{
		Time:    after.Time,
		Type:    audit.TypeAdminChange,
		Outcome: audit.Allowed,
		Admin:   adminName(r),
		Reason:  fmt.Sprintf("IdP clock %s; it now reads %s", strings.Join(did, ", "), after.Time.Format(time.RFC3339)),
		Details: map[string]any{"object": "clock", "change": change, "before": before, "after": after},
	}
	if _, err := a.idp.Audit().Append(ev); err != nil {
		// Not without its event, as no other admin change is made.
		c.Restore(setting)
		writeAPIError(w, http.StatusInternalServerError, "server_error", a.idp.Audit().Refused(err).Describe("the clock was not changed"))
		return
	}
	a.clockMovedElsewhere(ev, did)
	writeAPI(w, http.StatusOK, after)
}

// clockMovedElsewhere records ev, a change of the clock this tenant's
// admin made, in the audit of every other tenant, whose tokens and
// time-bound access it moves as well: their admins would otherwise see
// them expire with no event. Each names the tenant (details.by_tenant)
// and admin who made it. The change is made and this tenant's event
// written: one that cannot be written is logged (the log is shared, so
// its failure shows at /healthz).
func (a *API) clockMovedElsewhere(ev audit.Event, did []string) {
	if len(a.clockShared) == 0 {
		return
	}
	by := a.idp.Tenant()
	ev.Reason = fmt.Sprintf("IdP clock %s by tenant %s's admin %s (every tenant runs on this clock); it now reads %s",
		strings.Join(did, ", "), by, ev.Admin, ev.Time.Format(time.RFC3339))
	details := ev.Details
	for _, log := range a.clockShared {
		ev.Details = maps.Clone(details)
		ev.Details["by_tenant"] = by
		if _, err := log.Append(ev); err != nil {
			slog.Error("audit log: another tenant's admin_change of the clock not written", "tenant", by, "err", err)
		}
	}
}
